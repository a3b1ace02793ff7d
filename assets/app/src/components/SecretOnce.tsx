import { useEffect, useId, useRef } from 'preact/hooks';
import { t } from '../i18n';
import { CA_FILE, CA_PATH } from '../integrations';
import { Button } from './Button';
import { CopyField } from './CopyField';

/**
 * A secret shown this once (a webhook's URL, a bot's API token): copy it, copy a ready-made
 * curl example, where this server's CA certificate is, and "I have copied it" (`onDone`),
 * which closes the panel. Takes the focus when it appears.
 */
export function SecretOnce({
  title,
  intro,
  label,
  secret,
  example,
  onDone,
}: {
  title: string;
  intro: string;
  label: string;
  secret: string;
  example: string;
  onDone: () => void;
}) {
  const id = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  return (
    <div class="secret-once" role="group" aria-labelledby={`${id}-title`}>
      <h4 id={`${id}-title`} ref={headingRef} class="secret-once-title" tabIndex={-1}>
        {title}
      </h4>
      <p class="muted">{intro}</p>
      <CopyField label={label} value={secret} />
      <CopyField label={t('integrations.example')} value={example} />
      <p class="field-hint">
        {t('integrations.caNote', { path: CA_PATH, file: CA_FILE })}{' '}
        <a href={CA_PATH} download={CA_FILE}>
          {t('integrations.caDownload')}
        </a>
      </p>
      <div class="form-actions">
        <Button onClick={onDone}>{t('integrations.done')}</Button>
      </div>
    </div>
  );
}
