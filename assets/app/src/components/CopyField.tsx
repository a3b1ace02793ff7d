import { useId, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { Button } from './Button';

/**
 * Copies text; falls back to execCommand where the async Clipboard API is unavailable (plain HTTP),
 * selecting the `fallback` element's text (an input's value, or any element's contents) to copy.
 */
export async function copyText(text: string, fallback?: HTMLElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the legacy path
  }
  if (!fallback) return false;
  if (fallback instanceof HTMLInputElement) {
    fallback.focus();
    fallback.select();
  } else {
    const range = document.createRange();
    range.selectNodeContents(fallback);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
  }
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/**
 * A read-only text box with a Copy button and a live status message. `copyValue` is what
 * the button copies when it differs from the text shown (e.g. a key shown in groups).
 */
export function CopyField({ label, value, copyValue }: { label: string; value: string; copyValue?: string }) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');

  return (
    <div class="field">
      <label class="field-label" for={id}>
        {label}
      </label>
      <div class="copy-row">
        <input
          id={id}
          ref={inputRef}
          class="input input-mono"
          type="text"
          value={value}
          readOnly
          onFocus={(event) => event.currentTarget.select()}
        />
        <Button
          variant="secondary"
          onClick={async () => {
            setStatus((await copyText(copyValue ?? value, inputRef.current)) ? 'copied' : 'failed');
          }}
        >
          {t('common.copy')}
        </Button>
      </div>
      <p class={status === 'failed' ? 'field-error' : 'field-hint'} role="status">
        {status === 'copied' ? t('common.copied') : status === 'failed' ? t('common.copyFailed') : ''}
      </p>
    </div>
  );
}
