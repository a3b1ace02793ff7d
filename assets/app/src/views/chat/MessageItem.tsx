import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { chatApi, type ForwardView, type Message, type Person, type QuoteView } from '../../api';
import { CallRecordItem } from '../../calls/CallRecord';
import { useChat } from '../../chat/client';
import { useStore } from '../../chat/store';
import { QUICK_REACTIONS } from '../../chat/emoji';
import { visibleFiles } from '../../chat/files';
import { isWebhookMessage } from '../../chat/logic';
import { Markdown, type MentionInfo } from '../../chat/Markdown';
import { parseMessageLink, quotePreviewText } from '../../chat/messages';
import type { OutboxItem } from '../../chat/outbox';
import { BotTag } from '../../components/BotTag';
import { describeError, describeProblem } from '../../errors';
import { getLocale, t } from '../../i18n';
import { displayNameWithSite } from '../../links';
import { useKeyboardHints } from '../../media';
import { navigate, shouldInterceptClick } from '../../router';
import { Attachments } from './Attachments';
import { Avatar, BotAvatar, DeactivatedTag, photoOf, StatusEmoji } from './Avatar';
import { EmojiPicker } from './EmojiPicker';
import { openMessageById } from './jump';
import { MessageMenu } from './MessageMenu';
import { openDialog, openPanel, openProfile, ui } from './ui';

