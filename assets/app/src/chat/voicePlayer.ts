// Playing voice messages: one <audio> element for the whole app (starting one message stops
// another), the chosen speed (kept on the device), and when a message ends, the next voice
// message below it starts.

import type { FileView } from '../api';
import { nextSpeed, SPEEDS, type Speed } from './voice';
import { Store } from './store';

/** What plays after a message: the next file, and what plays after that. */
export interface Queued {
  file: FileView;
  next: NextVoice;
}
export type NextVoice = () => Queued | null;

export interface PlaybackState {
  /** The file playing or paused (null: none). */
  fileId: string | null;
  playing: boolean;
  /** Milliseconds into it. */
  position: number;
  /** Its length in milliseconds (the server's, else the element's; 0: unknown). */
  duration: number;
  speed: Speed;
  /** The file that could not be played. */
  failed: string | null;
}

const SPEED_KEY = 'outpost.voiceSpeed';

function savedSpeed(): Speed {
  try {
    const v = Number(localStorage.getItem(SPEED_KEY));
    return (SPEEDS as readonly number[]).includes(v) ? (v as Speed) : 1;
  } catch {
    return 1;
  }
}

export class VoicePlayback {
  readonly store = new Store<PlaybackState>({
    fileId: null,
    playing: false,
    position: 0,
    duration: 0,
    speed: typeof localStorage === 'undefined' ? 1 : savedSpeed(),
    failed: null,
  });
  private audio: HTMLAudioElement | null = null;
  private file: FileView | null = null;
  private next: NextVoice | null = null;
  private frame = 0;

  get state(): PlaybackState {
    return this.store.get();
  }

  /** Plays `file` (from its paused position), or pauses it when it is playing. */
  toggle(file: FileView, next: NextVoice | null = null): void {
    const s = this.state;
    if (s.fileId === file.id && s.playing) this.pause();
    else if (s.fileId === file.id && this.audio) this.resume(next);
    else this.play(file, next);
  }

  /** Starts `file` from `fraction` (0-1) of it. */
  play(file: FileView, next: NextVoice | null = null, fraction = 0): void {
    const audio = this.element();
    this.file = file;
    this.next = next;
    const duration = file.duration_ms ?? 0;
    audio.src = file.url;
    audio.playbackRate = this.state.speed;
    const startAt = (fraction * duration) / 1000;
    if (startAt > 0) {
      const seek = () => {
        audio.removeEventListener('loadedmetadata', seek);
        try {
          audio.currentTime = startAt;
        } catch {
          // not seekable yet
        }
      };
      audio.addEventListener('loadedmetadata', seek);
    }
    this.store.set({ fileId: file.id, playing: true, position: startAt * 1000, duration, failed: null });
    this.start(audio);
  }

  pause(): void {
    this.audio?.pause();
    this.store.set({ playing: false });
    this.tick();
  }

  /** Moves the playing (or paused) file to `fraction` (0-1); another file starts there. */
  seek(file: FileView, fraction: number, next: NextVoice | null = null): void {
    const f = Math.max(0, Math.min(1, fraction));
    if (this.state.fileId !== file.id || !this.audio) {
      this.play(file, next, f);
      return;
    }
    const total = this.total();
    if (total > 0) {
      try {
        this.audio.currentTime = (f * total) / 1000;
      } catch {
        // not seekable
      }
      this.store.set({ position: f * total });
    }
  }

  /** 1× → 1.5× → 2× → 1×, for every voice message (remembered on this device). */
  cycleSpeed(): Speed {
    const speed = nextSpeed(this.state.speed);
    if (this.audio) this.audio.playbackRate = speed;
    this.store.set({ speed });
    try {
      localStorage.setItem(SPEED_KEY, String(speed));
    } catch {
      // not remembered
    }
    return speed;
  }

  /** Stops and forgets the current file. */
  stop(): void {
    this.audio?.pause();
    this.file = null;
    this.next = null;
    cancelAnimationFrame(this.frame);
    this.store.set({ fileId: null, playing: false, position: 0, duration: 0 });
  }

  private resume(next: NextVoice | null): void {
    if (next) this.next = next;
    this.store.set({ playing: true, failed: null });
    this.start(this.audio!);
  }

  private start(audio: HTMLAudioElement): void {
    audio.playbackRate = this.state.speed;
    const played = audio.play();
    if (played && typeof played.catch === 'function') {
      played.catch((err: unknown) => {
        if ((err as { name?: string })?.name === 'AbortError') return; // replaced by another file
        this.store.set({ playing: false, failed: this.file?.id ?? null });
      });
    }
    cancelAnimationFrame(this.frame);
    const loop = () => {
      this.tick();
      if (this.state.playing) this.frame = requestAnimationFrame(loop);
    };
    this.frame = requestAnimationFrame(loop);
  }

  /** The length of the current file: the server's, else what the element knows. */
  private total(): number {
    const fromFile = this.file?.duration_ms ?? 0;
    if (fromFile > 0) return fromFile;
    const d = this.audio?.duration ?? NaN;
    return Number.isFinite(d) && d > 0 ? d * 1000 : 0;
  }

  private tick(): void {
    const audio = this.audio;
    if (!audio || !this.file) return;
    const position = audio.currentTime * 1000;
    const duration = this.total();
    const s = this.state;
    if (Math.abs(s.position - position) >= 30 || s.duration !== duration) this.store.set({ position, duration });
  }

  private element(): HTMLAudioElement {
    if (this.audio) return this.audio;
    const audio = new Audio();
    audio.preload = 'auto';
    audio.addEventListener('ended', () => {
      const queued = this.next?.() ?? null;
      if (queued) this.play(queued.file, queued.next);
      else this.stop();
    });
    audio.addEventListener('error', () => {
      if (!this.file) return;
      this.store.set({ playing: false, failed: this.file.id });
    });
    this.audio = audio;
    return audio;
  }
}

/** The app's voice message player. */
export const voicePlayback = new VoicePlayback();
