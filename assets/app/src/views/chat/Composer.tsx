import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { Person } from '../../api';
import { useChat } from '../../chat/client';
import { conversationKey } from '../../chat/files';
import { channelTitle, isDirect, matchPeople, mentionQuery } from '../../chat/logic';
import { quoteOf } from '../../chat/messages';
import { VoiceRecorder } from '../../chat/recorder';
import { useStore } from '../../chat/store';
import { ACTIVE_STATES } from '../../chat/uploads';
import { draftKey, userStorage } from '../../chat/userData';
import { recordingName, releaseAction } from '../../chat/voice';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { useKeyboardHints } from '../../media';
import { useSession } from '../../session';
import { clearQuote, compose } from './compose';
import { EmojiPicker } from './EmojiPicker';
import { QuoteBlock } from './MessageItem';
import { showToast } from './ui';
import { UploadTray, useUploads } from './UploadTray';
import { MicIcon, VoiceRecorderBar } from './Voice';

/** Recordings shorter than this are dropped (a slip of the finger). */
const MIN_VOICE_MS = 500;

/** A recording in progress: `holding` while the finger stays on the button (phones). */
interface VoiceSession {
  recorder: VoiceRecorder | null;
  holding: boolean;
  dx: number;
}

function coarsePointer(): boolean {
  return typeof window !== 'undefined' && window.matchMedia?.('(pointer: coarse)').matches === true;
}

function loadDraft(userId: number, key: string): string {
  try {
    return userStorage(userId).getItem(key) ?? '';
  } catch {
    return '';
  }
}

