import { useEffect, useState } from 'preact/hooks';
import { api, inviteLink, type CreatedInvite, type User } from '../api';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { CopyField } from '../components/CopyField';
import { Loading } from '../components/Loading';
import { PageHeading } from '../components/PageHeading';
import { describeError } from '../errors';
import { formatDateTime, t } from '../i18n';
import { redirectIfSignedOut, useSession } from '../session';

export function AdminView() {
  return (
    <div class="page">
      <PageHeading title={t('admin.title')} />
      <InviteCard />
      <UsersCard />
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

function UsersCard() {
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
  }, [attempt]);

  async function setDisabled(user: User, disabled: boolean) {
    if (disabled && !window.confirm(t('admin.users.confirmDisable', { username: user.username }))) {
      return;
    }
    setBusyId(user.id);
    setResult(null);
    try {
      await (disabled ? api.disableUser(user.id) : api.enableUser(user.id));
      setUsers((list) => (list ?? []).map((u) => (u.id === user.id ? { ...u, disabled } : u)));
      const done = disabled ? 'admin.users.disabledDone' : 'admin.users.enabledDone';
      setResult({ ok: true, text: t(done, { username: user.username }) });
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
                  {u.username}
                  {u.id === me.id && <span class="muted"> ({t('admin.users.you')})</span>}
                </th>
                <td>{u.display_name}</td>
                <td>{u.is_admin ? t('admin.users.admin') : t('admin.users.member')}</td>
                <td>
                  <span class={u.disabled ? 'badge badge-danger' : 'badge badge-ok'}>
                    {u.disabled ? t('admin.users.disabled') : t('admin.users.active')}
                  </span>
                </td>
                <td class="nowrap">{formatDateTime(u.created_at)}</td>
                <td class="cell-actions">
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
