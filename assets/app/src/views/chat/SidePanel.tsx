import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { chatApi, type Message, type SearchHit } from '../../api';
import { useChat } from '../../chat/client';
import { conversationKey, messageSummary } from '../../chat/files';
import { channelTitle, parseSearch, sameSender, snippetParts } from '../../chat/logic';
import { useStore } from '../../chat/store';
import { BotTag } from '../../components/BotTag';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { channelPath, navigate } from '../../router';
import { useSession } from '../../session';
import { useMentionInfo } from './ChannelView';
import { Composer, TypingLine } from './Composer';
import { formatFull, MessageItem, PendingItem, senderName, senderTag } from './MessageItem';
import { openPanel, showToast, ui, type Panel } from './ui';
import { SavedBody } from './Saved';
import { DropOverlay, useFileDrop } from './UploadTray';

export function SidePanel() {
  const panel = useStore(ui, (s) => s.panel);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!panel) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented && !ui.get().dialog) openPanel(null);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [!!panel]);
  useEffect(() => {
    if (panel && panel.type !== 'thread') ref.current?.querySelector<HTMLElement>('.panel-title')?.focus();
  }, [panel?.type]);
  if (!panel) return null;

  let title = '';
  let body = null;
  switch (panel.type) {
    case 'thread':
      title = t('thread.title');
      body = <ThreadBody key={panel.rootId} panel={panel} />;
      break;
    case 'search':
      title = t('search.title');
      body = <SearchBody key={panel.query} query={panel.query} />;
      break;
    case 'pins':
      title = t('pins.title');
      body = <PinsBody key={panel.channelId} channelId={panel.channelId} />;
      break;
    case 'mentions':
      title = t('mentions.title');
      body = <MentionsBody />;
      break;
    case 'saved':
      title = t('saved.title');
      body = <SavedBody />;
      break;
  }
  return (
    <aside ref={ref} class="side-panel" aria-label={title} data-panel={panel.type}>
      <header class="panel-head">
        <h2 class="panel-title" tabIndex={-1}>
          {title}
        </h2>
        <button type="button" class="icon-btn panel-close" aria-label={t('panel.close')} onClick={() => openPanel(null)}>
          <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d="M3 3l10 10M13 3L3 13" class="icon-stroke" />
          </svg>
        </button>
      </header>
      <div class="panel-body">{body}</div>
    </aside>
  );
}

function ThreadBody({ panel }: { panel: Extract<Panel, { type: 'thread' }> }) {
  const client = useChat();
  const { user } = useSession();
  const thread = useStore(client.store, (s) => s.threads.get(panel.rootId));
  const people = useStore(client.store, (s) => s.people);
  const outbox = useStore(client.store, (s) => s.outbox);
  const channel = useStore(client.store, (s) => s.channels.get(panel.channelId));
  const epoch = useStore(client.store, (s) => s.epoch);
  const mentions = useMentionInfo();
  const [editing, setEditing] = useState<number | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const drop = useFileDrop(
    (files) => client.uploads.add(conversationKey(panel.channelId, panel.rootId), files),
    !!channel && !channel.archived,
  );

  // (Re)load the thread when opened and after a resync.
  useEffect(() => {
    void client.openThread(panel.rootId);
  }, [panel.rootId, epoch]);
  useEffect(() => () => client.closeThread(panel.rootId), [panel.rootId]);

  const items = thread?.items ?? [];
  const pending = outbox.filter((i) => i.thread_root === panel.rootId);
  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [items.length, pending.length]);

  // A reply opened from a link (`seq`), or a message shown from a quote: highlighted, in view.
  const highlight = useStore(ui, (s) => s.highlight);
  const loaded = !!thread && !thread.loading && !thread.error;
  const sought = useRef<string>('');
  useEffect(() => {
    if (panel.seq === undefined || !loaded) return;
    const key = `${panel.rootId}:${panel.seq}`;
    if (sought.current === key) return;
    sought.current = key;
    const m = items.find((x) => x.seq === panel.seq);
    if (m) ui.set({ highlight: m.id });
    else showToast(t('msg.notFound'));
  }, [panel.seq, panel.rootId, loaded]);
  useEffect(() => {
    if (highlight === null || !items.some((m) => m.id === highlight)) return;
    listRef.current
      ?.querySelector<HTMLElement>(`.msg[data-id="${highlight}"]`)
      ?.scrollIntoView?.({ block: 'center' });
  }, [highlight, loaded, items.length]);

  if (!thread || (thread.loading && !items.length)) return <Loading />;
  if (thread.error) return <p class="alert alert-error">{t('thread.loadFailed')}</p>;
  const [root, ...replies] = items;
  const onEditLast = () => {
    for (let i = replies.length - 1; i >= 0; i--) {
      if (replies[i]!.author_id === user.id && !replies[i]!.deleted) {
        setEditing(replies[i]!.id);
        return;
      }
    }
  };
  const item = (m: Message, first: boolean) => (
    <MessageItem
      key={m.id}
      message={m}
      first={first}
      meId={user.id}
      isAdmin={user.is_admin}
      canModerate={channel?.role === 'owner'}
      people={people}
      mentions={mentions}
      highlight={highlight === m.id}
      editing={editing === m.id}
      inThread
      onEdit={setEditing}
    />
  );
  return (
    <div class="thread" {...drop.props}>
      {drop.over && <DropOverlay />}
      <div class="thread-list" ref={listRef} role="log" aria-label={t('thread.title')}>
        {root && item(root, true)}
        <div class="thread-count" role="separator">
          {t('message.replies', { n: replies.length })}
        </div>
        {replies.map((m, i) => item(m, i === 0 || m.late === true || !sameSender(replies[i - 1]!, m)))}
        {pending.map((p) => (
          <PendingItem key={p.client_id} item={p} name={user.display_name || user.username} meId={user.id} photo={user.photo_url} />
        ))}
      </div>
      <TypingLine channelId={panel.channelId} threadRoot={panel.rootId} />
      {channel && !channel.archived && (
        <Composer
          channelId={panel.channelId}
          threadRoot={panel.rootId}
          placeholder={t('thread.reply')}
          onEditLast={onEditLast}
        />
      )}
    </div>
  );
}