/** Through `userStorage`: the draft saved on unmount after signing out must not come back. */
function saveDraft(userId: number, key: string, text: string): void {
  try {
    if (text) userStorage(userId).setItem(key, text);
    else userStorage(userId).removeItem(key);
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
  const [text, setText] = useState(() => loadDraft(user.id, key));
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
  // Send waits until every file is uploaded; failed ones stay behind (retry or remove). A voice
  // message uploads and goes on its own.
  const uploading = uploads.some((u) => !u.voice && ACTIVE_STATES.has(u.state));
  const filesReady = uploads.some((u) => !u.voice && u.state === 'done');
  const canSend = !disabled && !uploading && (text.trim() !== '' || filesReady);
  const quote = useStore(compose, (s) => s.quotes.get(conversation) ?? null);
  const focusRequest = useStore(compose, (s) => (s.focus?.conversation === conversation ? s.focus.n : 0));
  const channel = useStore(client.store, (s) => s.channels.get(channelId));
  const [alsoInChannel, setAlsoInChannel] = useState(false);
  const [voice, setVoice] = useState<VoiceSession | null>(null);
  const [voiceError, setVoiceError] = useState<string | null>(null);
  const voiceRef = useRef<VoiceSession | null>(null);
  voiceRef.current = voice;
  const canRecord = VoiceRecorder.supported();
  const keyboardHints = useKeyboardHints();

  // "Quote reply" from a message's menu: the preview shows here and the text box takes the focus.
  useEffect(() => {
    if (focusRequest) ref.current?.focus();
  }, [focusRequest]);

  // Leaving the conversation throws an unfinished recording away.
  useEffect(() => () => voiceRef.current?.recorder?.cancel(), []);

  useEffect(() => {
    if (autoFocus && window.matchMedia?.('(min-width: 768px)').matches !== false) ref.current?.focus();
  }, [key]);

  // Save the draft shortly after typing stops (and when leaving).
  const latest = useRef(text);
  latest.current = text;
  useEffect(() => {
    const timer = setTimeout(() => saveDraft(user.id, key, text), 300);
    return () => clearTimeout(timer);
  }, [text, key]);
  useEffect(() => () => saveDraft(user.id, key, latest.current), [key]);

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

  /** How the next message goes: the quote it answers, and whether a thread reply also goes to the channel. */
  function sendOptions() {
    return { quote: quote ? quoteOf(quote) : null, alsoInChannel: threadRoot !== null && alsoInChannel };
  }

  function afterSend() {
    clearQuote(conversation);
    setAlsoInChannel(false);
    onSent?.();
  }

  function send() {
    const body = text.trim();
    if (!canSend) return;
    const files = client.uploads.take(conversation);
    if (!body && !files.length) return;
    client.send(channelId, body, threadRoot, files, sendOptions());
    setText('');
    setCaret(0);
    saveDraft(user.id, key, '');
    afterSend();
  }

  // ---- voice messages ----

  async function startVoice(holding: boolean) {
    if (voiceRef.current || disabled) return;
    setVoiceError(null);
    const session: VoiceSession = { recorder: null, holding, dx: 0 };
    setVoice(session);
    voiceRef.current = session;
    const recorder = new VoiceRecorder();
    try {
      await recorder.start();
    } catch (err) {
      recorder.cancel();
      if (voiceRef.current === session) setVoice(null);
      const name = (err as { name?: string } | null)?.name;
      if (name === 'AbortError') return;
      setVoiceError(
        name === 'NotAllowedError' || name === 'SecurityError'
          ? t('voice.micBlocked')
          : name === 'NotFoundError' || name === 'OverconstrainedError'
            ? t('voice.noMic')
            : describeError(err),
      );
      return;
    }
    const current = voiceRef.current;
    if (!current) {
      recorder.cancel(); // cancelled while asking for the microphone
      return;
    }
    const next = { ...current, recorder };
    voiceRef.current = next;
    setVoice(next);
    holdStarted.current = performance.now();
  }

  function cancelVoice() {
    const v = voiceRef.current;
    voiceRef.current = null;
    setVoice(null);
    v?.recorder?.cancel();
  }

  async function finishVoice() {
    const v = voiceRef.current;
    if (!v?.recorder) {
      cancelVoice();
      return;
    }
    voiceRef.current = null;
    setVoice(null);
    const options = sendOptions();
    try {
      const rec = await v.recorder.stop();
      if (rec.duration_ms < MIN_VOICE_MS || rec.blob.size === 0) {
        showToast(t('voice.tooShort'));
        return;
      }
      client.sendVoice(
        channelId,
        threadRoot,
        { blob: rec.blob, name: recordingName(rec.mime, Date.now()), mime: rec.mime, duration_ms: rec.duration_ms, waveform: rec.waveform },
        options,
      );
      afterSend();
    } catch (err) {
      setVoiceError(describeError(err));
    }
  }

  // Phones: press and hold records, letting go sends, sliding left cancels; a tap keeps recording.
  const holdStarted = useRef(0);
  /** When the last press on the microphone ended (the click that may follow is not a second start). */
  const gestureEnded = useRef(-Infinity);
  function onMicPointerDown(e: PointerEvent) {
    if (!coarsePointer() || e.button !== 0 || voiceRef.current) return;
    e.preventDefault();
    gestureEnded.current = Infinity;
    const startX = e.clientX;
    holdStarted.current = Infinity; // until the recording has really started
    void startVoice(true);
    const move = (ev: PointerEvent) => {
      const v = voiceRef.current;
      if (!v || !v.holding) return;
      const dx = Math.min(0, ev.clientX - startX);
      if (dx !== v.dx) {
        const next = { ...v, dx };
        voiceRef.current = next;
        setVoice(next);
      }
    };
    const up = (ev: PointerEvent) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
      gestureEnded.current = performance.now();
      const v = voiceRef.current;
      if (!v) return;
      const action = ev.type === 'pointercancel' ? 'cancel' : releaseAction(Math.min(0, ev.clientX - startX), performance.now() - holdStarted.current);
      if (action === 'cancel') cancelVoice();
      else if (action === 'send' && v.recorder) void finishVoice();
      else {
        // A tap (or let go before the microphone was ready): go on with Send and Cancel.
        const next = { ...v, holding: false, dx: 0 };
        voiceRef.current = next;
        setVoice(next);
      }
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
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
    if (e.key === 'Escape' && quote) {
      e.preventDefault();
      e.stopPropagation();
      clearQuote(conversation);
      return;
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
  const alsoLabel =
    threadRoot !== null && channel
      ? isDirect(channel)
        ? t('msg.alsoSendToDirect')
        : t('msg.alsoSendTo', { name: `#${channelTitle(channel, user.id, people)}` })
      : null;

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
      {quote && (
        <div class="composer-quote" role="group" aria-label={t('msg.replyingTo')}>
          <span class="composer-quote-label">{t('msg.replyingTo')}</span>
          <QuoteBlock quote={quoteOf(quote)} people={people} />
          <button
            type="button"
            class="icon-btn composer-quote-x"
            aria-label={t('msg.quoteCancel')}
            title={t('msg.quoteCancel')}
            onClick={() => {
              clearQuote(conversation);
              ref.current?.focus();
            }}
          >
            <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M3 3l10 10M13 3L3 13" class="icon-stroke" />
            </svg>
          </button>
        </div>
      )}
      {voiceError && (
        <p class="msg-error composer-voice-error" role="alert">
          {voiceError}
        </p>
      )}
      <div class={voice ? 'composer-box composer-recording' : 'composer-box'}>
        {voice ? (
          <VoiceRecorderBar
            recorder={voice.recorder}
            holding={voice.holding}
            dx={voice.dx}
            onSend={() => void finishVoice()}
            onCancel={cancelVoice}
          />
        ) : (
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
        )}
        <div class="composer-tools">
          {!voice && (
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
          )}
          {!voice && (
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
          )}
          {!voice && (
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
          )}
          {canRecord && (!voice || voice.holding) && (
            <button
              key="mic"
              type="button"
              class={voice ? 'icon-btn composer-btn composer-mic composer-mic-on' : 'icon-btn composer-btn composer-mic'}
              aria-label={t('voice.record')}
              title={coarsePointer() ? t('voice.recordHold') : t('voice.record')}
              disabled={disabled}
              onPointerDown={onMicPointerDown}
              onContextMenu={(e) => e.preventDefault()}
              onClick={() => {
                // On phones the press itself records (see onMicPointerDown).
                if (performance.now() - gestureEnded.current < 1000) return;
                void startVoice(false);
              }}
            >
              <MicIcon />
            </button>
          )}
          {!voice && (
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
          )}
          {emoji && !voice && (
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
      {alsoLabel && (
        <label class="check composer-also">
          <input type="checkbox" checked={alsoInChannel} onChange={(e) => setAlsoInChannel(e.currentTarget.checked)} />
          <span>{alsoLabel}</span>
        </label>
      )}
      {uploading ? (
        <p class="composer-hint" aria-hidden="true">
          {t('composer.waitForUploads')}
        </p>
      ) : (
        keyboardHints && (
          <p class="composer-hint kbd-hint" aria-hidden="true">
            {t('composer.hint')}
          </p>
        )
      )}
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
