import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { chatApi, MUTED_FOR_GOOD, type BrowseEntry, type Channel, type MassMentions, type NotifyLevel, type Person } from '../../api';
import { useChat } from '../../chat/client';
import { attentionCount, channelTitle, isDirect, matchPeople, mutedNow } from '../../chat/logic';
import { useStore } from '../../chat/store';
import { Alert } from '../../components/Alert';
import { BotTag } from '../../components/BotTag';
import { Button } from '../../components/Button';
import { Field } from '../../components/Field';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { displayNameWithSite } from '../../links';
import { useKeyboardHints } from '../../media';
import { channelPath, navigate } from '../../router';
import { useSession } from '../../session';
import { formatUntil } from '../../status';
import { Avatar, DeactivatedTag, photoOf, PresenceDot, StatusEmoji } from './Avatar';
import { ChannelLinksSection } from './ChannelLinks';
import { EditHistoryDialog, ForwardDialog } from './MessageDialogs';
import { Modal } from './Modal';
import { ChannelIcon } from './Sidebar';
import { StatusDialog } from './StatusDialog';
import { openDialog, openProfile, ui } from './ui';
import { WebhooksSection } from './Webhooks';

export function Dialogs() {
  const client = useChat();
  const dialog = useStore(ui, (s) => s.dialog);
  const close = () => openDialog(null);
  // People pickers show everyone's presence: watch all while one is open.
  const picking = dialog === 'direct' || dialog === 'switcher' || (dialog !== null && typeof dialog === 'object' && dialog.type === 'details');
  useEffect(() => {
    if (!picking) return;
    client.watchAllPresence(true);
    return () => client.watchAllPresence(false);
  }, [picking]);
  switch (dialog) {
    case 'create':
      return <CreateChannel onClose={close} />;
    case 'browse':
      return <BrowseChannels onClose={close} />;
    case 'direct':
      return <NewDirect onClose={close} />;
    case 'switcher':
      return <QuickSwitcher onClose={close} />;
    case 'status':
      return <StatusDialog onClose={close} />;
    case null:
      return null;
  }
  switch (dialog.type) {
    case 'forward':
      return <ForwardDialog key={dialog.message.id} message={dialog.message} onClose={close} />;
    case 'edits':
      return <EditHistoryDialog key={dialog.message.id} message={dialog.message} onClose={close} />;
    default:
      return <ChannelDetails key={dialog.channelId} channelId={dialog.channelId} onClose={close} />;
  }
}

