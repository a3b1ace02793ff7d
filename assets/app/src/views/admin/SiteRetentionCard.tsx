import { useEffect, useId, useState } from 'preact/hooks';
import { api, type AdminSettings } from '../../api';
import { daysLabel, parseDays } from '../../admin';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { redirectIfSignedOut } from '../../session';
import { DaysField } from './ChannelsCard';

/**
 * How long channels without their own setting keep messages: a number of days (0: forever), or
 * the configuration file's value. Hidden when the server has no such setting.
 */
export function SiteRetentionCard() {
  const [settings, setSettings] = useState<AdminSettings | null>(null);
  /** The configuration file's value, once seen (the server tells it only while it applies). */
  const [configDays, setConfigDays] = useState<number | null>(null);
  const [mode, setMode] = useState<'config' | 'custom'>('config');
  const [days, setDays] = useState('');
  const [invalid, setInvalid] = useState(false);
  const [missing, setMissing] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const daysId = useId();

  function show(s: AdminSettings) {
    if (typeof s.retention_days !== 'number') {
      setMissing(true);
      return;
    }
    setSettings(s);
    if (s.retention_from_config) setConfigDays(s.retention_days);
    setMode(s.retention_from_config ? 'config' : 'custom');
    setDays(s.retention_from_config ? '' : String(s.retention_days));
  }

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    api.adminSettings().then(
      (s) => {
        if (!cancelled) show(s);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        setLoadError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    let value: number | null = null;
    if (mode === 'custom') {
      value = parseDays(days);
      if (value === null) {
        setInvalid(true);
        return;
      }
    }
    setBusy(true);
    setResult(null);
    try {
      show(await api.updateAdminSettings({ retention_days: value }));
      setResult({ ok: true, text: t('admin.siteRetention.saved') });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(false);
  }

  if (missing) return null;
  let body;
  if (loadError) {
    body = (
      <>
        <Alert>{loadError}</Alert>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </>
    );
  } else if (!settings) {
    body = <Loading />;
  } else {
    body = (
      <form class="form" onSubmit={onSubmit} aria-busy={busy}>
        <p class="muted">{t('admin.siteRetention.now', { value: daysLabel(settings.retention_days ?? 0) })}</p>
        <fieldset class="choices">
          <legend class="visually-hidden">{t('admin.siteRetention.title')}</legend>
          <label class="check">
            <input type="radio" name="site_retention" value="config" checked={mode === 'config'} onChange={() => setMode('config')} />
            <span>
              {configDays === null
                ? t('admin.siteRetention.configUnknown')
                : t('admin.siteRetention.config', { value: daysLabel(configDays, true) })}
            </span>
          </label>
          <label class="check">
            <input type="radio" name="site_retention" value="custom" checked={mode === 'custom'} onChange={() => setMode('custom')} />
            <span>{t('admin.siteRetention.custom')}</span>
          </label>
        </fieldset>
        {mode === 'custom' && (
          <DaysField
            id={daysId}
            label={t('admin.siteRetention.days')}
            value={days}
            invalid={invalid}
            onValue={(v) => {
              setDays(v);
              setInvalid(false);
            }}
          />
        )}
        {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
        <div class="form-actions">
          <Button type="submit" busy={busy}>
            {busy ? t('common.saving') : t('common.save')}
          </Button>
        </div>
      </form>
    );
  }

  return (
    <section class="card" aria-labelledby="admin-retention">
      <h2 id="admin-retention" class="card-title">
        {t('admin.siteRetention.title')}
      </h2>
      <p class="card-meta">{t('admin.siteRetention.intro')}</p>
      {body}
    </section>
  );
}
