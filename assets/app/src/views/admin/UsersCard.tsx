import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { adminApi, api, qrSrc, type ResetLink, type User } from '../../api';
import { relativeTime, searchUsers } from '../../admin';
import { Alert } from '../../components/Alert';
import { BotTag } from '../../components/BotTag';
import { Button } from '../../components/Button';
import { CopyField } from '../../components/CopyField';
import { Field, TextAreaField } from '../../components/Field';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { formatDateTime, getLocale, t, type MessageKey } from '../../i18n';
import { jobLine } from '../../people';
import { MAX_PHOTO_BYTES, PROFILE_LIMITS, profileChanges, profileForm, profileProblems, type ProfileForm } from '../../profile';
import { redirectIfSignedOut, useSession } from '../../session';
import { Avatar } from '../chat/Avatar';
import { Modal } from '../chat/Modal';

type Result = { ok: boolean; text: string } | null;
type Dialog = { kind: 'reset'; user: User; link: ResetLink } | { kind: 'profile'; user: User } | null;

/** "5 minutes ago" (the date and time as its tooltip), or "Never". */
export function LastSeen({ at, now }: { at: string | null | undefined; now: number }) {
  const ms = at ? Date.parse(at) : NaN;
  if (Number.isNaN(ms)) return <span class="muted">{t('admin.users.never')}</span>;
  return (
    <time dateTime={at!} title={formatDateTime(at!)}>
      {relativeTime(ms, now, getLocale())}
    </time>
  );
}

/**
 * Every account (administrators): search, badges, the last sign-in, and what an administrator
 * does without a terminal: a password reset link, the administrator role, signing someone out
 * everywhere, their profile, two-step sign-in reset, disable / enable. A table; cards on phones.
 */