function CreateChannel({ onClose }: { onClose: () => void }) {
  const client = useChat();
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [priv, setPriv] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const c = await chatApi.createChannel({ name: name.trim(), topic: topic.trim(), private: priv });
      client.addChannel(c);
      onClose();
      navigate(channelPath(c.id));
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }
  return (
    <Modal title={t('create.title')} onClose={onClose}>
      <form class="form" onSubmit={submit}>
        {error && <Alert>{error}</Alert>}
        <Field label={t('create.name')} hint={t('create.nameHint')} value={name} onValue={setName} required autoFocus maxLength={80} />
        <Field label={t('create.topic')} value={topic} onValue={setTopic} maxLength={250} />
        <label class="check">
          <input type="checkbox" checked={priv} onChange={(e) => setPriv(e.currentTarget.checked)} />
          <span>
            <strong>{t('create.private')}</strong>
            <span class="field-hint">{t('create.privateHint')}</span>
          </span>
        </label>
        <div class="button-row">
          <Button type="submit" busy={busy}>
            {t('create.submit')}
          </Button>
          <Button variant="secondary" onClick={onClose}>
            {t('common.cancel')}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

function BrowseChannels({ onClose }: { onClose: () => void }) {
  const client = useChat();
  const [list, setList] = useState<BrowseEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [busy, setBusy] = useState<number | null>(null);
  useEffect(() => {
    chatApi.browse().then(setList, (err) => setError(describeError(err)));
  }, []);
  async function open(entry: BrowseEntry) {
    if (!entry.joined) {
      setBusy(entry.id);
      try {
        await chatApi.join(entry.id);
        client.addChannel(await chatApi.channel(entry.id));
      } catch (err) {
        setError(describeError(err));
        setBusy(null);
        return;
      }
    }
    onClose();
    navigate(channelPath(entry.id));
  }
  const q = filter.trim().toLowerCase();
  const shown = (list ?? []).filter((c) => !c.archived && (!q || (c.name ?? '').toLowerCase().includes(q) || c.topic.toLowerCase().includes(q)));
  return (
    <Modal title={t('browse.title')} onClose={onClose} wide>
      {error && <Alert>{error}</Alert>}
      <Field label={t('browse.filter')} value={filter} onValue={setFilter} autoFocus />
      {!list ? (
        <Loading />
      ) : shown.length === 0 ? (
        <p class="muted">{t('browse.empty')}</p>
      ) : (
        <ul class="browse-list">
          {shown.map((c) => (
            <li key={c.id} class="browse-item">
              <div class="browse-info">
                <span class="browse-name">
                  <ChannelIcon channel={c} />
                  {c.name}
                </span>
                <span class="muted browse-meta">
                  {t('browse.members', { n: c.member_count })}
                  {c.topic ? ` · ${c.topic}` : ''}
                </span>
              </div>
              <Button variant={c.joined ? 'secondary' : 'primary'} size="small" busy={busy === c.id} onClick={() => void open(c)} label={c.joined ? t('browse.openLabel', { name: c.name ?? '' }) : t('browse.joinLabel', { name: c.name ?? '' })}>
                {c.joined ? t('browse.open') : t('browse.join')}
              </Button>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

function NewDirect({ onClose }: { onClose: () => void }) {
  const client = useChat();
  const { user } = useSession();
  const people = useStore(client.store, (s) => s.people);
  const [query, setQuery] = useState('');
  const [picked, setPicked] = useState<Person[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const others = [...people.values()].filter((p) => p.id !== user.id && !p.deactivated && !picked.some((x) => x.id === p.id));
  const matches = matchPeople(others, query, 20);
  async function start() {
    if (!picked.length || busy) return;
    setBusy(true);
    setError(null);
    try {
      const c = await chatApi.openDirect(picked.map((p) => p.id));
      client.addChannel(c);
      onClose();
      navigate(channelPath(c.id));
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }
  return (
    <Modal title={t('direct.title')} onClose={onClose}>
      {error && <Alert>{error}</Alert>}
      {picked.length > 0 && (
        <ul class="chips" aria-label={t('direct.picked')}>
          {picked.map((p) => (
            <li key={p.id} class="chip">
              {p.display_name || p.username}
              <button type="button" class="chip-x" aria-label={t('direct.remove', { name: p.display_name || p.username })} onClick={() => setPicked(picked.filter((x) => x.id !== p.id))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <Field label={t('direct.find')} value={query} onValue={setQuery} autoFocus />
      <ul class="people-list">
        {matches.map((p) => (
          <li key={p.id}>
            <button
              type="button"
              class="person"
              disabled={picked.length >= 15}
              onClick={() => {
                setPicked([...picked, p]);
                setQuery('');
              }}
            >
              <Avatar id={p.id} name={p.display_name || p.username} size="s" photo={p.photo_url} />
              <span class="person-name">{p.display_name || p.username}</span>
              <StatusEmoji status={p.status} />
              {p.is_bot && <BotTag kind="bot" />}
              <span class="muted">@{p.username}</span>
              <PresenceDot presence={p.presence} />
            </button>
          </li>
        ))}
      </ul>
      <div class="button-row">
        <Button busy={busy} disabled={!picked.length} onClick={() => void start()}>
          {picked.length > 1 ? t('direct.startGroup') : t('direct.start')}
        </Button>
        <Button variant="secondary" onClick={onClose}>
          {t('common.cancel')}
        </Button>
      </div>
    </Modal>
  );
}

/** A direct conversation's avatar: the other person's (or one's own, in the conversation with oneself). */
function DirectAvatar({ channel, me, label, people }: { channel: Channel; me: number; label: string; people: ReadonlyMap<number, Person> }) {
  const other = channel.kind === 'dm' ? (channel.member_ids.find((id) => id !== me) ?? me) : null;
  const id = other ?? channel.member_ids.find((m) => m !== me) ?? me;
  // A group shows initials of its title, not one member's photo.
  return <Avatar id={id} name={label} size="s" photo={other !== null ? photoOf(people, other) : null} />;
}

function QuickSwitcher({ onClose }: { onClose: () => void }) {
  const client = useChat();
  const { user } = useSession();
  const channels = useStore(client.store, (s) => s.channels);
  const people = useStore(client.store, (s) => s.people);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const keyboardHints = useKeyboardHints();
  const input = useRef<HTMLInputElement>(null);

  type Entry = { key: string; label: string; channel?: Channel; person?: Person; attention: number };
  const entries = useMemo<Entry[]>(() => {
    const q = query.trim().toLowerCase().replace(/^[#@]/, '');
    const list: Entry[] = [];
    const directWith = new Set<number>();
    for (const c of channels.values()) {
      if (c.archived) continue;
      const label = channelTitle(c, user.id, people);
      if (c.kind === 'dm') for (const id of c.member_ids) directWith.add(id);
      if (!q || label.toLowerCase().includes(q)) list.push({ key: `c${c.id}`, label, channel: c, attention: attentionCount(c) + (c.unread ? 0.5 : 0) });
    }
    if (q) {
      for (const p of matchPeople([...people.values()].filter((x) => !x.deactivated), q, 8)) {
        if (p.id === user.id || directWith.has(p.id)) continue;
        list.push({ key: `p${p.id}`, label: p.display_name || p.username, person: p, attention: -1 });
      }
    }
    list.sort((a, b) => {
      if (!q) return b.attention - a.attention || a.label.localeCompare(b.label);
      const as = a.label.toLowerCase().startsWith(q) ? 0 : 1;
      const bs = b.label.toLowerCase().startsWith(q) ? 0 : 1;
      return as - bs || b.attention - a.attention || a.label.localeCompare(b.label);
    });
    return list.slice(0, 12);
  }, [query, channels, people]);

  async function choose(e: Entry | undefined) {
    if (!e) return;
    onClose();
    if (e.channel) navigate(channelPath(e.channel.id));
    else if (e.person) {
      try {
        const c = await chatApi.openDirect([e.person.id]);
        client.addChannel(c);
        navigate(channelPath(c.id));
      } catch {
        // ignore; the user can try again
      }
    }
  }

  return (
    <Modal title={t('switcher.title')} onClose={onClose}>
      <input
        ref={input}
        class="input switcher-input"
        autoFocus
        role="combobox"
        aria-expanded="true"
        aria-controls="switcher-list"
        aria-activedescendant={entries[active] ? `sw-${entries[active]!.key}` : undefined}
        aria-label={t('switcher.placeholder')}
        placeholder={t('switcher.placeholder')}
        value={query}
        onInput={(e) => {
          setQuery(e.currentTarget.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
            e.preventDefault();
            const n = Math.max(1, entries.length);
            setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
          } else if (e.key === 'Enter') {
            e.preventDefault();
            void choose(entries[active]);
          }
        }}
      />
      <ul id="switcher-list" class="switcher-list" role="listbox" aria-label={t('switcher.title')}>
        {entries.map((e, i) => (
          <li
            key={e.key}
            id={`sw-${e.key}`}
            role="option"
            aria-selected={i === active}
            class={i === active ? 'sw-item sw-active' : 'sw-item'}
            onMouseDown={(ev) => {
              ev.preventDefault();
              void choose(e);
            }}
            onMouseMove={() => setActive(i)}
          >
            {e.channel ? (
              isDirect(e.channel) ? (
                <DirectAvatar channel={e.channel} me={user.id} label={e.label} people={people} />
              ) : (
                <ChannelIcon channel={e.channel} />
              )
            ) : (
              <Avatar id={e.person!.id} name={e.label} size="s" photo={e.person!.photo_url} />
            )}
            <span class="sw-label">{e.label}</span>
            {e.channel && attentionCount(e.channel) > 0 && <span class="ch-badge">{attentionCount(e.channel)}</span>}
          </li>
        ))}
      </ul>
      {keyboardHints && <p class="muted switcher-hint kbd-hint">{t('switcher.hint')}</p>}
    </Modal>
  );
}

/**
 * Topic, members (with "add people"), the linked sites that carry the channel, and for owners
 * and admins: rename, sharing with linked sites, webhooks and archive.
 */
function ChannelDetails({ channelId, onClose }: { channelId: number; onClose: () => void }) {
  const client = useChat();
  const { user } = useSession();
  const channel = useStore(client.store, (s) => s.channels.get(channelId));
  const people = useStore(client.store, (s) => s.people);
  const [members, setMembers] = useState<number[] | null>(null);
  const [topic, setTopic] = useState(channel?.topic ?? '');
  const [name, setName] = useState(channel?.name ?? '');
  const [query, setQuery] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    chatApi.members(channelId).then(setMembers, (err) => setResult({ ok: false, text: describeError(err) }));
  }, [channelId, attempt]);

  if (!channel) return null;
  const direct = isDirect(channel);
  const manage = !direct && (channel.role === 'owner' || user.is_admin);
  const title = channelTitle(channel, user.id, people);
  const memberSet = new Set(members ?? []);
  const candidates = query.trim()
    ? matchPeople([...people.values()].filter((p) => !memberSet.has(p.id) && !p.deactivated), query, 6)
    : [];

  async function run(action: () => Promise<unknown>, done: string) {
    setBusy(true);
    setResult(null);
    try {
      await action();
      setResult({ ok: true, text: done });
    } catch (err) {
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(false);
  }

  const patch = (body: { name?: string; topic?: string; archived?: boolean; mass_mentions?: MassMentions }) =>
    run(async () => {
      const info = await chatApi.updateChannel(channelId, body);
      const cur = client.state.channels.get(channelId);
      if (cur) client.addChannel({ ...cur, ...info, last_seq: Math.max(cur.last_seq, info.last_seq) });
    }, t('details.saved'));

  return (
    <Modal title={direct ? title : `#${title}`} onClose={onClose}>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {!direct && (
        <form
          class="form form-inline"
          onSubmit={(e) => {
            e.preventDefault();
            void patch({ topic: topic.trim() });
          }}
        >
          <Field label={t('details.topic')} value={topic} onValue={setTopic} maxLength={250} />
          <Button type="submit" variant="secondary" busy={busy}>
            {t('common.save')}
          </Button>
        </form>
      )}
      {manage && (
        <form
          class="form form-inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim() && name.trim() !== channel.name) void patch({ name: name.trim() });
          }}
        >
          <Field label={t('create.name')} value={name} onValue={setName} maxLength={80} />
          <Button type="submit" variant="secondary" busy={busy}>
            {t('admin.channels.rename')}
          </Button>
        </form>
      )}
      {manage && (
        <div class="field">
          <label class="field-label" for="details-mass">
            {t('details.massMentions')}
          </label>
          <select
            id="details-mass"
            class="input select"
            value={channel.mass_mentions ?? 'everyone'}
            disabled={busy}
            onChange={(e) => void patch({ mass_mentions: e.currentTarget.value as MassMentions })}
          >
            <option value="everyone">{t('details.massEveryone')}</option>
            <option value="owners">{t('details.massOwners')}</option>
          </select>
        </div>
      )}
      {!channel.archived && <NotificationSettings channel={channel} />}
      <section aria-labelledby="details-members">
        <h3 id="details-members" class="details-heading">
          {t('details.members', { n: members?.length ?? 0 })}
        </h3>
        {!members ? (
          <Loading />
        ) : (
          <ul class="people-list details-members">
            {members.map((id) => {
              const p = people.get(id);
              const label = p ? p.display_name || p.username : t('message.unknownUser', { id });
              const shownName = p ? displayNameWithSite(p) : label;
              return (
                <li key={id}>
                  <button
                    type="button"
                    class="person"
                    aria-haspopup="dialog"
                    title={t('card.open', { name: label })}
                    onClick={(e) => openProfile(id, e.currentTarget)}
                  >
                    <Avatar id={id} name={label} size="s" photo={photoOf(people, id)} />
                    <span class="person-name">{shownName}</span>
                    {p && <StatusEmoji status={p.status} />}
                    {p?.is_bot && <BotTag kind="bot" />}
                    {p?.deactivated && <DeactivatedTag />}
                    {p && <span class="muted">@{p.username}</span>}
                    {p && !p.deactivated && <PresenceDot presence={p.presence} />}
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      {!direct && !channel.archived && (
        <section aria-labelledby="details-add">
          <h3 id="details-add" class="details-heading">
            {t('details.add')}
          </h3>
          <Field label={t('direct.find')} value={query} onValue={setQuery} />
          <ul class="people-list">
            {candidates.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  class="person"
                  disabled={busy}
                  onClick={() =>
                    void run(async () => {
                      await chatApi.addMember(channelId, p.id);
                      setQuery('');
                      setAttempt((n) => n + 1);
                    }, t('details.added', { name: p.display_name || p.username }))
                  }
                >
                  <Avatar id={p.id} name={p.display_name || p.username} size="s" photo={p.photo_url} />
                  <span class="person-name">{p.display_name || p.username}</span>
                  {p.is_bot && <BotTag kind="bot" />}
                  <span class="muted">@{p.username}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {!direct && <ChannelLinksSection channelId={channelId} channelName={title} manage={manage} isAdmin={user.is_admin} />}
      {manage && <WebhooksSection channelId={channelId} channelName={`#${title}`} outgoing={user.is_admin} />}
      {manage && (
        <div class="button-row">
          <Button variant={channel.archived ? 'secondary' : 'danger'} busy={busy} onClick={() => void patch({ archived: !channel.archived })}>
            {channel.archived ? t('admin.channels.unarchive') : t('admin.channels.archive')}
          </Button>
        </div>
      )}
    </Modal>
  );
}

const MUTE_FOR = [
  { key: 'notify.mute1h', ms: 3_600_000 },
  { key: 'notify.mute8h', ms: 8 * 3_600_000 },
  { key: 'notify.mute24h', ms: 24 * 3_600_000 },
] as const;

/** This member's notifications for one conversation: the level, and a mute for a while or for good. */
function NotificationSettings({ channel }: { channel: Channel }) {
  const client = useChat();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const level = channel.notify ?? 'all';
  const now = Date.now();
  const muted = mutedNow(channel, now);
  const mutedUntil = muted ? (channel.muted_until ?? null) : null;

  async function save(notify: NotifyLevel, until: number | null) {
    setBusy(true);
    setError(null);
    try {
      await client.setNotifications(channel.id, notify, until);
    } catch (err) {
      setError(describeError(err));
    }
    setBusy(false);
  }

  return (
    <section aria-labelledby="details-notify" class="notify-settings" data-notify={level} data-muted={muted ? 'true' : 'false'}>
      <h3 id="details-notify" class="details-heading">
        {t('notify.title')}
      </h3>
      {error && <Alert>{error}</Alert>}
      <fieldset class="choices notify-levels" disabled={busy}>
        <legend class="field-label">{t('notify.level')}</legend>
        {(['all', 'mentions', 'none'] as const).map((l) => (
          <label key={l} class="check">
            <input
              type="radio"
              name={`notify-${channel.id}`}
              value={l}
              checked={level === l}
              onChange={() => void save(l, mutedUntil)}
            />
            <span>{t(`notify.${l}`)}</span>
          </label>
        ))}
      </fieldset>
      {muted && mutedUntil !== null ? (
        <div class="mute-row">
          <p class="mute-state">
            {mutedUntil >= MUTED_FOR_GOOD ? t('notify.mutedForever') : t('notify.mutedUntil', { until: formatUntil(mutedUntil, now) })}
          </p>
          <Button variant="secondary" size="small" busy={busy} onClick={() => void save(level, null)}>
            {t('notify.unmute')}
          </Button>
        </div>
      ) : (
        <div class="mute-row" role="group" aria-labelledby={`mute-for-${channel.id}`}>
          <span id={`mute-for-${channel.id}`} class="field-label">
            {t('notify.muteFor')}
          </span>
          {MUTE_FOR.map((m) => (
            <Button key={m.key} variant="secondary" size="small" disabled={busy} onClick={() => void save(level, Date.now() + m.ms)}>
              {t(m.key)}
            </Button>
          ))}
          <Button variant="secondary" size="small" disabled={busy} onClick={() => void save(level, MUTED_FOR_GOOD)}>
            {t('notify.muteForever')}
          </Button>
        </div>
      )}
      <p class="field-hint">{t('notify.mutedHint')}</p>
    </section>
  );
}
