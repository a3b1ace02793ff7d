import { useEffect, useState } from 'preact/hooks';
import { ApiError, adminApi, api, chatApi, type AuditEntry } from '../../api';
import { auditDetails, auditSentence, NO_NAMES, type AuditNames } from '../../admin';
import { Alert } from '../../components/Alert';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { formatDateTime, t } from '../../i18n';

/**
 * The newest audit entries as sentences in the UI language (the event's code in small print and
 * as the tooltip), with the full log as CSV (which keeps the codes). Hidden when the server has
 * no audit log.
 */
export function AuditCard() {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [names, setNames] = useState<AuditNames>(NO_NAMES);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    chatApi.audit({ limit: 50 }).then(setEntries, (err) => {
      if (err instanceof ApiError && err.status === 404) setMissing(true);
      else setError(describeError(err));
    });
    // Names for the sentences; without them the log shows user names and ids.
    void Promise.all([api.users().catch(() => []), adminApi.channels().catch(() => [])]).then(([users, channels]) => {
      setNames({
        byUsername: new Map(users.map((u) => [u.username, u.display_name || u.username])),
        byId: new Map(users.map((u) => [u.id, u.display_name || u.username])),
        channels: new Map(channels.map((c) => [c.id, c.name ?? ''])),
      });
    });
  }, []);
  if (missing) return null;
  return (
    <section class="card" aria-labelledby="admin-audit">
      <h2 id="admin-audit" class="card-title">
        {t('admin.audit.title')}
      </h2>
      <p class="card-meta">
        {t('admin.audit.intro')}{' '}
        <a href="/api/v1/admin/audit?format=csv&limit=10000" download>
          {t('admin.audit.csv')}
        </a>
      </p>
      {error && <Alert>{error}</Alert>}
      {!entries && !error && <Loading />}
      {entries && entries.length === 0 && <p class="muted">{t('admin.audit.empty')}</p>}
      {entries && entries.length > 0 && (
        <div class="table-wrap admin-table-wrap">
          <table class="table admin-table admin-audit">
            <thead>
              <tr>
                <th scope="col">{t('admin.audit.at')}</th>
                <th scope="col">{t('audit.event')}</th>
                <th scope="col">{t('admin.audit.address')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => {
                // The server's own words (English) go in the tooltip only.
                const details = auditDetails(e);
                const code = t('audit.code', { code: e.action });
                const tip = details ? `${code}\n${details}` : code;
                return (
                  <tr key={e.id} data-action={e.action}>
                    <td class="nowrap audit-at" data-label={t('admin.audit.at')}>
                      <time dateTime={e.at}>{formatDateTime(e.at)}</time>
                    </td>
                    <td class="audit-event" data-label={t('audit.event')}>
                      <span class="audit-sentence" title={tip}>
                        {auditSentence(e, names)}
                      </span>{' '}
                      <code class="audit-code" title={tip}>
                        {e.action}
                      </code>
                    </td>
                    <td data-label={e.address ? t('admin.audit.address') : undefined} class="mono">
                      {e.address || null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
