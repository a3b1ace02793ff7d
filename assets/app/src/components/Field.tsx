import type { Ref } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

interface FieldProps {
  label: string;
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'password' | 'url' | 'tel';
  name?: string;
  autoComplete?: string;
  required?: boolean;
  disabled?: boolean;
  readOnly?: boolean;
  autoFocus?: boolean;
  maxLength?: number;
  /** The on-screen keyboard to offer (`numeric` for digit codes, `url` for addresses). */
  inputMode?: 'numeric' | 'text' | 'url';
  /** An example of what to type (never instead of the label or hint). */
  placeholder?: string;
  hint?: string;
  /** Validation message shown under the input; marks it aria-invalid. */
  error?: string | null;
  inputRef?: Ref<HTMLInputElement>;
}

/** A labelled text input with optional hint and error, wired up for screen readers. */
export function Field(props: FieldProps) {
  const id = useId();
  const localRef = useRef<HTMLInputElement>(null);
  const { inputRef, autoFocus } = props;

  // The autofocus attribute only works on a full page load; after an in-app
  // navigation focus the field explicitly.
  useEffect(() => {
    if (autoFocus) localRef.current?.focus();
  }, []);

  const setRef = (el: HTMLInputElement | null) => {
    localRef.current = el;
    if (typeof inputRef === 'function') inputRef(el);
    else if (inputRef) inputRef.current = el;
  };
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  // Names, passwords and codes are typed verbatim: no capitals or spelling fixes on phones.
  const verbatim =
    props.type === 'password' ||
    props.type === 'tel' || props.autoComplete === 'username' || props.autoComplete === 'one-time-code' || props.inputMode !== undefined;
  const describedBy =
    [props.hint ? hintId : null, props.error ? errorId : null].filter(Boolean).join(' ') ||
    undefined;

  return (
    <div class="field">
      <label class="field-label" for={id}>
        {props.label}
      </label>
      <input
        id={id}
        ref={setRef}
        class="input"
        // Preact's typings discriminate <input> attributes by `type` and
        // cannot check a union of types at once; any of ours is valid here.
        type={(props.type ?? 'text') as 'text'}
        name={props.name}
        value={props.value}
        onInput={(event) => props.onValue(event.currentTarget.value)}
        autoComplete={props.autoComplete}
        inputMode={props.inputMode}
        placeholder={props.placeholder}
        autoCapitalize={verbatim ? 'off' : undefined}
        spellcheck={verbatim ? false : undefined}
        required={props.required}
        disabled={props.disabled}
        readOnly={props.readOnly}
        autoFocus={autoFocus}
        maxLength={props.maxLength}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
      />
      {props.hint && (
        <p id={hintId} class="field-hint">
          {props.hint}
        </p>
      )}
      {props.error && (
        <p id={errorId} class="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}

interface TextAreaFieldProps {
  label: string;
  value: string;
  onValue: (value: string) => void;
  name?: string;
  rows?: number;
  maxLength?: number;
  readOnly?: boolean;
  hint?: string;
  /** Validation message shown under the text area; marks it aria-invalid. */
  error?: string | null;
}

/** A labelled multi-line text input, like `Field`. */
export function TextAreaField(props: TextAreaFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy =
    [props.hint ? hintId : null, props.error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label class="field-label" for={id}>
        {props.label}
      </label>
      <textarea
        id={id}
        class="input textarea"
        name={props.name}
        rows={props.rows ?? 3}
        value={props.value}
        onInput={(event) => props.onValue(event.currentTarget.value)}
        maxLength={props.maxLength}
        readOnly={props.readOnly}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
      />
      {props.hint && (
        <p id={hintId} class="field-hint">
          {props.hint}
        </p>
      )}
      {props.error && (
        <p id={errorId} class="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}
