import { useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  api,
  chatApi,
  inviteLink,
  type AdminStatus,
  type CreatedInvite,
  type ServerInfo,
  type TwoFactorPolicy,
} from '../api';
import { formatBytes, formatDuration } from '../format';
import { useChat } from '../chat/client';
import { useStore } from '../chat/store';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { CopyField } from '../components/CopyField';
import { Link } from '../components/Link';
import { Loading } from '../components/Loading';
import { PageHeading } from '../components/PageHeading';
import { describeError } from '../errors';
import { formatDateTime, getLocale, t, type MessageKey } from '../i18n';
import { ADMIN_TABS, adminPath, type AdminTab } from '../router';
import { redirectIfSignedOut, useSession } from '../session';
import { policyApplies } from '../twoFactor';
import { BotsCard } from './BotsCard';
import { AuditCard } from './admin/AuditCard';
import { ChannelsCard } from './admin/ChannelsCard';
import { LinksSection } from './admin/LinksCard';
import { SiteRetentionCard } from './admin/SiteRetentionCard';
import { UsersCard } from './admin/UsersCard';

const TAB_LABELS = {
  users: 'admin.tab.users',
  channels: 'admin.tab.channels',
  links: 'admin.tab.links',
  settings: 'admin.tab.settings',
  server: 'admin.tab.server',
  audit: 'admin.tab.audit',
} as const satisfies Record<AdminTab, MessageKey>;

/** The administration page: users, channels, linked sites, settings, the server, the audit log (`/admin/…`). */
export function AdminView({ tab = 'users' }: { tab?: AdminTab }) {
  // Bots are user accounts too: a change in either card reloads both lists.
  const [accounts, setAccounts] = useState(0);
  const changed = () => setAccounts((n) => n + 1);
  // Another section starts at its top (the main area, not the window, scrolls).
  useEffect(() => {
    document.getElementById('main')?.scrollTo?.(0, 0);
  }, [tab]);
  let content;
  switch (tab) {
    case 'channels':
      content = <ChannelsCard />;
      break;
    case 'links':
      content = <LinksSection />;
      break;
    case 'settings':
      content = (
        <>
          <TwoFactorPolicyCard />
          <SiteRetentionCard />
        </>
      );
      break;
    case 'server':
      content = <ServerCard />;
      break;
    case 'audit':
      content = <AuditCard />;
      break;
    default:
      content = (
        <>
          <InviteCard />
          <UsersCard version={accounts} onChanged={changed} />
          <BotsCard version={accounts} onChanged={changed} />
        </>
      );
  }
  return (
    <div class="page page-admin">
      <PageHeading title={t('admin.title')} docTitle={`${t(TAB_LABELS[tab])} · ${t('admin.title')}`} />
      <nav class="admin-tabs" aria-label={t('admin.tabs')}>
        {ADMIN_TABS.map((name) => (
          <Link key={name} href={adminPath(name)} class="admin-tab" current={name === tab}>
            {t(TAB_LABELS[name])}
          </Link>
        ))}
      </nav>
      {content}
    </div>
  );
}

/** Choices offered for an invitation's lifetime, in hours. */
export const INVITE_LIFETIMES = [24, 72, 168] as const;

function lifetimeLabel(hours: number): string {
  return hours % 24 === 0 && hours >= 48
    ? t('admin.invite.days', { n: hours / 24 })
    : t('admin.invite.hours', { n: hours });
}

function InviteCard() {
  const [hours, setHours] = useState<number>(72);
  const [busy, setBusy] = useState(false);
  const [invite, setInvite] = useState<CreatedInvite | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      setInvite(await api.createInvite({ expires_in_hours: hours }));
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setError(describeError(err));
    }
    setBusy(false);
  }

  return (
    <section class="card" aria-labelledby="admin-invite">
      <h2 id="admin-invite" class="card-title">
        {t('admin.invite.title')}
      </h2>
      <p class="card-meta">{t('admin.invite.intro')}</p>
      <form class="form form-inline" onSubmit={onSubmit} aria-busy={busy}>
        <div class="field">
          <label class="field-label" for="invite-lifetime">
            {t('admin.invite.validFor')}
          </label>
          <select
            id="invite-lifetime"
            class="input select"
            value={String(hours)}
            onChange={(event) => setHours(Number(event.currentTarget.value))}
          >
            {INVITE_LIFETIMES.map((h) => (
              <option key={h} value={String(h)}>
                {lifetimeLabel(h)}
              </option>
            ))}
          </select>
        </div>
        <Button type="submit" busy={busy}>
          {busy ? t('admin.invite.creating') : t('admin.invite.create')}
        </Button>
      </form>
      {error && <Alert>{error}</Alert>}
      {invite && (
        <div class="invite-result">
          <CopyField
            key={invite.token}
            label={t('admin.invite.link')}
            value={inviteLink(invite, location.origin)}
          />
          <p class="card-meta">{t('admin.invite.expires', { date: formatDateTime(invite.expires_at) })}</p>
        </div>
      )}
    </section>
  );
}

/** The choices of the two-step sign-in policy, with their labels and explanations. */
const POLICIES = [
  { value: 'off', label: 'admin.twoFactor.off', hint: 'admin.twoFactor.offHint' },
  { value: 'admins', label: 'admin.twoFactor.admins', hint: 'admin.twoFactor.adminsHint' },
  { value: 'everyone', label: 'admin.twoFactor.everyone', hint: 'admin.twoFactor.everyoneHint' },
] as const satisfies readonly { value: TwoFactorPolicy; label: MessageKey; hint: MessageKey }[];