// Creating an Intl.DateTimeFormat is slow; thousands of rows share these.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: 'time' | 'full'): Intl.DateTimeFormat {
  const key = `${getLocale()}:${kind}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(
      getLocale(),
      kind === 'time' ? { hour: '2-digit', minute: '2-digit' } : { dateStyle: 'full', timeStyle: 'short' },
    );
    formatters.set(key, f);
  }
  return f;
}

export function formatTime(time: number): string {
  return formatter('time').format(time);
}

export function formatFull(time: number): string {
  return formatter('full').format(time);
}

/** A moment as people say it: the time today, else the date and time. */
export function formatWhen(time: number, now: number = Date.now()): string {
  if (new Date(time).toDateString() === new Date(now).toDateString()) return formatTime(time);
  return new Intl.DateTimeFormat(getLocale(), { dateStyle: 'medium', timeStyle: 'short' }).format(time);
}

export function personName(people: ReadonlyMap<number, Person>, id: number | null): string {
  if (id === null) return t('message.system');
  const p = people.get(id);
  return p ? p.display_name || p.username : t('message.unknownUser', { id });
}

/**
 * Who a message is from: the webhook's sender name, else the author's name, with their site when
 * they are a person of a linked site ("Anna · HQ").
 */
export function senderName(people: ReadonlyMap<number, Person>, m: Pick<Message, 'author_id' | 'sender_name'>): string {
  if (isWebhookMessage(m)) return m.sender_name!;
  const p = m.author_id !== null ? people.get(m.author_id) : undefined;
  return p ? displayNameWithSite(p) : personName(people, m.author_id);
}

/** The tag after a sender's name: posted through a webhook, or by a bot account; none for people. */
export function senderTag(people: ReadonlyMap<number, Person>, m: Pick<Message, 'author_id' | 'sender_name'>): 'webhook' | 'bot' | null {
  if (isWebhookMessage(m)) return 'webhook';
  return m.author_id !== null && people.get(m.author_id)?.is_bot ? 'bot' : null;
}

interface Props {
  message: Message;
  first: boolean;
  meId: number;
  isAdmin: boolean;
  canModerate: boolean;
  people: ReadonlyMap<number, Person>;
  mentions: MentionInfo;
  highlight: boolean;
  editing: boolean;
  inThread?: boolean;
  onEdit: (id: number | null) => void;
}

export const MessageItem = memo(function MessageItem(props: Props) {
  const { message: m, first, meId, people } = props;
  const client = useChat();
  const [picker, setPicker] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = senderName(people, m);
  // The avatar's initials come from the name alone, not its site.
  const avatarName = isWebhookMessage(m) ? name : personName(people, m.author_id);
  const tag = senderTag(people, m);
  // Posts from a webhook have no author: never "mine", so no editing (moderators may delete).
  const mine = m.author_id !== null && m.author_id === meId;
  const files = visibleFiles(m);
  // A person's name and avatar open their profile card (not a webhook's sender name).
  const authorId = tag === 'webhook' ? null : m.author_id;
  const author = authorId !== null ? people.get(authorId) : undefined;

  async function act(fn: () => Promise<Message>) {
    setError(null);
    try {
      client.applyMessage(await fn());
    } catch (err) {
      setError(describeError(err));
    }
  }
  const react = (emoji: string) => act(() => chatApi.react(m.id, emoji));

  if (m.kind === 'call' && !m.deleted) {
    return (
      <CallRecordItem
        message={m}
        nameOf={(id) => personName(people, id)}
        time={formatTime(m.created_at)}
        fullTime={formatFull(m.created_at)}
      />
    );
  }

  if (m.kind === 'system') {
    return (
      <div class="msg msg-system" data-seq={m.seq} data-id={m.id}>
        <span class="msg-system-text">{m.body}</span>
        <time class="msg-time" dateTime={new Date(m.created_at).toISOString()}>
          {formatTime(m.created_at)}
        </time>
      </div>
    );
  }

  const classes = ['msg'];
  if (first) classes.push('msg-first');
  if (props.highlight) classes.push('msg-highlight');
  if (m.deleted) classes.push('msg-deleted');
  if (m.pinned) classes.push('msg-pinned');
  if (m.forwarded) classes.push('msg-forward');
  if (m.late) classes.push('msg-late');

  // A quote opens the message it answers: in this thread when it is here, else wherever it is.
  const openQuote = (id: number) => {
    if (props.inThread) {
      const root = m.thread_root ?? m.id;
      if (client.state.threads.get(root)?.items.some((x) => x.id === id)) {
        ui.set({ highlight: id });
        return;
      }
    }
    void openMessageById(client, id);
  };
  // Links to messages of this server open in the app, not a new tab.
  const onBodyClick = (e: MouseEvent) => {
    const a = (e.target as Element | null)?.closest?.('a[href]');
    if (!a || !shouldInterceptClick(e)) return;
    const target = parseMessageLink(a.getAttribute('href') ?? '', location.origin);
    if (!target) return;
    e.preventDefault();
    navigate(`/c/${target.channelId}?m=${target.seq}${target.thread !== null ? `&t=${target.thread}` : ''}`);
  };

  return (
    <article
      class={classes.join(' ')}
      data-seq={m.seq}
      data-id={m.id}
      data-item
      tabIndex={-1}
      aria-label={t('message.label', {
        name: tag ? t('badge.nameWith', { name, badge: t(tag === 'bot' ? 'badge.bot' : 'badge.webhook') }) : name,
        time: formatFull(m.created_at),
      })}
    >
      <div class="msg-gutter">
        {first ? (
          tag === 'webhook' ? (
            <BotAvatar />
          ) : authorId !== null ? (
            // The name button after it says the same to keyboards and screen readers.
            <button
              type="button"
              class="av-btn"
              tabIndex={-1}
              aria-hidden="true"
              onClick={(e) => openProfile(authorId, e.currentTarget)}
            >
              <Avatar id={authorId} name={avatarName} photo={photoOf(people, authorId)} />
            </button>
          ) : (
            <Avatar id={m.author_id} name={avatarName} />
          )
        ) : (
          <time class="msg-time msg-time-hover" dateTime={new Date(m.created_at).toISOString()} title={formatFull(m.created_at)}>
            {formatTime(m.created_at)}
          </time>
        )}
      </div>
      <div class="msg-main">
        {first && (
          <div class="msg-head">
            {authorId !== null ? (
              <button
                type="button"
                class="msg-author"
                aria-haspopup="dialog"
                title={t('card.open', { name })}
                onClick={(e) => openProfile(authorId, e.currentTarget)}
              >
                {name}
              </button>
            ) : (
              <span class="msg-author">{name}</span>
            )}
            {tag && <BotTag kind={tag} />}
            {author && <StatusEmoji status={author.status} />}
            {author?.deactivated && <DeactivatedTag />}
            <time class="msg-time" dateTime={new Date(m.created_at).toISOString()} title={formatFull(m.created_at)}>
              {formatTime(m.created_at)}
            </time>
            {m.pinned && <span class="msg-pin-tag">{t('message.pinned')}</span>}
            {m.late && <LateTag />}
          </div>
        )}
        {!m.deleted && m.forwarded && <ForwardedLabel forwarded={m.forwarded} />}
        {!m.deleted && m.thread_root !== null && m.also_in_channel && !props.inThread && (
          <button
            type="button"
            class="msg-also-link"
            onClick={() => openPanel({ type: 'thread', rootId: m.thread_root!, channelId: m.channel_id })}
          >
            {t('msg.repliedInThread')}
          </button>
        )}
        {!m.deleted && m.quote && (
          <QuoteBlock quote={m.quote} people={people} onOpen={() => openQuote(m.quote!.id)} />
        )}
        {m.deleted ? (
          <p class="msg-body msg-tombstone">{t('message.deleted')}</p>
        ) : props.editing ? (
          <EditBox message={m} onDone={() => props.onEdit(null)} />
        ) : (
          (m.body !== '' || m.edited || !files.length) && (
            <div class="msg-body" onClick={onBodyClick}>
              <Markdown
                source={m.body}
                mentions={props.mentions}
                suffix={
                  m.edited ? (
                    <button
                      type="button"
                      class="msg-edited"
                      aria-haspopup="dialog"
                      aria-label={t('msg.editHistoryOpen')}
                      title={m.edited_at ? t('msg.editedAt', { time: formatFull(m.edited_at) }) : t('msg.editHistoryOpen')}
                      onClick={() => openDialog({ type: 'edits', message: m })}
                    >
                      {t('message.edited')}
                    </button>
                  ) : undefined
                }
              />
            </div>
          )
        )}
        {files.length > 0 && <Attachments files={files} message={m} inThread={props.inThread} />}
        {props.inThread && !m.deleted && m.thread_root !== null && m.also_in_channel && (
          <p class="msg-also-note">{t('msg.alsoSentToChannel')}</p>
        )}
        {!m.deleted && m.reactions.length > 0 && (
          <div class="reactions" role="group" aria-label={t('message.reactions')}>
            {m.reactions.map((r) => {
              const mineR = r.user_ids.includes(meId);
              const who = r.user_ids.map((id) => personName(people, id)).join(', ');
              return (
                <button
                  key={r.emoji}
                  type="button"
                  class={mineR ? 'reaction reaction-mine' : 'reaction'}
                  aria-pressed={mineR}
                  aria-label={t('message.reactionLabel', { emoji: r.emoji, n: r.count, who })}
                  title={who}
                  onClick={() => react(r.emoji)}
                >
                  <span class="reaction-emoji">{r.emoji}</span>
                  <span class="reaction-count">{r.count}</span>
                </button>
              );
            })}
          </div>
        )}
        {!props.inThread && m.reply_count > 0 && (
          <button
            type="button"
            class="thread-link"
            onClick={() => openPanel({ type: 'thread', rootId: m.id, channelId: m.channel_id })}
          >
            {t('message.replies', { n: m.reply_count })}
            {m.last_reply_at && <span class="muted"> · {formatTime(m.last_reply_at)}</span>}
          </button>
        )}
        {error && (
          <p class="msg-error" role="alert">
            {error}
          </p>
        )}
      </div>
      {!m.deleted && !props.editing && (
        <div class={menuOpen ? 'msg-actions msg-actions-open' : 'msg-actions'} role="toolbar" aria-label={t('message.actions')}>
          {QUICK_REACTIONS.slice(0, 3).map((e) => (
            <button key={e} type="button" class="msg-act" aria-label={t('message.reactWith', { emoji: e })} onClick={() => react(e)}>
              {e}
            </button>
          ))}
          <button
            type="button"
            class="msg-act"
            aria-label={t('message.addReaction')}
            title={t('message.addReaction')}
            aria-expanded={picker}
            onClick={() => setPicker(!picker)}
          >
            <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <circle cx="8" cy="8" r="6" class="icon-stroke" />
              <path d="M5.5 9.5c1.2 1.6 3.8 1.6 5 0" class="icon-stroke" />
              <circle cx="6" cy="6.5" r="0.8" class="icon-fill" />
              <circle cx="10" cy="6.5" r="0.8" class="icon-fill" />
            </svg>
          </button>
          {!props.inThread && (
            <button
              type="button"
              class="msg-act"
              aria-label={t('message.reply')}
              title={t('message.reply')}
              onClick={() => openPanel({ type: 'thread', rootId: m.id, channelId: m.channel_id })}
            >
              <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
                <path d="M2 3h12v8H7l-3 3v-3H2z" class="icon-stroke" />
              </svg>
            </button>
          )}
          <button
            type="button"
            class="msg-act"
            aria-label={m.pinned ? t('message.unpin') : t('message.pin')}
            title={m.pinned ? t('message.unpin') : t('message.pin')}
            onClick={() => act(() => (m.pinned ? chatApi.unpin(m.id) : chatApi.pin(m.id)))}
          >
            <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M6 2h4l-.5 4 2.5 2v1H4V8l2.5-2zM8 9v5" class="icon-stroke" />
            </svg>
          </button>
          <MessageMenu message={m} inThread={!!props.inThread} onOpenChange={setMenuOpen} />
          {mine && (
            <button
              type="button"
              class="msg-act"
              aria-label={t('message.edit')}
              title={t('message.edit')}
              onClick={() => props.onEdit(m.id)}
            >
              <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
                <path d="M3 13l1-3 7-7 2 2-7 7zM10 4l2 2" class="icon-stroke" />
              </svg>
            </button>
          )}
          {(mine || props.isAdmin || props.canModerate) && (
            <button
              type="button"
              class="msg-act msg-act-danger"
              aria-label={t('message.delete')}
              title={t('message.delete')}
              onClick={() => {
                if (window.confirm(t('message.confirmDelete'))) void act(() => chatApi.deleteMessage(m.id));
              }}
            >
              <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
                <path d="M3 4h10M6 4V2h4v2M4.5 4l.7 10h5.6l.7-10" class="icon-stroke" />
              </svg>
            </button>
          )}
          {picker && (
            <EmojiPicker
              onPick={(e) => {
                setPicker(false);
                void react(e);
              }}
              onClose={() => setPicker(false)}
            />
          )}
        </div>
      )}
    </article>
  );
});

/** "Forwarded from Alice · date": opens the original for those who may read it. */
function ForwardedLabel({ forwarded: f }: { forwarded: ForwardView }) {
  const client = useChat();
  const label = t('msg.forwardedFrom', { name: f.author_name });
  return (
    <div class="msg-forwarded">
      <svg class="msg-forwarded-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
        <path d="M9 3l5 5-5 5M14 8H6a4 4 0 00-4 4v1" class="icon-stroke" />
      </svg>
      {f.message_id !== null ? (
        <button
          type="button"
          class="msg-forwarded-link"
          title={t('msg.openOriginal')}
          onClick={() => void openMessageById(client, f.message_id!, t('msg.originalHidden'))}
        >
          {label}
        </button>
      ) : (
        <span class="msg-forwarded-link">{label}</span>
      )}
      <time class="msg-forwarded-time" dateTime={new Date(f.created_at).toISOString()}>
        {formatFull(f.created_at)}
      </time>
    </div>
  );
}

/** "arrived late": a message from a linked site that came after newer ones (the link was down). */
export function LateTag() {
  return (
    <span class="msg-late-tag" title={t('message.lateHint')}>
      {t('message.late')}
    </span>
  );
}

/** The message a reply answers, as it is now; a click shows it. */
export function QuoteBlock({ quote, people, onOpen }: { quote: QuoteView; people: ReadonlyMap<number, Person>; onOpen?: () => void }) {
  const name = senderName(people, { author_id: quote.author_id, sender_name: quote.sender_name ?? undefined });
  const text = quotePreviewText(quote);
  const body = (
    <>
      <span class="msg-quote-author">{name}</span>
      <span class="msg-quote-text">{text}</span>
    </>
  );
  if (quote.deleted || !onOpen) {
    return (
      <div class={quote.deleted ? 'msg-quote msg-quote-deleted' : 'msg-quote'} data-quote-id={quote.id}>
        {body}
      </div>
    );
  }
  return (
    <button
      type="button"
      class="msg-quote"
      data-quote-id={quote.id}
      aria-label={t('msg.quoteOpen', { name, text })}
      onClick={onOpen}
    >
      {body}
    </button>
  );
}

function EditBox({ message, onDone }: { message: Message; onDone: () => void }) {
  const client = useChat();
  const [text, setText] = useState(message.body);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const keyboardHints = useKeyboardHints();
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (el) {
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
    }
  }, []);
  async function save() {
    const body = text.trim();
    if (!body || body === message.body) {
      onDone();
      return;
    }
    setBusy(true);
    try {
      client.applyMessage(await chatApi.editMessage(message.id, body));
      onDone();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }
  return (
    <div class="edit-box">
      <textarea
        ref={ref}
        class="input edit-input"
        aria-label={t('message.editLabel')}
        value={text}
        rows={Math.min(8, text.split('\n').length + 1)}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            onDone();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void save();
          }
        }}
      />
      {error && <p class="msg-error" role="alert">{error}</p>}
      <div class="edit-actions">
        {keyboardHints && <span class="muted edit-hint kbd-hint">{t('message.editHint')}</span>}
        <button type="button" class="btn btn-secondary btn-small" onClick={onDone}>
          {t('common.cancel')}
        </button>
        <button type="button" class="btn btn-primary btn-small" disabled={busy} onClick={() => void save()}>
          {t('common.save')}
        </button>
      </div>
    </div>
  );
}

/** A message still in the outbox: pending (queued / sending) or failed. */
export function PendingItem({ item, name, meId, photo }: { item: OutboxItem; name: string; meId: number; photo?: string | null }) {
  const client = useChat();
  return (
    <article class={`msg msg-first msg-pending msg-${item.state}`} data-client-id={item.client_id} data-state={item.state}>
      <div class="msg-gutter">
        <Avatar id={meId} name={name} photo={photo} />
      </div>
      <div class="msg-main">
        <div class="msg-head">
          <span class="msg-author">{name}</span>
          <span class="msg-status">
            {item.state === 'failed' ? t('message.failed') : item.state === 'sending' ? t('message.sending') : t('message.queued')}
          </span>
        </div>
        {item.quote && <PendingQuote item={item} />}
        {item.body !== '' && (
          <div class="msg-body">
            <Markdown source={item.body} />
          </div>
        )}
        {item.files && item.files.length > 0 && (
          <div class="msg-pending-files">
            <Attachments files={item.files} />
          </div>
        )}
        {item.state === 'failed' && (
          <div class="pending-actions">
            {item.error && (
              <span class="msg-error">
                {/* Translated now, in the current language (the outbox keeps the server's code). */}
                {describeProblem({ code: item.error, field: item.error_field, params: item.error_params })}
              </span>
            )}
            <button type="button" class="btn btn-secondary btn-small" onClick={() => client.retrySend(item.client_id)}>
              {t('common.retry')}
            </button>
            <button type="button" class="btn btn-ghost btn-small" onClick={() => client.discardSend(item.client_id)}>
              {t('message.discard')}
            </button>
          </div>
        )}
      </div>
    </article>
  );
}

function PendingQuote({ item }: { item: OutboxItem }) {
  const client = useChat();
  const people = useStore(client.store, (s) => s.people);
  return <QuoteBlock quote={item.quote!} people={people} />;
}
