// Voice messages: the player in a message (play/pause, the waveform with progress, elapsed
// and total time, speed), and the recorder in the composer (timer, level meter, Send and
// Cancel; on phones also press and hold).

import { useContext, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FileView, Message } from '../../api';
import { ChatContext, type ChatClient } from '../../chat/client';
import { MAX_RECORDING_MS, VoiceRecorder } from '../../chat/recorder';
import { useStore } from '../../chat/store';
import { displayWaveform, formatClock, nextVoiceFile, speedLabel } from '../../chat/voice';
import { voicePlayback, type Queued } from '../../chat/voicePlayer';
import { t } from '../../i18n';
import { useKeyboardHints } from '../../media';

/** What plays after `fileId` of `messageId`: the next voice message below it in the same list. */
function nextFrom(client: ChatClient | null, scope: { channelId: number; threadRoot: number | null }, messageId: number, fileId: string): Queued | null {
  if (!client) return null;
  const s = client.state;
  const list = scope.threadRoot !== null ? s.threads.get(scope.threadRoot)?.items : s.histories.get(scope.channelId)?.items;
  const n = nextVoiceFile(list ?? [], messageId, fileId);
  if (!n) return null;
  return { file: n.file, next: () => nextFrom(client, scope, n.messageId, n.file.id) };
}

export function VoicePlayer({ file, message, inThread = false }: { file: FileView; message?: Message; inThread?: boolean }) {
  const client = useContext(ChatContext);
  const active = useStore(voicePlayback.store, (s) => (s.fileId === file.id ? s : null));
  const speed = useStore(voicePlayback.store, (s) => s.speed);
  const failed = useStore(voicePlayback.store, (s) => s.failed === file.id);
  const bars = useMemo(() => displayWaveform(file.waveform), [file.waveform]);
  const ref = useRef<HTMLDivElement>(null);
  const playing = !!active?.playing;
  const total = file.duration_ms && file.duration_ms > 0 ? file.duration_ms : (active?.duration ?? 0);
  const position = active ? Math.min(active.position, total || active.position) : 0;
  const progress = total > 0 ? Math.min(1, position / total) : 0;
  const next = () =>
    message
      ? nextFrom(
          client,
          { channelId: message.channel_id, threadRoot: inThread ? (message.thread_root ?? message.id) : null },
          message.id,
          file.id,
        )
      : null;

  // The next message started by itself: bring it into view.
  const wasActive = useRef(false);
  useEffect(() => {
    if (playing && !wasActive.current) ref.current?.scrollIntoView?.({ block: 'nearest' });
    wasActive.current = !!active;
  }, [!!active, playing]);

  const seekAt = (clientX: number, el: HTMLElement) => {
    const box = el.getBoundingClientRect();
    if (box.width <= 0) return;
    voicePlayback.seek(file, (clientX - box.left) / box.width, next);
  };

  return (
    <div
      ref={ref}
      class={`voice${playing ? ' voice-playing' : ''}${active ? ' voice-active' : ''}`}
      data-file-id={file.id}
      data-duration={Math.round(total)}
      data-position={Math.round(position)}
      data-playing={playing ? 'true' : 'false'}
    >
      <button
        type="button"
        class="voice-play"
        aria-label={playing ? t('voice.pause') : t('voice.play')}
        title={playing ? t('voice.pause') : t('voice.play')}
        onClick={() => voicePlayback.toggle(file, next)}
      >
        {playing ? (
          <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d="M4 3h3v10H4zM9 3h3v10H9z" class="icon-fill" />
          </svg>
        ) : (
          <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d="M4.5 2.5l9 5.5-9 5.5z" class="icon-fill" />
          </svg>
        )}
      </button>
      <div
        class="voice-wave"
        role="slider"
        tabIndex={0}
        aria-label={t('voice.position')}
        aria-valuemin={0}
        aria-valuemax={Math.round(total / 1000)}
        aria-valuenow={Math.round(position / 1000)}
        aria-valuetext={t('voice.positionText', { at: formatClock(position), total: formatClock(total) })}
        onClick={(e) => seekAt(e.clientX, e.currentTarget)}
        onKeyDown={(e) => {
          if (total <= 0) return;
          const step = e.key === 'ArrowRight' ? 5000 : e.key === 'ArrowLeft' ? -5000 : e.key === 'Home' ? -Infinity : e.key === 'End' ? Infinity : 0;
          if (!step) return;
          e.preventDefault();
          const at = Math.max(0, Math.min(total, position + step));
          voicePlayback.seek(file, at / total, next);
        }}
      >
        {bars.map((v, i) => (
          <span
            key={i}
            class={(i + 0.5) / bars.length <= progress ? 'voice-bar voice-bar-played' : 'voice-bar'}
            style={{ height: `${Math.max(10, Math.round((v / 255) * 100))}%` }}
          />
        ))}
      </div>
      <span class="voice-time">
        {active ? t('voice.positionText', { at: formatClock(position), total: formatClock(total) }) : formatClock(total)}
      </span>
      <button
        type="button"
        class="voice-speed"
        aria-label={t('voice.speed', { speed: speedLabel(speed) })}
        title={t('voice.speed', { speed: speedLabel(speed) })}
        onClick={() => voicePlayback.cycleSpeed()}
      >
        {speedLabel(speed)}
      </button>
      {failed && (
        <a class="voice-failed" href={file.url} download={file.name}>
          {t('voice.cannotPlay')}
        </a>
      )}
    </div>
  );
}

