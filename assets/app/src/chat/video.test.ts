import { describe, expect, it } from 'vitest';
import { posterTime, probeVideo, type MediaEnv } from './video';

describe('posterTime', () => {
  it('takes 10% into the video, at least 0.1 s, never past the middle', () => {
    expect(posterTime(100)).toBe(10);
    expect(posterTime(1.5)).toBeCloseTo(0.15);
    expect(posterTime(0.5)).toBe(0.1);
    expect(posterTime(0.1)).toBe(0.05);
    expect(posterTime(Number.POSITIVE_INFINITY)).toBe(0.1);
    expect(posterTime(Number.NaN)).toBe(0.1);
  });
});

/** A <video> that "loads" a clip: metadata, seeking, and (like recorded WebM) no duration at first. */
class FakeVideo extends EventTarget {
  muted = false;
  preload = '';
  playsInline = false;
  videoWidth = 0;
  videoHeight = 0;
  duration = Number.NaN;
  seeks: number[] = [];
  private time = 0;
  constructor(private clip: { width: number; height: number; duration: number; headerDuration: boolean } | null) {
    super();
  }
  set src(_url: string) {
    setTimeout(() => {
      if (!this.clip) {
        this.dispatchEvent(new Event('error'));
        return;
      }
      this.videoWidth = this.clip.width;
      this.videoHeight = this.clip.height;
      this.duration = this.clip.headerDuration ? this.clip.duration : Number.POSITIVE_INFINITY;
      this.dispatchEvent(new Event('loadedmetadata'));
    }, 1);
  }
  get currentTime() {
    return this.time;
  }
  set currentTime(t: number) {
    this.seeks.push(t);
    setTimeout(() => {
      if (!Number.isFinite(this.duration) && this.clip) {
        this.duration = this.clip.duration;
        this.dispatchEvent(new Event('durationchange'));
      }
      this.time = Math.min(t, this.duration);
      this.dispatchEvent(new Event('seeked'));
    }, 1);
  }
  removeAttribute() {}
  load() {}
}

class FakeCanvas {
  width = 0;
  height = 0;
  drawn: unknown[][] = [];
  getContext() {
    return { drawImage: (...args: unknown[]) => this.drawn.push(args) };
  }
  toBlob(cb: (b: Blob | null) => void, type: string, quality: number) {
    cb(new Blob([`${type};${quality}`], { type }));
  }
}

function env(video: FakeVideo, canvas = new FakeCanvas()) {
  const urls = { created: 0, revoked: [] as string[] };
  const e: MediaEnv = {
    createVideo: () => video as unknown as HTMLVideoElement,
    createCanvas: () => canvas as unknown as HTMLCanvasElement,
    createObjectURL: () => `blob:video-${++urls.created}`,
    revokeObjectURL: (u) => urls.revoked.push(u),
    timeoutMs: 500,
  };
  return { env: e, urls, canvas };
}

describe('probeVideo', () => {
  it('reads size and duration and draws a JPEG poster 10% in, scaled to at most 1280 px', async () => {
    const video = new FakeVideo({ width: 1920, height: 1080, duration: 20, headerDuration: true });
    const { env: e, urls, canvas } = env(video);
    const info = await probeVideo(new Blob(['x']), e);
    expect(info).toMatchObject({ width: 1920, height: 1080, duration_ms: 20000 });
    expect(info!.poster!.type).toBe('image/jpeg');
    expect(await info!.poster!.text()).toBe('image/jpeg;0.8');
    expect(video.seeks).toEqual([2]);
    expect([canvas.width, canvas.height]).toEqual([1280, 720]);
    expect(canvas.drawn).toEqual([[video, 0, 0, 1280, 720]]);
    expect(video.muted).toBe(true);
    expect(urls.revoked).toEqual(['blob:video-1']);
  });

  it('finds the duration of a recorded WebM by seeking to the end first', async () => {
    const video = new FakeVideo({ width: 320, height: 240, duration: 1.5, headerDuration: false });
    const { env: e, canvas } = env(video);
    const info = await probeVideo(new Blob(['x']), e);
    expect(info!.duration_ms).toBe(1500);
    expect(video.seeks[0]).toBe(Number.MAX_SAFE_INTEGER);
    expect(video.seeks[1]).toBeCloseTo(0.15);
    // Small videos keep their size.
    expect([canvas.width, canvas.height]).toEqual([320, 240]);
  });

  it('gives up on what the browser cannot play, and still releases the object URL', async () => {
    const { env: e, urls } = env(new FakeVideo(null));
    expect(await probeVideo(new Blob(['x']), e)).toBeNull();
    expect(urls.revoked).toEqual(['blob:video-1']);
  });
});
