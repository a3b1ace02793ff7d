import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { chatApi, type Channel, type Person } from '../../api';
import { CallButton } from '../../calls/CallButton';
import { useCalls } from '../../calls/context';
import { useChat } from '../../chat/client';
import { conversationKey } from '../../chat/files';
import { buildRows, channelTitle, isDirect, mutedNow, type Row } from '../../chat/logic';
import { seenMessage, seenText, type Seen } from '../../chat/receipts';
import type { MentionInfo } from '../../chat/Markdown';
import { useStore } from '../../chat/store';
import { Button } from '../../components/Button';
import { Loading } from '../../components/Loading';
import { OverflowMenu, type OverflowItem } from '../../components/OverflowMenu';
import { VirtualList, type VirtualListHandle } from '../../components/VirtualList';
import { describeError } from '../../errors';
import { getLocale, t } from '../../i18n';
import { NARROW_HEADER, useMediaQuery } from '../../media';
import { navigate } from '../../router';
import { useSession } from '../../session';
import { ChannelLinkIndicator } from './ChannelLinks';
import { Composer, TypingLine } from './Composer';
import { formatWhen, MessageItem, PendingItem, personName } from './MessageItem';
import { ChannelIcon, MutedIcon } from './Sidebar';
import { openDialog, openPanel, showToast, ui } from './ui';
import { DropOverlay, useFileDrop } from './UploadTray';

export function useMentionInfo(): MentionInfo {
  const client = useChat();
  const { user } = useSession();
  const people = useStore(client.store, (s) => s.people);
  return useMemo(() => {
    const names = new Set([...people.values()].map((p) => p.username.toLowerCase()));
    return { me: user.username.toLowerCase(), known: (n: string) => names.has(n) };
  }, [people, user.username]);
}

function dayLabel(time: number): string {
  const d = new Date(time);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86_400_000);
  const same = (a: Date, b: Date) => a.toDateString() === b.toDateString();
  if (same(d, today)) return t('day.today');
  if (same(d, yesterday)) return t('day.yesterday');
  return new Intl.DateTimeFormat(getLocale(), {
    weekday: 'long',
    month: 'long',
    day: 'numeric',
    year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric',
  }).format(d);
}

/** "Seen" / "Seen by N" under one's own latest message that others have read; who and when as the tooltip. */
function SeenLine({ channel, seen, people }: { channel: Channel; seen: Seen; people: ReadonlyMap<number, Person> }) {
  const { label, title } = seenText(channel.kind, seen.readers, (id) => personName(people, id), (time) => formatWhen(time));
  return (
    <p class="seen-line" title={title} data-readers={seen.readers.map((r) => r.user_id).join(',')}>
      <span aria-hidden="true">{label}</span>
      <span class="visually-hidden">{`${label}: ${title.split('\n').join(', ')}`}</span>
    </p>
  );
}

export function ChannelView({ channelId, seq, thread = null }: { channelId: number; seq: number | null; thread?: number | null }) {
  const client = useChat();
  const ready = useStore(client.store, (s) => s.ready);
  const channel = useStore(client.store, (s) => s.channels.get(channelId));
  const [missing, setMissing] = useState<'checking' | 'missing' | null>(null);

  // Not in the sidebar: maybe just created or joined elsewhere; else not found.
  useEffect(() => {
    if (!ready || channel) return;
    setMissing('checking');
    chatApi.channel(channelId).then(
      (c) => {
        client.addChannel(c);
        setMissing(null);
      },
      () => setMissing('missing'),
    );
  }, [ready, channelId, !!channel]);

  // A link to a reply that lives only in its thread: the thread opens beside the channel.
  useEffect(() => {
    if (thread !== null && seq !== null && channel) openPanel({ type: 'thread', rootId: thread, channelId, seq });
  }, [thread, seq, !!channel]);

  if (!ready || (!channel && missing !== 'missing')) return <Loading />;
  if (!channel) return <ChannelNotFound channelId={channelId} seq={seq} />;
  return <ChannelPane channel={channel} seq={thread !== null ? null : seq} />;
}

function ChannelNotFound({ channelId, seq = null }: { channelId: number; seq?: number | null }) {
  const client = useChat();
  const [joinable, setJoinable] = useState(false);
  const [busy, setBusy] = useState(false);
  // A link to a message of a conversation one cannot read.
  useEffect(() => {
    if (seq !== null) showToast(t('msg.notFound'));
  }, [channelId, seq]);
  useEffect(() => {
    chatApi.browse().then((list) => setJoinable(list.some((c) => c.id === channelId && !c.archived)), () => {});
  }, [channelId]);
  return (
    <div class="page page-pad" data-testid="channel-not-found">
      <h1 class="page-title">{t('channel.notFound')}</h1>
      <p class="muted">{t('channel.notFoundText')}</p>
      {joinable && (
        <Button
          busy={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await chatApi.join(channelId);
              client.addChannel(await chatApi.channel(channelId));
            } catch {
              setBusy(false);
            }
          }}
        >
          {t('browse.join')}
        </Button>
      )}
    </div>
  );
}