// ---- recording ----------------------------------------------------------------

export function MicIcon() {
  return (
    <svg width="18" height="18" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <rect x="5.5" y="1.5" width="5" height="8.5" rx="2.5" class="icon-stroke" />
      <path d="M3 7.5a5 5 0 0010 0M8 12.5V15M5.5 15h5" class="icon-stroke" />
    </svg>
  );
}

/** The recorder while it records: cancel, a red dot and the time, the live level, Send. */
export function VoiceRecorderBar({
  recorder,
  holding,
  dx,
  onSend,
  onCancel,
}: {
  recorder: VoiceRecorder | null;
  holding: boolean;
  dx: number;
  onSend: () => void;
  onCancel: () => void;
}) {
  const [seconds, setSeconds] = useState(0);
  const keyboardHints = useKeyboardHints();
  const fill = useRef<HTMLSpanElement>(null);
  const meter = useRef<HTMLSpanElement>(null);
  const latest = useRef({ onSend, onCancel });
  latest.current = { onSend, onCancel };

  useEffect(() => {
    if (!recorder) return;
    let frame = 0;
    let shown = -1;
    const loop = () => {
      const ms = recorder.elapsed();
      const s = Math.floor(ms / 1000);
      if (s !== shown) {
        shown = s;
        setSeconds(s);
      }
      const level = recorder.level();
      if (fill.current) fill.current.style.transform = `scaleX(${level.toFixed(3)})`;
      meter.current?.setAttribute('data-level', level.toFixed(2));
      if (ms >= MAX_RECORDING_MS) {
        latest.current.onSend();
        return;
      }
      frame = requestAnimationFrame(loop);
    };
    frame = requestAnimationFrame(loop);
    return () => cancelAnimationFrame(frame);
  }, [recorder]);

  // Escape cancels (before the side panel or a dialog sees it). A layout effect: listening from
  // the moment the bar is on screen, not a frame later, or an Escape pressed at once is lost.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      latest.current.onCancel();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);

  const cancelling = holding && dx < -40;
  return (
    <div class={`voice-rec${cancelling ? ' voice-rec-cancelling' : ''}`} role="group" aria-label={t('voice.recording')} data-recording={recorder ? 'true' : 'starting'}>
      {!holding && (
        <button type="button" class="icon-btn voice-rec-cancel" aria-label={t('voice.cancel')} title={t('voice.cancel')} onClick={onCancel}>
          <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d="M3 4h10M6 4V2h4v2M4.5 4l.7 10h5.6l.7-10" class="icon-stroke" />
          </svg>
        </button>
      )}
      <span class="voice-rec-dot" aria-hidden="true" />
      <span class="voice-rec-time" role="timer" aria-label={t('voice.elapsed', { time: formatClock(seconds * 1000) })}>
        {formatClock(seconds * 1000)}
      </span>
      <span ref={meter} class="voice-level" aria-hidden="true">
        <span ref={fill} class="voice-level-fill" />
      </span>
      {holding ? (
        <span class="voice-rec-hint">{cancelling ? t('voice.releaseToCancel') : t('voice.slideToCancel')}</span>
      ) : (
        // A tap on a touch screen: the Cancel and Send buttons say it all.
        keyboardHints && <span class="voice-rec-hint kbd-hint">{t('voice.escapeToCancel')}</span>
      )}
      {!holding && (
        <button type="button" class="btn btn-primary btn-small voice-rec-send" disabled={!recorder} onClick={onSend}>
          {t('voice.send')}
        </button>
      )}
    </div>
  );
}
