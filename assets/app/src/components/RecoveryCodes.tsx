import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { RECOVERY_CODES_FILE, recoveryCodesText } from '../twoFactor';
import { Button } from './Button';
import { copyText } from './CopyField';

/** Saves `text` as a file named `name` (a Blob download; nothing leaves the browser). */
export function downloadText(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * New recovery codes, shown this once: copy them all, download them as a text file, and
 * say they are saved (`onDone`), which closes the panel. Takes the focus when it appears.
 */
export function RecoveryCodes({ codes, username, onDone }: { codes: string[]; username: string; onDone: () => void }) {
  const id = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const [status, setStatus] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  const text = recoveryCodesText(codes, [
    t('twoFactor.codes.fileTitle', { username, host: location.host }),
    t('twoFactor.codes.fileHint'),
  ]);

  return (
    <div class="recovery" role="group" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} ref={headingRef} class="recovery-title" tabIndex={-1}>
        {t('twoFactor.codes.title')}
      </h3>
      <p class="muted">{t('twoFactor.codes.intro')}</p>
      <ol ref={listRef} class="recovery-codes" aria-label={t('twoFactor.codes.list')}>
        {codes.map((code) => (
          <li key={code} class="mono">
            {code}
          </li>
        ))}
      </ol>
      <div class="form-actions">
        <Button
          variant="secondary"
          onClick={async () => {
            setStatus((await copyText(codes.join('\n'), listRef.current)) ? 'copied' : 'failed');
          }}
        >
          {t('twoFactor.codes.copyAll')}
        </Button>
        <Button variant="secondary" onClick={() => downloadText(RECOVERY_CODES_FILE, text)}>
          {t('twoFactor.codes.download')}
        </Button>
        <Button onClick={onDone}>{t('twoFactor.codes.saved')}</Button>
      </div>
      <p class={status === 'failed' ? 'field-error' : 'field-hint'} role="status">
        {status === 'copied' ? t('common.copied') : status === 'failed' ? t('common.copyFailed') : ''}
      </p>
    </div>
  );
}
