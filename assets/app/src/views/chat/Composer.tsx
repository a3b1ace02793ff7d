import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { Person } from '../../api';
import { useChat } from '../../chat/client';
import { conversationKey } from '../../chat/files';
import { matchPeople, mentionQuery } from '../../chat/logic';
import { useStore } from '../../chat/store';
import { ACTIVE_STATES } from '../../chat/uploads';
import { t } from '../../i18n';
import { useSession } from '../../session';
import { EmojiPicker } from './EmojiPicker';
import { UploadTray, useUploads } from './UploadTray';

function draftKey(userId: number, channelId: number, threadRoot: number | null): string {
  return `outpost.draft.${userId}.${channelId}${threadRoot !== null ? `.${threadRoot}` : ''}`;
}

function loadDraft(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function saveDraft(key: string, text: string): void {
  try {
    if (text) localStorage.setItem(key, text);
    else localStorage.removeItem(key);
  } catch {
    // ignore
  }
}

interface Props {
  channelId: number;
  threadRoot?: number | null;
  placeholder: string;
  disabled?: boolean;
  /** Up arrow in an empty composer: edit your last message. */
  onEditLast?: () => void;
  /** Called after a message was queued for sending. */
  onSent?: () => void;
  autoFocus?: boolean;
}

export function Composer({ channelId, threadRoot = null, placeholder, disabled, onEditLast, onSent, autoFocus = true }: Props) {
  const client = useChat();
  const { user } = useSession();
  const key = draftKey(user.id, channelId, threadRoot);
  const [text, setText] = useState(() => loadDraft(key));
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [emoji, setEmoji] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const listId = useId();
  const people = useStore(client.store, (s) => s.people);
  const conversation = conversationKey(channelId, threadRoot);
  const uploads = useUploads(conversation);
  // Send waits until every file is uploaded; failed ones stay behind (retry or remove).
  const uploading = uploads.some((u) => ACTIVE_STATES.has(u.state));
  const filesReady = uploads.some((u) => u.state === 'done');
  const canSend = !disabled && !uploading && (text.trim() !== '' || filesReady);

  useEffect(() => {
    if (autoFocus && window.matchMedia?.('(min-width: 768px)').matches !== false) ref.current?.focus();
  }, [key]);

  // Save the draft shortly after typing stops (and when leaving).
  const latest = useRef(text);
  latest.current = text;
  useEffect(() => {
    const timer = setTimeout(() => saveDraft(key, text), 300);
    return () => clearTimeout(timer);
  }, [text, key]);
  useEffect(() => () => saveDraft(key, latest.current), [key]);

  const mention = mentionQuery(text, caret);
  const suggestions: Person[] =
    mention && dismissed !== mention.start
      ? matchPeople([...people.values()].filter((p) => !p.deactivated), mention.query, 6)
      : [];
  const open = suggestions.length > 0;

  function update(value: string, pos: number) {
    setText(value);
    setCaret(pos);
    setActive(0);
    if (value.trim()) client.typing(channelId, threadRoot);
  }

  function insert(snippet: string, from: number, to: number) {
    const value = text.slice(0, from) + snippet + text.slice(to);
    const pos = from + snippet.length;
    setText(value);
    setCaret(pos);
    requestAnimationFrame(() => {
      const el = ref.current;
      if (el) {
        el.focus();
        el.setSelectionRange(pos, pos);
      }
    });
  }

  function pick(p: Person) {
    if (!mention) return;
    insert(`@${p.username} `, mention.start, caret);
  }

  function send() {
    const body = text.trim();
    if (!canSend) return;
    const files = client.uploads.take(conversation);
    if (!body && !files.length) return;
    client.send(channelId, body, threadRoot, files);
    setText('');
    setCaret(0);
    saveDraft(key, '');
    onSent?.();
  }

  function addFiles(files: File[]) {
    if (files.length && !disabled) client.uploads.add(conversation, files);
  }

  function onPaste(e: ClipboardEvent) {
    const data = e.clipboardData;
    const files = Array.from(data?.files ?? []);
    if (!files.length || !data) return;
    // Rich text copied from a document may carry a picture of itself too: paste the text.
    if (data.types.includes('text/html') && data.getData('text/plain').trim()) return;
    e.preventDefault();
    addFiles(files);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.isComposing) return;
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = suggestions.length;
        setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(suggestions[Math.min(active, suggestions.length - 1)]!);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setDismissed(mention!.start);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      send();
      return;
    }
    if (e.key === 'ArrowUp' && !text && onEditLast) {
      e.preventDefault();
      onEditLast();
    }
  }

  const rows = Math.min(10, Math.max(1, text.split('\n').length));

  return (
    <div class="composer">
      {open && (
        <ul id={listId} class="autocomplete" role="listbox" aria-label={t('composer.mentionList')}>
          {suggestions.map((p, i) => (
            <li
              key={p.id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              class={i === active ? 'ac-item ac-active' : 'ac-item'}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(p);
              }}
            >
              <span class="ac-name">{p.display_name || p.username}</span>
              <span class="ac-user">@{p.username}</span>
            </li>
          ))}
        </ul>
      )}
      <UploadTray conversation={conversation} />
      <div class="composer-box">
        <textarea
          ref={ref}
          class="composer-input"
          rows={rows}
          value={text}
          placeholder={placeholder}
          aria-label={placeholder}
          disabled={disabled}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-activedescendant={open ? `${listId}-${active}` : undefined}
          onInput={(e) => update(e.currentTarget.value, e.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onKeyUp={(e) => setCaret(e.currentTarget.selectionStart)}
          onClick={(e) => setCaret(e.currentTarget.selectionStart)}
        />
        <div class="composer-tools">
          <input
            ref={fileInput}
            type="file"
            multiple
            hidden
            tabIndex={-1}
            class="composer-file"
            aria-label={t('composer.attach')}
            onChange={(e) => {
              const input = e.currentTarget;
              addFiles(Array.from(input.files ?? []));
              input.value = ''; // the same file can be picked again
            }}
          />
          <button
            type="button"
            class="icon-btn composer-btn"
            aria-label={t('composer.attach')}
            title={t('composer.attach')}
            disabled={disabled}
            onClick={() => fileInput.current?.click()}
          >
            <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M13.5 7.5l-5.6 5.6a3.3 3.3 0 01-4.7-4.7l6-6a2.2 2.2 0 013.1 3.1l-6 6a1.1 1.1 0 01-1.6-1.6l5.5-5.5" class="icon-stroke" />
            </svg>
          </button>
          <button
            type="button"
            class="icon-btn composer-btn"
            aria-label={t('composer.emoji')}
            title={t('composer.emoji')}
            aria-expanded={emoji}
            disabled={disabled}
            onClick={() => setEmoji(!emoji)}
          >
            <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <circle cx="8" cy="8" r="6" class="icon-stroke" />
              <path d="M5.5 9.5c1.2 1.6 3.8 1.6 5 0" class="icon-stroke" />
              <circle cx="6" cy="6.5" r="0.8" class="icon-fill" />
              <circle cx="10" cy="6.5" r="0.8" class="icon-fill" />
            </svg>
          </button>
          <button
            type="button"
            class="icon-btn composer-send"
            aria-label={t('composer.send')}
            title={uploading ? t('composer.waitForUploads') : t('composer.send')}
            disabled={!canSend}
            onClick={send}
          >
            <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M2 8l12-6-4 13-2.5-5.5z" class="icon-fill" />
            </svg>
          </button>
          {emoji && (
            <EmojiPicker
              align="right"
              onPick={(e) => {
                setEmoji(false);
                const el = ref.current;
                const from = el ? el.selectionStart : text.length;
                const to = el ? el.selectionEnd : text.length;
                insert(e, from, to);
              }}
              onClose={() => setEmoji(false)}
            />
          )}
        </div>
      </div>
      <p class="composer-hint" aria-hidden="true">
        {uploading ? t('composer.waitForUploads') : t('composer.hint')}
      </p>
    </div>
  );
}

/** "Alice is typing…" for a conversation. */
export function TypingLine({ channelId, threadRoot = null }: { channelId: number; threadRoot?: number | null }) {
  const client = useChat();
  const typing = useStore(client.store, (s) => s.typing);
  const people = useStore(client.store, (s) => s.people);
  const names = typing
    .filter((x) => x.channel_id === channelId && x.thread_root === threadRoot)
    .map((x) => {
      const p = people.get(x.user_id);
      return p ? p.display_name || p.username : '';
    })
    .filter(Boolean);
  let text = '';
  if (names.length === 1) text = t('typing.one', { name: names[0]! });
  else if (names.length === 2) text = t('typing.two', { a: names[0]!, b: names[1]! });
  else if (names.length > 2) text = t('typing.many');
  return (
    <div class="typing" aria-live="polite">
      {text}
    </div>
  );
}
