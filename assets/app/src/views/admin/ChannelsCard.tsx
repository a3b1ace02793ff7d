import { useEffect, useId, useState } from 'preact/hooks';
import { adminApi, api, chatApi, type AdminChannel, type User } from '../../api';
import { daysLabel, parseDays, relativeTime, searchUsers } from '../../admin';
import { Alert } from '../../components/Alert';
import { BotTag } from '../../components/BotTag';
import { Button } from '../../components/Button';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { getLocale, t } from '../../i18n';
import { redirectIfSignedOut } from '../../session';
import { Avatar } from '../chat/Avatar';
import { Modal } from '../chat/Modal';

type Result = { ok: boolean; text: string } | null;
type Dialog = { kind: 'members' | 'retention'; id: number } | null;

type People = ReadonlyMap<number, User>;

function personName(people: People, id: number): string {
  const p = people.get(id);
  return p ? p.display_name || p.username : t('audit.someone', { id });
}

/** The private channel's lock, with its name for screen readers. */
function Lock() {
  return (
    <svg class="lock-icon" width="14" height="14" viewBox="0 0 16 16" role="img" aria-label={t('kind.private')} focusable="false">
      <title>{t('kind.private')}</title>
      <rect x="3" y="7" width="10" height="7" rx="1.5" class="icon-fill" />
      <path d="M5.5 7V5a2.5 2.5 0 0 1 5 0v2" class="icon-stroke" />
    </svg>
  );
}

/**
 * Every public and private channel, archived ones too (administrators): members, owners, last
 * activity, how long it keeps messages; archive, rename, members (add, remove, owners) and
 * retention. A table; cards on phones.
 */
