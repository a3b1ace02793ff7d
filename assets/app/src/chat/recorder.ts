// Recording a voice message in the browser: the microphone through MediaRecorder (Opus in
// WebM where supported), a live level for the meter, then the recording's duration and
// waveform (decoded with the Web Audio API; the meter's levels when decoding fails).

import { computeWaveform, levelOf, pickRecordingType, WAVEFORM_BARS } from './voice';

export interface Recording {
  blob: Blob;
  /** The container without its codec parameters (`audio/webm`). */
  mime: string;
  duration_ms: number;
  /** WAVEFORM_BARS values of 0-255. */
  waveform: number[];
}

/** The longest recording (then it stops by itself): 30 minutes. */
export const MAX_RECORDING_MS = 30 * 60 * 1000;

type AudioContextCtor = typeof AudioContext;

function audioContextClass(): AudioContextCtor | null {
  if (typeof window === 'undefined') return null;
  const w = window as unknown as { AudioContext?: AudioContextCtor; webkitAudioContext?: AudioContextCtor };
  return w.AudioContext ?? w.webkitAudioContext ?? null;
}

export class VoiceRecorder {
  private stream: MediaStream | null = null;
  private recorder: MediaRecorder | null = null;
  private chunks: Blob[] = [];
  private ctx: AudioContext | null = null;
  private analyser: AnalyserNode | null = null;
  private bytes: Uint8Array<ArrayBuffer> | null = null;
  private levels: number[] = [];
  private sampler: ReturnType<typeof setInterval> | null = null;
  private startedAt = 0;
  private stopped: Promise<void> | null = null;
  private done = false;

  /** Whether this browser can record (and the page may ask for the microphone). */
  static supported(): boolean {
    return (
      typeof MediaRecorder !== 'undefined' &&
      typeof navigator !== 'undefined' &&
      typeof navigator.mediaDevices?.getUserMedia === 'function'
    );
  }

  /** Asks for the microphone and starts recording; rejects when it is refused or missing. */
  async start(): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    if (this.done) {
      for (const track of stream.getTracks()) track.stop();
      throw Object.assign(new Error('cancelled'), { name: 'AbortError' });
    }
    this.stream = stream;
    const type = pickRecordingType((t) => MediaRecorder.isTypeSupported(t));
    const recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
    this.recorder = recorder;
    recorder.ondataavailable = (e) => {
      if (e.data && e.data.size > 0) this.chunks.push(e.data);
    };
    this.stopped = new Promise((resolve) => {
      recorder.onstop = () => resolve();
    });
    recorder.start(250);
    this.startedAt = performance.now();
    // The level meter, and the levels kept as a waveform in case decoding fails.
    const Ctx = audioContextClass();
    if (Ctx) {
      try {
        const ctx = new Ctx();
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 1024;
        ctx.createMediaStreamSource(stream).connect(analyser);
        void ctx.resume().catch(() => {});
        this.ctx = ctx;
        this.analyser = analyser;
        this.bytes = new Uint8Array(new ArrayBuffer(analyser.fftSize));
      } catch {
        // No meter: recording still works.
      }
    }
    this.sampler = setInterval(() => this.levels.push(this.level()), 50);
  }

  /** How loud the microphone is now, 0-1. */
  level(): number {
    if (!this.analyser || !this.bytes) return 0;
    this.analyser.getByteTimeDomainData(this.bytes);
    return levelOf(this.bytes);
  }

  /** Milliseconds recorded so far. */
  elapsed(): number {
    return this.startedAt ? performance.now() - this.startedAt : 0;
  }

  /** Stops and returns the recording with its duration and waveform. */
  async stop(): Promise<Recording> {
    const elapsed = this.elapsed();
    const recorder = this.recorder;
    if (recorder && recorder.state !== 'inactive') recorder.stop();
    await this.stopped;
    const levels = this.levels;
    this.release();
    const mime = (recorder?.mimeType || this.chunks[0]?.type || 'audio/webm').split(';')[0]!.trim();
    const blob = new Blob(this.chunks, { type: mime });
    this.chunks = [];
    const measured = await analyseRecording(blob);
    return {
      blob,
      mime,
      duration_ms: Math.round(measured?.duration_ms ?? elapsed),
      waveform: measured?.waveform ?? computeWaveform(Float32Array.from(levels), WAVEFORM_BARS),
    };
  }

  /** Stops and throws the recording away. */
  cancel(): void {
    const recorder = this.recorder;
    if (recorder && recorder.state !== 'inactive') {
      try {
        recorder.stop();
      } catch {
        // already stopped
      }
    }
    this.chunks = [];
    this.release();
  }

  private release(): void {
    this.done = true;
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
    this.analyser = null;
  }
}

/**
 * A recording's duration and waveform, from its decoded samples. Null when this browser
 * cannot decode it.
 */
export async function analyseRecording(blob: Blob): Promise<{ duration_ms: number; waveform: number[] } | null> {
  try {
    const data = await blob.arrayBuffer();
    let buffer: AudioBuffer;
    if (typeof OfflineAudioContext !== 'undefined') {
      buffer = await new OfflineAudioContext(1, 1, 48000).decodeAudioData(data);
    } else {
      const Ctx = audioContextClass();
      if (!Ctx) return null;
      const ctx = new Ctx();
      try {
        buffer = await ctx.decodeAudioData(data);
      } finally {
        void ctx.close().catch(() => {});
      }
    }
    const channels: Float32Array[] = [];
    for (let i = 0; i < buffer.numberOfChannels; i++) channels.push(buffer.getChannelData(i));
    const duration = buffer.duration * 1000;
    if (!Number.isFinite(duration) || duration <= 0) return null;
    return { duration_ms: duration, waveform: computeWaveform(channels, WAVEFORM_BARS) };
  } catch {
    return null;
  }
}
