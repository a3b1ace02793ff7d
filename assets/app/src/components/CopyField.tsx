import { useId, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { Button } from './Button';

/** Copies text; falls back to execCommand where the async Clipboard API is unavailable (plain HTTP). */
export async function copyText(text: string, fallbackInput?: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the legacy path
  }
  if (!fallbackInput) return false;
  fallbackInput.focus();
  fallbackInput.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** A read-only text box with a Copy button and a live status message. */
export function CopyField({ label, value }: { label: string; value: string }) {
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
            setStatus((await copyText(value, inputRef.current)) ? 'copied' : 'failed');
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