function ChannelPane({ channel, seq }: { channel: Channel; seq: number | null }) {
  const client = useChat();
  const { user } = useSession();
  const id = channel.id;
  const history = useStore(client.store, (s) => s.histories.get(id));
  const epoch = useStore(client.store, (s) => s.epoch);
  const people = useStore(client.store, (s) => s.people);
  const outbox = useStore(client.store, (s) => s.outbox);
  const highlight = useStore(ui, (s) => s.highlight);
  const jumpRequest = useStore(ui, (s) => s.jumpRequest);
  const mentions = useMentionInfo();
  const [editing, setEditing] = useState<number | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [jumpNonce, setJumpNonce] = useState(0);
  const listHandle = useRef<VirtualListHandle | null>(null);
  // The read position when the channel was opened: the "new messages" line.
  const [readAtOpen] = useState(() => (channel.last_read_seq < channel.last_seq ? channel.last_read_seq : null));

  useEffect(() => {
    client.setCurrent(id);
    return () => client.setCurrent(null);
  }, [id]);

  const online = useStore(client.store, (s) => s.connection === 'connected');
  const calls = useCalls();
  const callOngoing = useStore(calls.store, (s) => s.calls.has(id));
  const inCallHere = useStore(calls.store, (s) => s.active?.channelId === id);
  const narrow = useMediaQuery(NARROW_HEADER);
  const receipts = useStore(client.store, (s) => s.receipts.get(id));
  const direct = isDirect(channel);

  // Read receipts of a direct conversation: loaded when it opens, then live.
  useEffect(() => {
    if (direct) void client.loadReceipts(id);
  }, [id, direct, epoch]);

  // Load history: around a message (search result) or the latest page; again
  // after a failure once the connection is back.
  const jumped = useRef('');
  useEffect(() => {
    if (seq !== null) {
      const key = `${id}:${seq}:${epoch}:${jumpRequest}`;
      const h = client.state.histories.get(id);
      if (jumped.current === key && h && !h.error) return;
      jumped.current = key;
      void client.loadAround(id, seq).then(() => {
        setJumpNonce((n) => n + 1);
        // A link to a message that is not (or no longer) in the conversation.
        const loaded = client.state.histories.get(id);
        if (loaded && !loaded.error && !loaded.items.some((m) => m.seq === seq)) showToast(t('msg.notFound'));
      });
    } else {
      const h = client.state.histories.get(id);
      if (!h || h.hasNewer || h.error) void client.loadLatest(id).catch(() => {});
    }
  }, [id, seq, epoch, online, jumpRequest]);

  const target = seq !== null ? history?.items.find((m) => m.seq === seq) : undefined;
  useEffect(() => {
    if (target) ui.set({ highlight: target.id });
  }, [target?.id, jumpNonce]);

  const items = history?.items ?? [];
  const rows = useMemo(() => buildRows(items, readAtOpen, user.id), [items, readAtOpen, user.id]);
  const pending = outbox.filter((i) => i.channel_id === id && i.thread_root === null);
  const seen = useMemo(
    () => (direct && receipts && !history?.hasNewer ? seenMessage(items, user.id, receipts) : null),
    [direct, receipts, items, history?.hasNewer, user.id],
  );
  const muted = mutedNow(channel);
  const title = channelTitle(channel, user.id, people);
  const canModerate = channel.role === 'owner';

  const leave = async () => {
    if (!window.confirm(t('channel.confirmLeave', { name: title }))) return;
    try {
      await chatApi.leave(id);
      client.removeChannel(id);
      navigate('/', { replace: true });
    } catch (err) {
      window.alert(describeError(err));
    }
  };
  // One list for both layouts: buttons in the header, or the "More" menu on phones, where
  // calling moves into the menu too unless a call is on (then its button shows the call).
  const headerActions: OverflowItem[] = [
    ...(!channel.archived && !callOngoing && !inCallHere
      ? [{ key: 'call', label: t('call.start'), onSelect: () => void calls.startCall(id) }]
      : []),
    {
      key: 'details',
      label: direct ? t('channel.members') : t('channel.details'),
      onSelect: () => openDialog({ type: 'details', channelId: id }),
    },
    { key: 'pins', label: t('channel.pins'), onSelect: () => openPanel({ type: 'pins', channelId: id }) },
    ...(direct ? [] : [{ key: 'leave', label: t('channel.leave'), onSelect: () => void leave(), danger: true }]),
  ];

  const drop = useFileDrop((files) => client.uploads.add(conversationKey(id, null), files), !channel.archived);

  const onNearTop = useCallback(() => void client.loadOlder(id), [id]);
  const onNearBottom = useCallback(() => void client.loadNewer(id), [id]);
  const onAtBottomChange = useCallback((b: boolean) => setAtBottom(b), []);
  const getKey = useCallback((r: Row) => r.key, []);

  const onEditLast = () => {
    for (let i = items.length - 1; i >= 0; i--) {
      const m = items[i]!;
      if (m.author_id === user.id && !m.deleted && m.kind === 'text') {
        setEditing(m.id);
        return;
      }
    }
  };

  const render = (row: Row) => {
    if (row.type === 'day') {
      return (
        <div class="day-divider" role="separator">
          <span>{dayLabel(row.time)}</span>
        </div>
      );
    }
    if (row.type === 'unread') {
      return (
        <div class="unread-divider" role="separator" aria-label={t('channel.newMessages')}>
          <span>{t('channel.newMessages')}</span>
        </div>
      );
    }
    const item = (
      <MessageItem
        message={row.message}
        first={row.first}
        meId={user.id}
        isAdmin={user.is_admin}
        canModerate={canModerate}
        people={people}
        mentions={mentions}
        highlight={row.message.id === highlight}
        editing={editing === row.message.id}
        onEdit={setEditing}
      />
    );
    if (seen?.messageId !== row.message.id) return item;
    return (
      <>
        {item}
        <SeenLine channel={channel} seen={seen} people={people} />
      </>
    );
  };

  const placeholder = direct
    ? t('composer.placeholderDirect', { name: title })
    : t('composer.placeholder', { name: title });

  const intro = history && !history.hasOlder && !history.loading && (
    <div class="channel-intro">
      <h2 class="channel-intro-title">{direct ? title : `#${title}`}</h2>
      <p class="muted">
        {direct ? t('channel.introDirect', { name: title }) : t('channel.intro', { name: title })}
      </p>
    </div>
  );

  return (
    <div class="channel" data-channel-id={id} {...drop.props}>
      {drop.over && <DropOverlay />}
      <header class={narrow ? 'channel-head channel-head-narrow' : 'channel-head'}>
        <div class="channel-title-row">
          <h1 class="channel-title" tabIndex={-1}>
            {!direct && <ChannelIcon channel={channel} />}
            <span>{title}</span>
          </h1>
          {muted && (
            <span class="channel-muted" role="img" aria-label={t('channel.muted')} title={t('channel.muted')}>
              <MutedIcon />
            </span>
          )}
          {channel.archived && <span class="badge">{t('channel.archived')}</span>}
          {!direct && <ChannelLinkIndicator channelId={id} />}
          {channel.topic && <p class="channel-topic">{channel.topic}</p>}
        </div>
        {narrow ? (
          <div class="channel-tools">
            <CallButton channel={channel} title={title} statusOnly compact />
            <OverflowMenu label={t('channel.more')} menuLabel={t('channel.actions', { name: title })} items={headerActions} />
          </div>
        ) : (
          <div class="channel-tools">
            <CallButton channel={channel} title={title} />
            {headerActions
              .filter((a) => a.key !== 'call')
              .map((a) => (
                <button key={a.key} type="button" class="btn btn-ghost btn-small" data-action={a.key} onClick={a.onSelect}>
                  {a.label}
                </button>
              ))}
          </div>
        )}
      </header>

      {history?.loading === 'initial' || !history ? (
        <div class="messages messages-loading">
          <Loading />
        </div>
      ) : (
        <VirtualList
          class="messages"
          label={t('channel.messagesLabel', { name: title })}
          items={rows}
          getKey={getKey}
          render={render}
          onNearTop={onNearTop}
          onNearBottom={onNearBottom}
          onAtBottomChange={onAtBottomChange}
          scrollToKey={target ? `m${target.id}` : null}
          scrollNonce={jumpNonce}
          handle={listHandle}
          header={
            <>
              {history.loading === 'older' && <Loading label={t('channel.loadingOlder')} />}
              {intro}
            </>
          }
          footer={
            <>
              {history.loading === 'newer' && <Loading />}
              {!history.hasNewer &&
                pending.map((item) => (
                  <PendingItem key={item.client_id} item={item} name={user.display_name || user.username} meId={user.id} photo={user.photo_url} />
                ))}
            </>
          }
        />
      )}
      {(!atBottom || history?.hasNewer) && history && history.loading !== 'initial' && (
        // A row of its own under the list, not floating over it, so it never hides a message.
        <div class="jump-latest-dock">
          <button
            type="button"
            class="jump-latest"
            onClick={() => {
              if (seq !== null) navigate(`/c/${id}`, { replace: true });
              else if (history.hasNewer) void client.loadLatest(id);
              listHandle.current?.scrollToBottom();
            }}
          >
            {t('channel.jumpLatest')}
          </button>
        </div>
      )}
      {history?.error && (
        <p class="alert alert-error channel-error" role="alert">
          {t('channel.loadFailed')}
        </p>
      )}
      <TypingLine channelId={id} />
      {channel.archived ? (
        <p class="archived-note">{t('channel.archivedNote')}</p>
      ) : (
        <Composer
          channelId={id}
          placeholder={placeholder}
          onEditLast={onEditLast}
          onSent={() => {
            // Your own message: show the end of the conversation (the latest page if needed).
            if (seq !== null) navigate(`/c/${id}`, { replace: true });
            else if (history?.hasNewer) void client.loadLatest(id);
            listHandle.current?.scrollToBottom();
          }}
        />
      )}
    </div>
  );
}