export function ChannelsCard() {
  const [people, setPeople] = useState<People>(new Map());
  const [list, setList] = useState<AdminChannel[] | null>(null);
  const [siteDays, setSiteDays] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Result>(null);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [dialog, setDialog] = useState<Dialog>(null);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    adminApi.channels().then(
      (channels) => {
        if (!cancelled) setList(channels);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        setError(describeError(err));
      },
    );
    api.users().then(
      (users) => {
        if (!cancelled) setPeople(new Map(users.map((u) => [u.id, u])));
      },
      () => {},
    );
    api.adminSettings().then(
      (s) => {
        if (!cancelled && typeof s.retention_days === 'number') setSiteDays(s.retention_days);
      },
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  const patchChannel = (id: number, patch: Partial<AdminChannel>) =>
    setList((l) => (l ?? []).map((c) => (c.id === id ? { ...c, ...patch } : c)));

  async function run(c: AdminChannel, action: () => Promise<string>) {
    setBusyId(c.id);
    setResult(null);
    try {
      setResult({ ok: true, text: await action() });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusyId(null);
  }

  function setArchived(c: AdminChannel, archived: boolean) {
    void run(c, async () => {
      const info = await chatApi.updateChannel(c.id, { archived });
      patchChannel(c.id, { archived: info?.archived ?? archived });
      return t(archived ? 'admin.channels.archivedDone' : 'admin.channels.unarchivedDone', { name: c.name ?? '' });
    });
  }

  function rename(c: AdminChannel) {
    const name = window.prompt(t('admin.channels.renamePrompt', { name: c.name ?? '' }), c.name ?? '');
    if (!name || !name.trim() || name.trim() === c.name) return;
    void run(c, async () => {
      const info = await chatApi.updateChannel(c.id, { name: name.trim() });
      patchChannel(c.id, { name: info?.name ?? name.trim() });
      return t('admin.channels.saved');
    });
  }

  const siteValue = siteDays === null ? t('admin.channels.retentionSite') : daysLabel(siteDays, true);
  const retentionText = (c: AdminChannel) =>
    c.retention_days === null ? `${t('admin.channels.retentionSite')}${siteDays === null ? '' : ` (${daysLabel(siteDays, true)})`}` : daysLabel(c.retention_days);

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
    const now = Date.now();
    const locale = getLocale();
    const sorted = [...list].sort(
      (a, b) => Number(a.archived) - Number(b.archived) || (a.name ?? '').localeCompare(b.name ?? '', locale),
    );
    body = (
      <div class="table-wrap admin-table-wrap">
        <table class="table admin-table admin-channel-table">
          <thead>
            <tr>
              <th scope="col">{t('admin.channels.channel')}</th>
              <th scope="col">{t('admin.channels.members')}</th>
              <th scope="col">{t('admin.channels.owners')}</th>
              <th scope="col">{t('admin.channels.lastActivity')}</th>
              <th scope="col">{t('admin.channels.retention')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('admin.users.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((c) => {
              const name = c.name ?? '';
              const busy = busyId === c.id;
              const owners = c.owner_ids.map((id) => personName(people, id));
              return (
                <tr key={c.id} class={c.archived ? 'row-disabled' : undefined} data-channel={name}>
                  <th scope="row">
                    <span class="channel-cell">
                      <span class="channel-cell-name">
                        {c.kind === 'private' && <Lock />}
                        <span class="mono">#{name}</span>
                        {c.archived && <span class="badge">{t('admin.channels.archived')}</span>}
                      </span>
                      {c.topic && <span class="user-job">{c.topic}</span>}
                    </span>
                  </th>
                  <td data-label={t('admin.channels.members')}>{c.members}</td>
                  <td data-label={t('admin.channels.owners')}>
                    {owners.length ? owners.join(', ') : <span class="muted">{t('admin.channels.noOwners')}</span>}
                  </td>
                  <td data-label={t('admin.channels.lastActivity')} class="nowrap">
                    {c.last_activity === null ? (
                      <span class="muted">{t('admin.channels.noActivity')}</span>
                    ) : (
                      <time dateTime={new Date(c.last_activity).toISOString()} title={new Date(c.last_activity).toLocaleString(locale)}>
                        {relativeTime(c.last_activity, now, locale)}
                      </time>
                    )}
                  </td>
                  <td data-label={t('admin.channels.retention')}>{retentionText(c)}</td>
                  <td class="cell-actions">
                    <div class="row-actions">
                      <Button
                        variant="secondary"
                        size="small"
                        busy={busy}
                        label={t('admin.channels.manageMembersLabel', { name })}
                        onClick={() => setDialog({ kind: 'members', id: c.id })}
                      >
                        {t('admin.channels.manageMembers')}
                      </Button>
                      <Button
                        variant="secondary"
                        size="small"
                        busy={busy}
                        label={t('admin.channels.setRetentionLabel', { name })}
                        onClick={() => setDialog({ kind: 'retention', id: c.id })}
                      >
                        {t('admin.channels.setRetention')}
                      </Button>
                      <Button variant="secondary" size="small" busy={busy} label={t('admin.channels.renameLabel', { name })} onClick={() => rename(c)}>
                        {t('admin.channels.rename')}
                      </Button>
                      <Button
                        variant={c.archived ? 'secondary' : 'danger'}
                        size="small"
                        busy={busy}
                        label={c.archived ? t('admin.channels.unarchiveLabel', { name }) : t('admin.channels.archiveLabel', { name })}
                        onClick={() => setArchived(c, !c.archived)}
                      >
                        {c.archived ? t('admin.channels.unarchive') : t('admin.channels.archive')}
                      </Button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }

  const open = dialog ? list?.find((c) => c.id === dialog.id) : undefined;
  return (
    <section class="card admin-channels" aria-labelledby="admin-channels">
      <h2 id="admin-channels" class="card-title">
        {t('admin.channels.title')}
      </h2>
      <p class="card-meta">{t('admin.channels.everyIntro')}</p>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {body}
      {open && dialog?.kind === 'members' && (
        <MembersDialog channel={open} people={people} onChange={(patch) => patchChannel(open.id, patch)} onClose={() => setDialog(null)} />
      )}
      {open && dialog?.kind === 'retention' && (
        <RetentionDialog
          channel={open}
          siteValue={siteValue}
          onSaved={(days) => {
            patchChannel(open.id, { retention_days: days });
            setResult({ ok: true, text: t('admin.retention.saved') });
            setDialog(null);
          }}
          onClose={() => setDialog(null)}
        />
      )}
    </section>
  );
}

/** A channel's members: remove them, make them owners or not, add people from the directory. */
function MembersDialog({
  channel,
  people,
  onChange,
  onClose,
}: {
  channel: AdminChannel;
  people: People;
  onChange: (patch: Partial<AdminChannel>) => void;
  onClose: () => void;
}) {
  const [members, setMembers] = useState<number[] | null>(null);
  const [query, setQuery] = useState('');
  const [busy, setBusy] = useState<number | null>(null);
  const [result, setResult] = useState<Result>(null);
  const addId = useId();
  const name = channel.name ?? '';
  const owners = new Set(channel.owner_ids);

  useEffect(() => {
    chatApi.members(channel.id).then(setMembers, (err) => {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    });
  }, [channel.id]);

  async function run(userId: number, action: () => Promise<string>) {
    setBusy(userId);
    setResult(null);
    try {
      setResult({ ok: true, text: await action() });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(null);
  }

  const add = (p: User) =>
    run(p.id, async () => {
      await chatApi.addMember(channel.id, p.id);
      const next = [...(members ?? []).filter((id) => id !== p.id), p.id];
      setMembers(next);
      onChange({ members: next.length });
      setQuery('');
      return t('admin.members.added', { name: p.display_name || p.username });
    });

  const remove = (id: number) => {
    const who = personName(people, id);
    if (!window.confirm(t('admin.members.confirmRemove', { name: who, channel: name }))) return;
    void run(id, async () => {
      await adminApi.removeMember(channel.id, id);
      const next = (members ?? []).filter((m) => m !== id);
      setMembers(next);
      onChange({ members: next.length, owner_ids: channel.owner_ids.filter((o) => o !== id) });
      return t('admin.members.removed', { name: who });
    });
  };

  const setOwner = (id: number, owner: boolean) => {
    const who = personName(people, id);
    void run(id, async () => {
      await adminApi.setRole(channel.id, id, owner ? 'owner' : 'member');
      onChange({ owner_ids: owner ? [...channel.owner_ids.filter((o) => o !== id), id] : channel.owner_ids.filter((o) => o !== id) });
      return t(owner ? 'admin.members.ownerAdded' : 'admin.members.ownerRemoved', { name: who });
    });
  };

  const memberSet = new Set(members ?? []);
  const locale = getLocale();
  const candidates = query.trim()
    ? searchUsers(
        [...people.values()].filter((p) => !memberSet.has(p.id) && !p.disabled),
        query,
        locale,
      ).slice(0, 6)
    : [];
  const sorted = members
    ? [...members].sort(
        (a, b) => Number(owners.has(b)) - Number(owners.has(a)) || personName(people, a).localeCompare(personName(people, b), locale),
      )
    : [];

  return (
    <Modal title={t('admin.members.title', { name })} onClose={onClose}>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      <div class="field">
        <label class="field-label" for={addId}>
          {t('admin.members.add')}
        </label>
        <input
          id={addId}
          class="input"
          type="search"
          autoComplete="off"
          placeholder={t('admin.members.addHint')}
          value={query}
          disabled={!members}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
      </div>
      {query.trim() && (
        <ul class="people-list admin-candidates">
          {candidates.map((p) => {
            const label = p.display_name || p.username;
            return (
              <li key={p.id}>
                <button
                  type="button"
                  class="person"
                  aria-label={t('admin.members.addLabel', { name: `${label} @${p.username}` })}
                  disabled={busy !== null}
                  onClick={() => void add(p)}
                >
                  <Avatar id={p.id} name={label} size="s" photo={p.photo_url} />
                  <span class="person-name">{label}</span>
                  <span class="muted mono">@{p.username}</span>
                  {p.is_bot && <BotTag kind="bot" />}
                </button>
              </li>
            );
          })}
          {!candidates.length && <li class="muted">{t('admin.members.noMatch', { query: query.trim() })}</li>}
        </ul>
      )}
      <section aria-labelledby="admin-members-list">
        <h3 id="admin-members-list" class="details-heading">
          {t('admin.members.count', { n: members?.length ?? channel.members })}
        </h3>
        {!members ? (
          <Loading />
        ) : !members.length ? (
          <p class="muted">{t('admin.members.empty')}</p>
        ) : (
          <ul class="item-list admin-members">
            {sorted.map((id) => {
              const p = people.get(id);
              const label = personName(people, id);
              const owner = owners.has(id);
              return (
                <li key={id} class="item-row" data-user-id={id}>
                  <span class="user-cell">
                    <Avatar id={id} name={label} size="s" photo={p?.photo_url} />
                    <span class="user-names">
                      <span class="user-name">
                        {label} {owner && <span class="badge badge-accent">{t('admin.members.owner')}</span>}
                      </span>
                      {p && <span class="user-login mono">@{p.username}</span>}
                    </span>
                  </span>
                  <span class="row-actions">
                    {owner ? (
                      <Button
                        variant="secondary"
                        size="small"
                        busy={busy === id}
                        label={t('admin.members.removeOwnerLabel', { name: label })}
                        onClick={() => setOwner(id, false)}
                      >
                        {t('admin.members.removeOwner')}
                      </Button>
                    ) : (
                      <Button
                        variant="secondary"
                        size="small"
                        busy={busy === id}
                        label={t('admin.members.makeOwnerLabel', { name: label })}
                        onClick={() => setOwner(id, true)}
                      >
                        {t('admin.members.makeOwner')}
                      </Button>
                    )}
                    <Button variant="danger" size="small" busy={busy === id} label={t('admin.members.removeLabel', { name: label })} onClick={() => remove(id)}>
                      {t('admin.members.remove')}
                    </Button>
                  </span>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <div class="form-actions">
        <Button variant="secondary" onClick={onClose}>
          {t('admin.done')}
        </Button>
      </div>
    </Modal>
  );
}

/** How long a channel keeps messages: the site's setting, or its own number of days. */
function RetentionDialog({
  channel,
  siteValue,
  onSaved,
  onClose,
}: {
  channel: AdminChannel;
  siteValue: string;
  onSaved: (days: number | null) => void;
  onClose: () => void;
}) {
  const [mode, setMode] = useState<'site' | 'custom'>(channel.retention_days === null ? 'site' : 'custom');
  const [days, setDays] = useState(channel.retention_days === null ? '' : String(channel.retention_days));
  const [invalid, setInvalid] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const daysId = useId();

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
    setError(null);
    try {
      await adminApi.setRetention(channel.id, value);
      onSaved(value);
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <Modal title={t('admin.retention.title', { name: channel.name ?? '' })} onClose={onClose}>
      <form class="form" onSubmit={onSubmit} aria-busy={busy}>
        {error && <Alert>{error}</Alert>}
        <p class="muted">{t('admin.retention.hint')}</p>
        <fieldset class="choices">
          <legend class="visually-hidden">{t('admin.retention.title', { name: channel.name ?? '' })}</legend>
          <label class="check">
            <input type="radio" name="channel_retention" value="site" checked={mode === 'site'} onChange={() => setMode('site')} />
            <span>{t('admin.retention.site', { value: siteValue })}</span>
          </label>
          <label class="check">
            <input type="radio" name="channel_retention" value="custom" checked={mode === 'custom'} onChange={() => setMode('custom')} />
            <span>{t('admin.retention.custom')}</span>
          </label>
        </fieldset>
        {mode === 'custom' && (
          <DaysField id={daysId} label={t('admin.retention.days')} value={days} invalid={invalid} onValue={(v) => {
            setDays(v);
            setInvalid(false);
          }} />
        )}
        <div class="form-actions">
          <Button type="submit" busy={busy}>
            {busy ? t('common.saving') : t('common.save')}
          </Button>
          <Button variant="secondary" onClick={onClose}>
            {t('common.cancel')}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

/** A number of days (0 to 36500), with the error under it. */
export function DaysField({
  id,
  label,
  value,
  invalid,
  onValue,
}: {
  id: string;
  label: string;
  value: string;
  invalid: boolean;
  onValue: (value: string) => void;
}) {
  return (
    <div class="field">
      <label class="field-label" for={id}>
        {label}
      </label>
      <input
        id={id}
        class="input input-days"
        type="number"
        inputMode="numeric"
        min={0}
        max={36500}
        step={1}
        value={value}
        aria-invalid={invalid ? true : undefined}
        aria-describedby={invalid ? `${id}-error` : undefined}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
      {invalid && (
        <p id={`${id}-error`} class="field-error">
          {t('admin.retention.invalid')}
        </p>
      )}
    </div>
  );
}
