// What the browser learns about a video before uploading it: its size and
// duration (sent with the upload, since the server does not decode video) and
// a poster frame (a JPEG drawn from a hidden <video> onto a canvas).

import { fitWithin } from './files';

export interface VideoInfo {
  width: number;
  height: number;
  /** Null when the browser could not tell. */
  duration_ms: number | null;
  /** A JPEG frame, or null when none could be drawn. */
  poster: Blob | null;
}

/** The largest side of a poster image: enough for the message list and the player. */
export const POSTER_MAX = 1280;

/** Where to take the poster frame: 10% into the video (at least 0.1 s), never past its middle. */
export function posterTime(durationSeconds: number): number {
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) return 0.1;
  return Math.min(Math.max(0.1, durationSeconds * 0.1), durationSeconds / 2);
}

/** What `probeVideo` needs from the page; replaceable in tests. */
export interface MediaEnv {
  createVideo: () => HTMLVideoElement;
  createCanvas: () => HTMLCanvasElement;
  createObjectURL: (blob: Blob) => string;
  revokeObjectURL: (url: string) => void;
  /** How long to wait for each step (loading, seeking). */
  timeoutMs: number;
}

export const browserMediaEnv = (): MediaEnv => ({
  createVideo: () => document.createElement('video'),
  createCanvas: () => document.createElement('canvas'),
  createObjectURL: (blob) => URL.createObjectURL(blob),
  revokeObjectURL: (url) => URL.revokeObjectURL(url),
  timeoutMs: 8000,
});

/** Resolves with the event's name when one of `events` fires, or 'timeout'. */
function once(el: EventTarget, events: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const handlers: [string, () => void][] = [];
    const finish = (name: string) => {
      clearTimeout(timer);
      for (const [ev, h] of handlers) el.removeEventListener(ev, h);
      resolve(name);
    };
    for (const ev of events) {
      const h = () => finish(ev);
      handlers.push([ev, h]);
      el.addEventListener(ev, h);
    }
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
  });
}

function toJpeg(canvas: HTMLCanvasElement): Promise<Blob | null> {
  return new Promise((resolve) => {
    try {
      canvas.toBlob((b) => resolve(b), 'image/jpeg', 0.8);
    } catch {
      resolve(null); // a tainted or zero-sized canvas
    }
  });
}

/**
 * Loads `file` in a detached <video> and reads its size and duration, then
 * seeks to `posterTime` and draws that frame as a JPEG (at most POSTER_MAX
 * pixels on the long side). Resolves with null when the browser cannot play
 * the file (the upload goes on without dimensions or poster).
 */
export async function probeVideo(file: Blob, env: MediaEnv = browserMediaEnv()): Promise<VideoInfo | null> {
  const video = env.createVideo();
  const url = env.createObjectURL(file);
  try {
    video.muted = true;
    video.preload = 'auto';
    video.playsInline = true;
    const loaded = once(video, ['loadedmetadata', 'error'], env.timeoutMs);
    video.src = url;
    if ((await loaded) !== 'loadedmetadata') return null;
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return null; // audio only
    let duration = video.duration;
    if (!Number.isFinite(duration)) {
      // Recorded WebM has no duration in its header: seeking far makes the browser find it.
      const found = once(video, ['durationchange', 'seeked', 'error'], env.timeoutMs);
      video.currentTime = Number.MAX_SAFE_INTEGER;
      await found;
      duration = video.duration;
    }
    const info: VideoInfo = {
      width,
      height,
      duration_ms: Number.isFinite(duration) && duration > 0 ? Math.round(duration * 1000) : null,
      poster: null,
    };
    const seeked = once(video, ['seeked', 'error'], env.timeoutMs);
    video.currentTime = posterTime(duration);
    if ((await seeked) !== 'seeked') return info;
    const size = fitWithin(width, height, POSTER_MAX)!;
    const canvas = env.createCanvas();
    canvas.width = size.width;
    canvas.height = size.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return info;
    ctx.drawImage(video, 0, 0, size.width, size.height);
    info.poster = await toJpeg(canvas);
    return info;
  } catch {
    return null;
  } finally {
    env.revokeObjectURL(url);
    try {
      video.removeAttribute('src');
      video.load();
    } catch {
      // Nothing to release.
    }
  }
}
