import { useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  api,
  chatApi,
  inviteLink,
  type AdminStatus,
  type AuditEntry,
  type ChannelInfo,
  type CreatedInvite,
  type ServerInfo,
  type TwoFactorPolicy,
  type User,
} from '../api';
import { formatBytes, formatDuration } from '../format';
import { useChat } from '../chat/client';
import { useStore } from '../chat/store';
import { Alert } from '../components/Alert';
import { BotTag } from '../components/BotTag';
import { Button } from '../components/Button';
import { CopyField } from '../components/CopyField';
import { Loading } from '../components/Loading';
import { PageHeading } from '../components/PageHeading';
import { describeError } from '../errors';
import { formatDateTime, getLocale, t, type MessageKey } from '../i18n';
import { redirectIfSignedOut, useSession } from '../session';
import { policyApplies } from '../twoFactor';
import { BotsCard } from './BotsCard';
import { Avatar } from './chat/Avatar';

export function AdminView() {
  // Bots are user accounts too: a change in either card reloads both lists.
  const [accounts, setAccounts] = useState(0);
  const changed = () => setAccounts((n) => n + 1);
  return (
    <div class="page">
      <PageHeading title={t('admin.title')} />
      <InviteCard />
      <UsersCard version={accounts} onChanged={changed} />
      <BotsCard version={accounts} onChanged={changed} />
      <TwoFactorPolicyCard />
      <ChannelsCard />
      <ServerCard />
      <AuditCard />
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

function UsersCard({ version, onChanged }: { version: number; onChanged: () => void }) {
  const { user: me } = useSession();
  const [users, setUsers] = useState<User[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    api.users().then(
      (list) => {
        if (!cancelled) setUsers(list);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        setLoadError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt, version]);

  async function setDisabled(user: User, disabled: boolean) {
    const confirmKey = user.is_bot ? 'bots.confirmDisable' : 'admin.users.confirmDisable';
    if (disabled && !window.confirm(t(confirmKey, { username: user.username }))) {
      return;
    }
    setBusyId(user.id);
    setResult(null);
    try {
      await (disabled ? api.disableUser(user.id) : api.enableUser(user.id));
      setUsers((list) => (list ?? []).map((u) => (u.id === user.id ? { ...u, disabled } : u)));
      const done = user.is_bot
        ? disabled
          ? 'bots.disabledDone'
          : 'bots.enabledDone'
        : disabled
          ? 'admin.users.disabledDone'
          : 'admin.users.enabledDone';
      setResult({ ok: true, text: t(done, { username: user.username }) });
      if (user.is_bot) onChanged();
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusyId(null);
  }

  async function resetTwoFactor(user: User) {
    if (!window.confirm(t('admin.users.confirmResetTwoFactor', { username: user.username }))) return;
    setBusyId(user.id);
    setResult(null);
    try {
      await api.resetTwoFactor(user.id);
      setUsers((list) => (list ?? []).map((u) => (u.id === user.id ? { ...u, two_factor: false } : u)));
      setResult({ ok: true, text: t('admin.users.resetTwoFactorDone', { username: user.username }) });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusyId(null);
  }

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
  } else if (!users) {
    body = <Loading />;
  } else if (users.length === 0) {
    body = <p class="muted">{t('admin.users.empty')}</p>;
  } else {
    body = (
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('admin.users.username')}</th>
              <th scope="col">{t('admin.users.displayName')}</th>
              <th scope="col">{t('admin.users.role')}</th>
              <th scope="col">{t('admin.users.status')}</th>
              <th scope="col">{t('admin.users.created')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('admin.users.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} class={u.disabled ? 'row-disabled' : undefined}>
                <th scope="row" class="mono">
                  <span class="user-cell">
                    <Avatar id={u.id} name={u.display_name || u.username} size="s" photo={u.photo_url} />
                    <span>
                      {u.username}
                      {u.is_bot && <> <BotTag kind="bot" /></>}
                      {u.id === me.id && <span class="muted"> ({t('admin.users.you')})</span>}
                    </span>
                  </span>
                </th>
                <td>{u.display_name}</td>
                <td>{u.is_admin ? t('admin.users.admin') : t('admin.users.member')}</td>
                <td>
                  <span class="badges">
                    <span class={u.disabled ? 'badge badge-danger' : 'badge badge-ok'}>
                      {u.disabled ? t('admin.users.disabled') : t('admin.users.active')}
                    </span>
                    {u.two_factor && (
                      <span class="badge badge-accent" title={t('admin.users.twoFactorTitle')}>
                        {t('admin.users.twoFactor')}
                      </span>
                    )}
                    {u.from_directory && (
                      <span class="badge badge-directory" title={t('admin.users.directoryTitle')}>
                        {t('admin.users.directory')}
                      </span>
                    )}
                  </span>
                </td>
                <td class="nowrap">{formatDateTime(u.created_at)}</td>
                <td class="cell-actions">
                  {u.id !== me.id && u.two_factor && (
                    <>
                      <Button
                        variant="secondary"
                        size="small"
                        busy={busyId === u.id}
                        label={t('admin.users.resetTwoFactorLabel', { username: u.username })}
                        onClick={() => void resetTwoFactor(u)}
                      >
                        {t('admin.users.resetTwoFactor')}
                      </Button>{' '}
                    </>
                  )}
                  {u.id !== me.id &&
                    (u.disabled ? (
                      <Button
                        variant="secondary"
                        size="small"
                        busy={busyId === u.id}
                        label={t('admin.users.enableLabel', { username: u.username })}
                        onClick={() => setDisabled(u, false)}
                      >
                        {t('admin.users.enable')}
                      </Button>
                    ) : (
                      <Button
                        variant="danger"
                        size="small"
                        busy={busyId === u.id}
                        label={t('admin.users.disableLabel', { username: u.username })}
                        onClick={() => setDisabled(u, true)}
                      >
                        {t('admin.users.disable')}
                      </Button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <section class="card" aria-labelledby="admin-users">
      <h2 id="admin-users" class="card-title">
        {t('admin.users.title')}
      </h2>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {body}
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

interface AdminChannel extends ChannelInfo {
  member_count: number | null;
}

/**
 * Channels an administrator can manage. The API has no admin-wide channel
 * list yet, so this shows the public channels (browse) plus the private
 * channels the admin belongs to.
 */
function ChannelsCard() {
  const client = useChat();
  const mine = useStore(client.store, (s) => s.channels);
  const [list, setList] = useState<AdminChannel[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    chatApi.browse().then(
      (browse) => {
        if (cancelled) return;
        const byId = new Map<number, AdminChannel>();
        for (const c of browse) byId.set(c.id, { ...c, member_count: c.member_count });
        for (const c of mine.values()) {
          if (c.kind === 'private' && !byId.has(c.id)) byId.set(c.id, { ...c, member_count: null });
        }
        setList([...byId.values()].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '')));
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        setError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  async function update(c: AdminChannel, patch: { name?: string; archived?: boolean }) {
    setBusyId(c.id);
    setResult(null);
    try {
      const info = await chatApi.updateChannel(c.id, patch);
      setList((l) => (l ?? []).map((x) => (x.id === c.id ? { ...x, ...info } : x)));
      setResult({ ok: true, text: t('admin.channels.saved') });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusyId(null);
  }

  let body;
  if (error) {
    body = (
      <>
        <Alert>{error}</Alert>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </>
    );
  } else if (!list) {
    body = <Loading />;
  } else if (!list.length) {
    body = <p class="muted">{t('admin.channels.empty')}</p>;
  } else {
    body = (
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th scope="col">{t('admin.channels.name')}</th>
              <th scope="col">{t('admin.channels.kind')}</th>
              <th scope="col">{t('admin.channels.members')}</th>
              <th scope="col">{t('admin.channels.status')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('admin.users.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.id} class={c.archived ? 'row-disabled' : undefined}>
                <th scope="row" class="mono">
                  {c.name}
                </th>
                <td>{c.kind === 'private' ? t('kind.private') : t('kind.public')}</td>
                <td>{c.member_count ?? '—'}</td>
                <td>
                  <span class={c.archived ? 'badge' : 'badge badge-ok'}>
                    {c.archived ? t('admin.channels.archived') : t('admin.channels.active')}
                  </span>
                </td>
                <td class="cell-actions">
                  <Button
                    variant="secondary"
                    size="small"
                    busy={busyId === c.id}
                    label={t('admin.channels.renameLabel', { name: c.name ?? '' })}
                    onClick={() => {
                      const name = window.prompt(t('admin.channels.renamePrompt', { name: c.name ?? '' }), c.name ?? '');
                      if (name && name.trim() && name.trim() !== c.name) void update(c, { name: name.trim() });
                    }}
                  >
                    {t('admin.channels.rename')}
                  </Button>{' '}
                  <Button
                    variant={c.archived ? 'secondary' : 'danger'}
                    size="small"
                    busy={busyId === c.id}
                    label={
                      c.archived
                        ? t('admin.channels.unarchiveLabel', { name: c.name ?? '' })
                        : t('admin.channels.archiveLabel', { name: c.name ?? '' })
                    }
                    onClick={() => void update(c, { archived: !c.archived })}
                  >
                    {c.archived ? t('admin.channels.unarchive') : t('admin.channels.archive')}
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <section class="card admin-channels" aria-labelledby="admin-channels">
      <h2 id="admin-channels" class="card-title">
        {t('admin.channels.title')}
      </h2>
      <p class="card-meta">{t('admin.channels.intro')}</p>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
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

/** The newest audit entries, with the full log as CSV. Hidden when the server has no audit log. */
function AuditCard() {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    chatApi.audit({ limit: 50 }).then(setEntries, (err) => {
      if (err instanceof ApiError && err.status === 404) setMissing(true);
      else setError(describeError(err));
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
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('admin.audit.at')}</th>
                <th scope="col">{t('admin.audit.actor')}</th>
                <th scope="col">{t('admin.audit.action')}</th>
                <th scope="col">{t('admin.audit.target')}</th>
                <th scope="col">{t('admin.audit.address')}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td class="nowrap">{formatDateTime(e.at)}</td>
                  <td>{e.actor}</td>
                  <td class="mono">{e.action}</td>
                  <td title={e.details || undefined}>{e.target}</td>
                  <td class="mono">{e.address}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