function jumpTo(m: Message) {
  const target = m.thread_root ?? null;
  if (target !== null) {
    navigate(channelPath(m.channel_id));
    openPanel({ type: 'thread', rootId: target, channelId: m.channel_id });
    return;
  }
  navigate(channelPath(m.channel_id, m.seq));
}

function MessageResult({ m, children }: { m: Message; children: ComponentChildren }) {
  const client = useChat();
  const { user } = useSession();
  const people = useStore(client.store, (s) => s.people);
  const channel = useStore(client.store, (s) => s.channels.get(m.channel_id));
  const tag = senderTag(people, m);
  const where = channel
    ? (channel.kind === 'public' || channel.kind === 'private' ? '#' : '') + channelTitle(channel, user.id, people)
    : '';
  return (
    <li>
      <button
        type="button"
        class="result"
        data-message-id={m.id}
        onClick={() => {
          jumpTo(m);
          if (window.matchMedia?.('(max-width: 1023px)').matches) openPanel(null);
        }}
      >
        <span class="result-meta">
          <span class="result-author">{senderName(people, m)}</span>
          {tag && <BotTag kind={tag} />}
          {where && <span class="result-where">{where}</span>}
          <time class="result-time">{formatFull(m.created_at)}</time>
        </span>
        <span class="result-text">{children}</span>
      </button>
    </li>
  );
}

function SearchBody({ query }: { query: string }) {
  const client = useChat();
  const { user } = useSession();
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [parsed] = useState(() =>
    parseSearch(query, [...client.state.channels.values()], [...client.state.people.values()], user.id),
  );
  useEffect(() => {
    if (!parsed.q.trim()) {
      setHits([]);
      return;
    }
    chatApi
      .search({ q: parsed.q, channel_id: parsed.channel_id, author_id: parsed.author_id, from: parsed.from, to: parsed.to, limit: 50 })
      .then(setHits, (err) => setError(describeError(err)));
  }, [parsed]);
  if (error) return <p class="alert alert-error">{error}</p>;
  if (!hits) return <Loading />;
  return (
    <div>
      {parsed.unknown.length > 0 && (
        <p class="alert alert-info search-unknown">{t('search.unknownFilters', { filters: parsed.unknown.join(' ') })}</p>
      )}
      <p class="panel-note" role="status">
        {parsed.q.trim() ? t('search.count', { n: hits.length, q: query }) : t('search.emptyQuery')}
      </p>
      {hits.length === 0 && parsed.q.trim() && <p class="panel-note">{t('search.hint')}</p>}
      <ul class="results">
        {hits.map((h) => (
          <MessageResult key={h.message.id} m={h.message}>
            {snippetParts(h.snippet).map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}
          </MessageResult>
        ))}
      </ul>
    </div>
  );
}

function PinsBody({ channelId }: { channelId: number }) {
  const client = useChat();
  const history = useStore(client.store, (s) => s.histories.get(channelId));
  const [pins, setPins] = useState<Message[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pinnedKey = history?.items.filter((m) => m.pinned).map((m) => m.id).join(',');
  useEffect(() => {
    chatApi.pins(channelId).then(setPins, (err) => setError(describeError(err)));
  }, [channelId, pinnedKey]);
  if (error) return <p class="alert alert-error">{error}</p>;
  if (!pins) return <Loading />;
  if (!pins.length) return <p class="panel-note">{t('pins.empty')}</p>;
  return (
    <ul class="results">
      {pins.map((m) => (
        <MessageResult key={m.id} m={m}>
          {messageSummary(m)}
        </MessageResult>
      ))}
    </ul>
  );
}

function MentionsBody() {
  const [list, setList] = useState<Message[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    chatApi.mentions({ limit: 50 }).then(setList, (err) => setError(describeError(err)));
  }, []);
  if (error) return <p class="alert alert-error">{error}</p>;
  if (!list) return <Loading />;
  if (!list.length) return <p class="panel-note">{t('mentions.empty')}</p>;
  return (
    <ul class="results">
      {list.map((m) => (
        <MessageResult key={m.id} m={m}>
          {messageSummary(m)}
        </MessageResult>
      ))}
    </ul>
  );
}