export function UsersCard({ version, onChanged }: { version: number; onChanged: () => void }) {
  const { user: me } = useSession();
  const [users, setUsers] = useState<User[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [result, setResult] = useState<Result>(null);
  const [query, setQuery] = useState('');
  const [dialog, setDialog] = useState<Dialog>(null);
  const searchId = useId();

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

  const replace = (updated: Partial<User> & { id: number }) =>
    setUsers((list) => (list ?? []).map((u) => (u.id === updated.id ? { ...u, ...updated } : u)));

  /** Runs one action on a user's row: busy while it runs, then its message or the error. */
  async function act(user: User, action: () => Promise<string | null>) {
    setBusyId(user.id);
    setResult(null);
    try {
      const done = await action();
      if (done) setResult({ ok: true, text: done });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusyId(null);
  }

  function setDisabled(user: User, disabled: boolean) {
    const confirmKey = user.is_bot ? 'bots.confirmDisable' : 'admin.users.confirmDisable';
    if (disabled && !window.confirm(t(confirmKey, { username: user.username }))) return;
    void act(user, async () => {
      await (disabled ? api.disableUser(user.id) : api.enableUser(user.id));
      replace({ id: user.id, disabled });
      if (user.is_bot) onChanged();
      const done: MessageKey = user.is_bot
        ? disabled
          ? 'bots.disabledDone'
          : 'bots.enabledDone'
        : disabled
          ? 'admin.users.disabledDone'
          : 'admin.users.enabledDone';
      return t(done, { username: user.username });
    });
  }

  function resetTwoFactor(user: User) {
    if (!window.confirm(t('admin.users.confirmResetTwoFactor', { username: user.username }))) return;
    void act(user, async () => {
      await api.resetTwoFactor(user.id);
      replace({ id: user.id, two_factor: false });
      return t('admin.users.resetTwoFactorDone', { username: user.username });
    });
  }

  function setAdmin(user: User, isAdmin: boolean) {
    const key = isAdmin ? 'admin.users.confirmMakeAdmin' : 'admin.users.confirmRemoveAdmin';
    if (!window.confirm(t(key, { username: user.username }))) return;
    void act(user, async () => {
      const updated = await adminApi.setAdmin(user.id, isAdmin);
      replace({ ...updated, id: user.id, is_admin: updated?.is_admin ?? isAdmin });
      if (user.is_bot) onChanged();
      return t(isAdmin ? 'admin.users.madeAdmin' : 'admin.users.removedAdmin', { username: user.username });
    });
  }

  function signOut(user: User) {
    if (!window.confirm(t('admin.users.confirmSignOut', { username: user.username }))) return;
    void act(user, async () => {
      await adminApi.endSessions(user.id);
      return t('admin.users.signedOut', { username: user.username });
    });
  }

  function resetPassword(user: User) {
    void act(user, async () => {
      const link = await adminApi.createResetLink(user.id);
      setDialog({ kind: 'reset', user, link });
      return null;
    });
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
    const shown = searchUsers(users, query, getLocale());
    const now = Date.now();
    body = (
      <>
        <div class="admin-search">
          <div class="field">
            <label class="field-label" for={searchId}>
              {t('admin.users.search')}
            </label>
            <input
              id={searchId}
              class="input"
              type="search"
              value={query}
              placeholder={t('admin.users.searchHint')}
              autoComplete="off"
              onInput={(e) => setQuery(e.currentTarget.value)}
            />
          </div>
          <p class="muted admin-count" role="status">
            {query.trim() && !shown.length
              ? t('admin.users.none', { query: query.trim() })
              : t('admin.users.count', { n: shown.length })}
          </p>
        </div>
        {shown.length > 0 && (
          <div class="table-wrap admin-table-wrap">
            <table class="table admin-table admin-users">
              <thead>
                <tr>
                  <th scope="col">{t('admin.users.person')}</th>
                  <th scope="col">{t('admin.users.status')}</th>
                  <th scope="col">{t('admin.users.lastSignIn')}</th>
                  <th scope="col">
                    <span class="visually-hidden">{t('admin.users.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((u) => (
                  <UserRow
                    key={u.id}
                    user={u}
                    self={u.id === me.id}
                    busy={busyId === u.id}
                    now={now}
                    onEdit={() => setDialog({ kind: 'profile', user: u })}
                    onResetPassword={() => resetPassword(u)}
                    onSetAdmin={(v) => setAdmin(u, v)}
                    onSignOut={() => signOut(u)}
                    onResetTwoFactor={() => resetTwoFactor(u)}
                    onSetDisabled={(v) => setDisabled(u, v)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </>
    );
  }

  return (
    <section class="card" aria-labelledby="admin-users">
      <h2 id="admin-users" class="card-title">
        {t('admin.users.title')}
      </h2>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {body}
      {dialog?.kind === 'reset' && <ResetLinkDialog user={dialog.user} link={dialog.link} onClose={() => setDialog(null)} />}
      {dialog?.kind === 'profile' && (
        <ProfileDialog
          user={users?.find((u) => u.id === dialog.user.id) ?? dialog.user}
          onUpdated={(u) => {
            replace(u);
            if (u.is_bot) onChanged();
          }}
          onClose={() => setDialog(null)}
        />
      )}
    </section>
  );
}

interface RowProps {
  user: User;
  self: boolean;
  busy: boolean;
  now: number;
  onEdit: () => void;
  onResetPassword: () => void;
  onSetAdmin: (isAdmin: boolean) => void;
  onSignOut: () => void;
  onResetTwoFactor: () => void;
  onSetDisabled: (disabled: boolean) => void;
}

function UserRow({ user: u, self, busy, now, ...on }: RowProps) {
  const name = u.display_name || u.username;
  const job = jobLine(u);
  const small = { variant: 'secondary', size: 'small', busy } as const;
  const badged = u.is_admin || u.is_bot || u.from_directory || u.two_factor || u.disabled;
  return (
    <tr class={u.disabled ? 'row-disabled' : undefined} data-username={u.username}>
      <th scope="row">
        <span class="user-cell">
          <Avatar id={u.id} name={name} size="m" photo={u.photo_url} />
          <span class="user-names">
            <span class="user-name">
              {name}
              {self && <span class="muted"> ({t('admin.users.you')})</span>}
            </span>
            <span class="user-login mono">@{u.username}</span>
            {job && <span class="user-job">{job}</span>}
          </span>
        </span>
      </th>
      {/* On a phone's card, "Status:" with nothing after it would only be noise. */}
      <td data-label={badged ? t('admin.users.status') : undefined}>
        <span class="badges">
          {u.is_admin && <span class="badge badge-admin">{t('admin.users.adminBadge')}</span>}
          {u.is_bot && <BotTag kind="bot" />}
          {u.from_directory && (
            <span class="badge badge-directory" title={t('admin.users.directoryTitle')}>
              {t('admin.users.directory')}
            </span>
          )}
          {u.two_factor && (
            <span class="badge badge-accent" title={t('admin.users.twoFactorTitle')}>
              {t('admin.users.twoFactor')}
            </span>
          )}
          {u.disabled && <span class="badge badge-danger">{t('admin.users.disabledBadge')}</span>}
        </span>
      </td>
      <td data-label={t('admin.users.lastSignIn')} class="nowrap">
        <LastSeen at={u.last_sign_in_at} now={now} />
      </td>
      <td class="cell-actions">
        <div class="row-actions">
          <Button {...small} label={t('admin.users.editLabel', { username: u.username })} onClick={on.onEdit}>
            {t('admin.users.edit')}
          </Button>
          {!self && !u.is_bot && !u.from_directory && (
            <Button {...small} label={t('admin.users.resetPasswordLabel', { username: u.username })} onClick={on.onResetPassword}>
              {t('admin.users.resetPassword')}
            </Button>
          )}
          {!self &&
            (u.is_admin ? (
              <Button {...small} label={t('admin.users.removeAdminLabel', { username: u.username })} onClick={() => on.onSetAdmin(false)}>
                {t('admin.users.removeAdmin')}
              </Button>
            ) : (
              <Button {...small} label={t('admin.users.makeAdminLabel', { username: u.username })} onClick={() => on.onSetAdmin(true)}>
                {t('admin.users.makeAdmin')}
              </Button>
            ))}
          {!self && !u.is_bot && (
            <Button {...small} label={t('admin.users.signOutLabel', { username: u.username })} onClick={on.onSignOut}>
              {t('admin.users.signOut')}
            </Button>
          )}
          {!self && u.two_factor && (
            <Button {...small} label={t('admin.users.resetTwoFactorLabel', { username: u.username })} onClick={on.onResetTwoFactor}>
              {t('admin.users.resetTwoFactor')}
            </Button>
          )}
          {!self &&
            (u.disabled ? (
              <Button {...small} label={t('admin.users.enableLabel', { username: u.username })} onClick={() => on.onSetDisabled(false)}>
                {t('admin.users.enable')}
              </Button>
            ) : (
              <Button
                {...small}
                variant="danger"
                label={t('admin.users.disableLabel', { username: u.username })}
                onClick={() => on.onSetDisabled(true)}
              >
                {t('admin.users.disable')}
              </Button>
            ))}
        </div>
      </td>
    </tr>
  );
}

/** A new password reset link, shown this once: copy it, or let the phone scan it. Never a password. */
function ResetLinkDialog({ user, link, onClose }: { user: User; link: ResetLink; onClose: () => void }) {
  const name = user.display_name || user.username;
  const path = link.path?.startsWith('/') ? link.path : `/reset/${encodeURIComponent(link.token)}`;
  const url = location.origin.replace(/\/+$/, '') + path;
  return (
    <Modal title={t('admin.reset.title', { name })} onClose={onClose}>
      <div class="reset-link">
        <p>{t('admin.reset.noPassword', { name })}</p>
        <CopyField label={t('admin.reset.link')} value={url} />
        <p class="muted">{t('admin.reset.once', { date: formatDateTime(link.expires_at) })}</p>
        <div class="qr-block">
          <img class="qr-image" src={qrSrc(url)} alt={t('admin.reset.qrAlt')} width={160} height={160} />
          <p class="qr-text muted">{t('admin.reset.scan')}</p>
        </div>
        <p class="muted">{t('admin.reset.shownOnce')}</p>
        <div class="form-actions">
          <Button onClick={onClose}>{t('admin.done')}</Button>
        </div>
      </div>
    </Modal>
  );
}

/** An administrator edits someone's profile: names, job, phone, about, and the photo. */
function ProfileDialog({ user, onUpdated, onClose }: { user: User; onUpdated: (u: User) => void; onClose: () => void }) {
  const [form, setForm] = useState<ProfileForm>(() => profileForm(user));
  const [base, setBase] = useState<User>(user);
  const [problems, setProblems] = useState<ReturnType<typeof profileProblems>>({});
  const [busy, setBusy] = useState<'save' | 'upload' | 'remove' | null>(null);
  const [result, setResult] = useState<Result>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const changes = profileChanges(base, form);
  const nameEmpty = form.display_name.trim() === '';
  const photoMessages = { 'payload-too-large': 'profile.photo.tooLarge' } as const;

  const set = (field: keyof ProfileForm) => (value: string) => {
    setForm((f) => ({ ...f, [field]: value }));
    if (problems[field]) setProblems((p) => ({ ...p, [field]: undefined }));
  };

  async function run(kind: 'save' | 'upload' | 'remove', action: () => Promise<User>, done: MessageKey) {
    setBusy(kind);
    setResult(null);
    try {
      const updated = { ...base, ...(await action()) };
      setBase(updated);
      if (kind === 'save') setForm(profileForm(updated));
      onUpdated(updated);
      setResult({ ok: true, text: t(done) });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err, photoMessages) });
    }
    setBusy(null);
  }

  function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy || nameEmpty || Object.keys(changes).length === 0) return;
    const found = profileProblems(form);
    setProblems(found);
    if (Object.values(found).some(Boolean)) return;
    void run('save', () => api.updateProfile(user.id, changes), 'admin.profile.saved');
  }

  function onFile(event: Event) {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    if (file.type && !file.type.startsWith('image/')) {
      setResult({ ok: false, text: t('profile.photo.notImage') });
      return;
    }
    if (file.size > MAX_PHOTO_BYTES) {
      setResult({ ok: false, text: t('profile.photo.tooLarge') });
      return;
    }
    void run('upload', () => api.setUserPhoto(user.id, file), 'profile.photo.saved');
  }

  function removePhoto() {
    if (!window.confirm(t('admin.profile.confirmRemovePhoto', { username: user.username }))) return;
    void run('remove', () => api.removeUserPhoto(user.id), 'profile.photo.removed');
  }

  const problem = (field: keyof ProfileForm) => (problems[field] ? t(problems[field]!) : null);
  const name = base.display_name || base.username;
  return (
    <Modal title={t('admin.profile.title', { name })} onClose={onClose}>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      <div class="photo-row">
        <Avatar id={user.id} name={name} size="l" photo={base.photo_url} />
        <div class="form-actions">
          <input
            ref={fileRef}
            class="visually-hidden"
            type="file"
            accept="image/*"
            tabIndex={-1}
            aria-hidden="true"
            aria-label={t('admin.profile.photoFile')}
            onChange={onFile}
          />
          <Button variant="secondary" size="small" busy={busy === 'upload'} disabled={busy !== null} onClick={() => fileRef.current?.click()}>
            {busy === 'upload' ? t('profile.photo.uploading') : t('profile.photo.upload')}
          </Button>
          {base.photo_url && (
            <Button variant="secondary" size="small" busy={busy === 'remove'} disabled={busy !== null} onClick={removePhoto}>
              {busy === 'remove' ? t('profile.photo.removing') : t('profile.photo.remove')}
            </Button>
          )}
        </div>
      </div>
      <form class="form" onSubmit={onSubmit} aria-busy={busy === 'save'}>
        <Field label={t('field.displayName')} name="display_name" value={form.display_name} onValue={set('display_name')} maxLength={64} required />
        <Field
          label={t('field.jobTitle')}
          name="title"
          value={form.title}
          onValue={set('title')}
          maxLength={PROFILE_LIMITS.title}
          error={problem('title')}
        />
        <Field
          label={t('field.department')}
          name="department"
          value={form.department}
          onValue={set('department')}
          maxLength={PROFILE_LIMITS.department}
          error={problem('department')}
        />
        <Field
          label={t('field.phone')}
          name="phone"
          type="tel"
          value={form.phone}
          onValue={set('phone')}
          maxLength={PROFILE_LIMITS.phone}
          error={problem('phone')}
        />
        <TextAreaField
          label={t('field.about')}
          name="about"
          value={form.about}
          onValue={set('about')}
          maxLength={PROFILE_LIMITS.about}
          rows={3}
          error={problem('about')}
        />
        <div class="form-actions">
          <Button type="submit" busy={busy === 'save'} disabled={busy !== null || nameEmpty || Object.keys(changes).length === 0}>
            {busy === 'save' ? t('common.saving') : t('common.save')}
          </Button>
          <Button variant="secondary" onClick={onClose}>
            {t('admin.done')}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
