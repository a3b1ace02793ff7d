// Voice messages without UI: the waveform of a recording, the recorder's gestures, the
// player's speeds and which voice message plays next. Pure and unit tested; the browser parts
// (MediaRecorder, AudioContext, the <audio> element) are in `recorder.ts` and `voicePlayer.ts`.

import type { FileView, Message } from '../api';

/** Bars in a recording's waveform. */
export const WAVEFORM_BARS = 64;

/** The most values the server takes in a waveform. */
export const WAVEFORM_MAX = 128;

/**
 * The waveform of a recording: the loudest sample (absolute value, over every channel) of
 * each of `bars` equal stretches of it, scaled so the loudest stretch is 255 — a quiet
 * recording still shows its shape, and near-silence (peaks under `floor`) stays low. Whole
 * numbers 0-255; `bars` zeros for an empty recording.
 */
export function computeWaveform(
  channels: Float32Array | readonly Float32Array[],
  bars: number = WAVEFORM_BARS,
  floor = 0.05,
): number[] {
  const list: readonly Float32Array[] = channels instanceof Float32Array ? [channels] : channels;
  const length = list.reduce((n, c) => Math.max(n, c.length), 0);
  const peaks = new Array<number>(bars).fill(0);
  if (!length || bars <= 0) return peaks;
  for (let b = 0; b < bars; b++) {
    const start = Math.floor((b * length) / bars);
    const end = Math.max(start + 1, Math.floor(((b + 1) * length) / bars));
    let peak = 0;
    for (const c of list) {
      for (let i = start; i < end && i < c.length; i++) {
        const v = Math.abs(c[i]!);
        if (v > peak && Number.isFinite(v)) peak = v;
      }
    }
    peaks[b] = peak;
  }
  const max = Math.max(floor, ...peaks);
  return peaks.map((p) => Math.max(0, Math.min(255, Math.round((p / max) * 255))));
}

/** A waveform fit for display: values clamped to 0-255, at most `max` of them; bars of zero if none. */
export function displayWaveform(values: readonly number[] | null | undefined, bars: number = WAVEFORM_BARS): number[] {
  const src = (values ?? []).filter((v) => Number.isFinite(v)).map((v) => Math.max(0, Math.min(255, Math.round(v))));
  if (!src.length) return new Array<number>(bars).fill(0);
  if (src.length <= bars) return src;
  // More values than bars: the loudest of each group.
  const out: number[] = [];
  for (let b = 0; b < bars; b++) {
    const start = Math.floor((b * src.length) / bars);
    const end = Math.max(start + 1, Math.floor(((b + 1) * src.length) / bars));
    out.push(Math.max(...src.slice(start, end)));
  }
  return out;
}

/** How loud a stretch of microphone input is (0-1), from an AnalyserNode's time-domain bytes. */
export function levelOf(bytes: Uint8Array): number {
  if (!bytes.length) return 0;
  let sum = 0;
  for (const b of bytes) {
    const v = (b - 128) / 128;
    sum += v * v;
  }
  // RMS of speech is small: scale it up so talking fills most of the meter.
  return Math.min(1, Math.sqrt(sum / bytes.length) * 3);
}

/** The container the recorder asks for, in order of preference (Opus in WebM first). */
export const RECORDING_TYPES = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'];

/** The first recording type this browser supports ('' : let it choose). */
export function pickRecordingType(isTypeSupported: (type: string) => boolean): string {
  for (const type of RECORDING_TYPES) {
    try {
      if (isTypeSupported(type)) return type;
    } catch {
      // keep looking
    }
  }
  return '';
}

/** The file name of a recording made at `time` (`voice-2026-01-31-14-05-09.webm`). */
export function recordingName(mime: string, time: number): string {
  const d = new Date(time);
  const p = (n: number) => String(n).padStart(2, '0');
  const ext = /ogg/.test(mime) ? 'ogg' : /mp4|aac/.test(mime) ? 'm4a' : 'webm';
  return `voice-${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}.${ext}`;
}

// ---- hold to talk (phones) --------------------------------------------------

/** Sliding the finger this far left while holding cancels the recording. */
export const CANCEL_SLIDE_PX = 80;

/** A press shorter than this is a tap: the recording goes on, with Send and Cancel buttons. */
export const HOLD_MIN_MS = 400;

/**
 * What letting go of the microphone button does after holding it: `cancel` when the finger
 * slid left more than CANCEL_SLIDE_PX, `send` after a real hold, `lock` after a tap (recording
 * goes on until Send or Cancel).
 */
export function releaseAction(dx: number, heldMs: number): 'cancel' | 'send' | 'lock' {
  if (dx < -CANCEL_SLIDE_PX) return 'cancel';
  return heldMs >= HOLD_MIN_MS ? 'send' : 'lock';
}

// ---- playback ---------------------------------------------------------------

export const SPEEDS = [1, 1.5, 2] as const;
export type Speed = (typeof SPEEDS)[number];

/** The speed after a press of the speed button: 1× → 1.5× → 2× → 1×. */
export function nextSpeed(speed: number): Speed {
  const at = SPEEDS.indexOf(speed as Speed);
  return SPEEDS[(at + 1) % SPEEDS.length]!;
}

/** "1×", "1.5×", "2×". */
export function speedLabel(speed: number): string {
  return `${speed}×`;
}

/** A duration as the player shows it: `0:07`, `12:30`, `1:02:03`. */
export function formatClock(ms: number | null | undefined): string {
  const total = Math.max(0, Math.floor((Number.isFinite(ms) ? (ms as number) : 0) / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Whether a file is a voice message the voice player shows. */
export function isVoice(f: Pick<FileView, 'kind' | 'voice'>): boolean {
  return f.voice === true && f.kind === 'audio';
}

/**
 * The voice message that plays after one ends: the next voice file of the same message, else
 * the first voice file of the messages below it in the conversation (`messages` in order).
 * Deleted messages are skipped. Null when there is none (or the message is not in the list).
 */
export function nextVoiceFile(
  messages: readonly Pick<Message, 'id' | 'deleted' | 'files'>[],
  messageId: number,
  fileId: string,
): { messageId: number; file: FileView } | null {
  const at = messages.findIndex((m) => m.id === messageId);
  if (at < 0) return null;
  const own = messages[at]!.files ?? [];
  const fileAt = own.findIndex((f) => f.id === fileId);
  for (const f of own.slice(fileAt + 1)) if (isVoice(f)) return { messageId, file: f };
  for (const m of messages.slice(at + 1)) {
    if (m.deleted) continue;
    const f = (m.files ?? []).find(isVoice);
    if (f) return { messageId: m.id, file: f };
  }
  return null;
}