/** Who must sign in with an authenticator app. Hidden when the server has no such setting. */
function TwoFactorPolicyCard() {
  const { user: me, setUser } = useSession();
  const [saved, setSaved] = useState<TwoFactorPolicy | null>(null);
  const [choice, setChoice] = useState<TwoFactorPolicy>('off');
  const [missing, setMissing] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    api.adminSettings().then(
      (settings) => {
        if (cancelled) return;
        setSaved(settings.two_factor_policy);
        setChoice(settings.two_factor_policy);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setLoadError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    // Requiring it of oneself before having it: the app gives way to the setup right away.
    const selfDue = policyApplies(choice, me) && !me.two_factor;
    if (selfDue && !window.confirm(t('admin.twoFactor.confirmSelf'))) return;
    setBusy(true);
    setResult(null);
    try {
      const settings = await api.updateAdminSettings({ two_factor_policy: choice });
      setSaved(settings.two_factor_policy);
      setChoice(settings.two_factor_policy);
      setResult({ ok: true, text: t('admin.twoFactor.saved') });
      if (selfDue) setUser(await api.me());
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
  } else if (saved === null) {
    body = <Loading />;
  } else {
    body = (
      <form class="form" onSubmit={onSubmit} aria-busy={busy}>
        <fieldset class="choices">
          <legend class="field-label">{t('admin.twoFactor.require')}</legend>
          {POLICIES.map((p) => (
            <label key={p.value} class="check">
              <input
                type="radio"
                name="two_factor_policy"
                value={p.value}
                checked={choice === p.value}
                onChange={() => setChoice(p.value)}
              />
              <span>
                <strong>{t(p.label)}</strong>
                <span class="field-hint">{t(p.hint)}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
        <div class="form-actions">
          <Button type="submit" busy={busy} disabled={choice === saved}>
            {busy ? t('common.saving') : t('common.save')}
          </Button>
        </div>
      </form>
    );
  }

  return (
    <section class="card" aria-labelledby="admin-two-factor">
      <h2 id="admin-two-factor" class="card-title">
        {t('admin.twoFactor.title')}
      </h2>
      {body}
    </section>
  );
}

function ServerCard() {
  const client = useChat();
  const connection = useStore(client.store, (s) => s.connection);
  const [info, setInfo] = useState<ServerInfo | null>(null);
  const [status, setStatus] = useState<AdminStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    chatApi.server().then(setInfo, (err) => setError(describeError(err)));
    // Live figures (servers without /admin/status show the basic facts only).
    const load = () => chatApi.adminStatus().then(setStatus, () => {});
    void load();
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  }, []);
  const locale = getLocale();
  const num = (n: number) => new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }).format(n);
  return (
    <section class="card" aria-labelledby="admin-server">
      <h2 id="admin-server" class="card-title">
        {t('admin.server.title')}
      </h2>
      {error && <Alert>{error}</Alert>}
      {!info && !error && <Loading />}
      {info && (
        <dl class="server-facts">
          <dt>{t('admin.server.site')}</dt>
          <dd>{info.site_name}</dd>
          <dt>{t('admin.server.version')}</dt>
          <dd class="mono">{info.version}</dd>
          <dt>{t('admin.server.fingerprint')}</dt>
          <dd class="mono">{info.ca_fingerprint}</dd>
          <dt>{t('admin.server.setup')}</dt>
          <dd>{info.needs_setup ? t('admin.server.setupPending') : t('admin.server.setupDone')}</dd>
          <dt>{t('admin.server.connection')}</dt>
          <dd>{t(`conn.${connection}`)}</dd>
          {status && (
            <>
              <dt>{t('admin.server.uptime')}</dt>
              <dd>{formatDuration(status.uptime_seconds, locale)}</dd>
              <dt>{t('admin.server.users')}</dt>
              <dd>{num(status.users)}</dd>
              <dt>{t('admin.server.connections')}</dt>
              <dd>{num(status.open_connections)}</dd>
              <dt>{t('admin.server.messages')}</dt>
              <dd>
                {t('admin.server.messagesValue', {
                  total: num(status.messages_total),
                  rate: num(status.messages_per_second),
                })}
              </dd>
              <dt>{t('admin.server.database')}</dt>
              <dd>{formatBytes(status.database_bytes, locale)}</dd>
              <dt>{t('admin.server.files')}</dt>
              <dd>{formatBytes(status.file_store_bytes, locale)}</dd>
              <dt>{t('admin.server.backup')}</dt>
              <dd>
                {status.backup_age_seconds === null
                  ? t('admin.server.backupNever')
                  : t('admin.server.ago', { time: formatDuration(status.backup_age_seconds, locale) })}
              </dd>
              <dt>{t('admin.server.certificate')}</dt>
              <dd class={status.certificate_expires_in_seconds < 14 * 86400 ? 'text-danger' : undefined}>
                {status.certificate_expires_in_seconds > 0
                  ? t('admin.server.expiresIn', { time: formatDuration(status.certificate_expires_in_seconds, locale) })
                  : t('admin.server.expired')}
              </dd>
            </>
          )}
        </dl>
      )}
    </section>
  );
}
