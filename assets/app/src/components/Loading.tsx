import { t } from '../i18n';

/** A polite "Loading…" indicator with a spinner. */
export function Loading({ label }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" />
      <span>{label ?? t('app.loading')}</span>
    </div>
  );
}
