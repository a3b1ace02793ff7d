// File uploads waiting to be sent with a message: one tray per conversation
// (a channel, or a thread in it), kept for the whole session so switching
// channels does not stop them.
//
// Each file: (video: measure it and draw a poster frame) → POST /uploads
// (size and quota checked before any byte) → PATCH chunks from the server's
// offset, with progress → (video: PUT the poster) → done, waiting for Send.
// A 409 or a dropped connection asks the server where the upload stands and
// continues from there, so a lost Wi-Fi resumes instead of starting over.

import { ApiError, filesApi, NetworkError, sendChunk, type FileView, type NewUpload, type UploadView } from '../api';
import { describeError } from '../errors';
import { isPreviewableImage, MAX_ATTACHMENTS } from './files';
import { backoffDelay } from './logic';
import { Store } from './store';
import { probeVideo, type VideoInfo } from './video';

export type UploadState =
  /** Waiting for a free slot (a few files upload at a time). */
  | 'queued'
  /** Measuring a video. */
  | 'preparing'
  | 'uploading'
  /** The connection dropped; trying again. */
  | 'retrying'
  /** All bytes are in; sending the poster frame. */
  | 'finishing'
  | 'done'
  | 'failed';

/** States in which the file is still on its way (Send waits for them). */
export const ACTIVE_STATES: ReadonlySet<UploadState> = new Set(['queued', 'preparing', 'uploading', 'retrying', 'finishing']);

export interface PendingUpload {
  /** Local id. */
  key: string;
  /** `conversationKey(channel, thread)`. */
  conversation: string;
  name: string;
  size: number;
  mime: string;
  state: UploadState;
  /** Bytes the server has, plus those of the chunk in flight. */
  sent: number;
  /** Why it failed, for people (the server's sentence when it gave one). */
  error: string | null;
  /** The stored file, once complete. */
  file: FileView | null;
  /** An object URL of a local image, for the tray's thumbnail. */
  preview: string | null;
  /** A recorded voice message: sent on its own once uploaded, never taken with the typed message. */
  voice?: boolean;
}

/** What the uploader tells the server about a file besides its name, size and type. */
export interface UploadMeta {
  /** A voice message's length (ms). */
  duration_ms?: number;
  /** A voice message's loudness over time: at most 128 values of 0-255. */
  waveform?: number[];
  voice?: boolean;
}

export interface UploadsState {
  items: readonly PendingUpload[];
  /** Conversations where the last files added were refused (over MAX_ATTACHMENTS). */
  full: readonly string[];
}

/** The server side of an upload; replaceable in tests. */
export interface UploadTransport {
  create: (body: NewUpload) => Promise<UploadView>;
  status: (uploadId: string) => Promise<UploadView>;
  chunk: (
    uploadId: string,
    offset: number,
    chunk: Blob,
    onProgress: (sent: number) => void,
    signal: AbortSignal,
  ) => Promise<UploadView>;
  cancel: (uploadId: string) => Promise<void>;
  setPoster: (fileId: string, image: Blob) => Promise<FileView>;
}

export interface UploadOptions {
  transport: UploadTransport;
  probeVideo: (file: Blob) => Promise<VideoInfo | null>;
  /** Waits `ms` (rejecting when `signal` aborts); may end early (the browser came back online). */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  backoff: (attempt: number) => number;
  objectUrls: { create: (blob: Blob) => string; revoke: (url: string) => void } | null;
  /** Files uploading at the same time. */
  concurrency: number;
  /** Chunk size when the server does not suggest one. */
  chunkBytes: number;
}

export const apiTransport: UploadTransport = {
  create: filesApi.createUpload,
  status: filesApi.uploadStatus,
  chunk: sendChunk,
  cancel: filesApi.cancelUpload,
  setPoster: filesApi.setPoster,
};

/** Waits, waking early when the browser reports it is online again. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (typeof window !== 'undefined') window.removeEventListener('online', onOnline);
      if (ok) resolve();
      else reject(abortError());
    };
    const onAbort = () => finish(false);
    const onOnline = () => finish(true);
    const timer = setTimeout(() => finish(true), ms);
    signal.addEventListener('abort', onAbort);
    if (typeof window !== 'undefined') window.addEventListener('online', onOnline);
  });
}

function abortError(): Error {
  return Object.assign(new Error('cancelled'), { name: 'AbortError' });
}

function isAbort(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { name?: unknown }).name === 'AbortError';
}

/** Errors worth waiting out: the connection, the server restarting, a request still holding the upload. */
export function isTransient(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  if (!(err instanceof ApiError)) return false;
  if (err.code === 'upload-busy') return true;
  return err.status === 0 || err.status === 408 || err.status === 429 || (err.status >= 500 && err.status !== 507);
}

function defaultOptions(): UploadOptions {
  const urls =
    typeof URL !== 'undefined' && typeof URL.createObjectURL === 'function'
      ? { create: (b: Blob) => URL.createObjectURL(b), revoke: (u: string) => URL.revokeObjectURL(u) }
      : null;
  return {
    transport: apiTransport,
    probeVideo: (file) => probeVideo(file),
    sleep,
    backoff: (attempt) => backoffDelay(attempt),
    objectUrls: urls,
    concurrency: 2,
    chunkBytes: 8 << 20,
  };
}

/** What a running upload keeps outside the store. */
interface Job {
  file: File;
  uploadId: string | null;
  offset: number;
  chunkBytes: number;
  /** undefined: not measured yet. */
  video: VideoInfo | null | undefined;
  controller: AbortController;
  running: boolean;
  meta: UploadMeta | null;
}

let nextKey = 0;

export class Uploads {
  readonly store: Store<UploadsState>;
  private readonly opts: UploadOptions;
  private jobs = new Map<string, Job>();
  private unloadWatched = false;

  constructor(options: Partial<UploadOptions> = {}) {
    this.opts = { ...defaultOptions(), ...options };
    this.store = new Store<UploadsState>({ items: [], full: [] });
  }

  get items(): readonly PendingUpload[] {
    return this.store.get().items;
  }

  forConversation(conversation: string): PendingUpload[] {
    return this.items.filter((u) => u.conversation === conversation);
  }

  get(key: string): PendingUpload | undefined {
    return this.items.find((u) => u.key === key);
  }

  /** Whether Send must wait for a file of this conversation. */
  busy(conversation: string): boolean {
    return this.items.some((u) => u.conversation === conversation && ACTIVE_STATES.has(u.state));
  }

  /**
   * Adds files to a conversation's tray and starts uploading them. At most
   * MAX_ATTACHMENTS files fit in a tray; the rest are refused (and the tray
   * says so). Returns the keys of the files taken.
   */
  add(conversation: string, files: readonly File[], meta: UploadMeta | null = null): string[] {
    // A voice message goes on its own: it takes no room in the tray of the typed message.
    const room = meta?.voice
      ? files.length
      : Math.max(0, MAX_ATTACHMENTS - this.forConversation(conversation).filter((u) => !u.voice).length);
    const taken = files.slice(0, room);
    const refused = files.length > taken.length;
    const added: PendingUpload[] = taken.map((file) => {
      const key = `u${++nextKey}`;
      this.jobs.set(key, {
        file,
        uploadId: null,
        offset: 0,
        chunkBytes: this.opts.chunkBytes,
        video: file.type.startsWith('video/') ? undefined : null,
        controller: new AbortController(),
        running: false,
        meta,
      });
      return {
        key,
        conversation,
        name: file.name || 'file',
        size: file.size,
        mime: file.type,
        state: 'queued',
        sent: 0,
        error: null,
        file: null,
        preview: this.opts.objectUrls && isPreviewableImage(file) ? this.opts.objectUrls.create(file) : null,
        ...(meta?.voice ? { voice: true } : {}),
      };
    });
    this.watchUnload(true);
    this.store.set((s) => ({
      items: [...s.items, ...added],
      full: refused ? [...s.full.filter((c) => c !== conversation), conversation] : s.full.filter((c) => c !== conversation),
    }));
    this.pump();
    return added.map((u) => u.key);
  }

  /** Stops an upload (or drops a finished or failed file) and removes it from the tray. */
  cancel(key: string): void {
    const item = this.get(key);
    const job = this.jobs.get(key);
    if (job) {
      job.controller.abort();
      this.jobs.delete(key);
      // The server frees the space; a finished file that is never sent is swept later.
      if (job.uploadId && item?.state !== 'done') this.opts.transport.cancel(job.uploadId).catch(() => {});
    }
    if (item) this.remove([key]);
    this.pump();
  }

  /** Tries a failed upload again: from where the server stands, or from the start if it lost it. */
  retry(key: string): void {
    const item = this.get(key);
    const job = this.jobs.get(key);
    if (!item || !job || item.state !== 'failed') return;
    job.controller = new AbortController();
    this.patch(key, { state: 'queued', error: null });
    this.pump();
  }

  /**
   * Takes the finished files of a conversation for a message (in the order they
   * were added) and removes them from the tray. Failed files stay.
   */
  take(conversation: string): FileView[] {
    const done = this.forConversation(conversation).filter((u) => u.state === 'done' && u.file && !u.voice);
    for (const u of done) this.jobs.delete(u.key);
    this.remove(done.map((u) => u.key));
    this.store.set((s) => ({ full: s.full.filter((c) => c !== conversation) }));
    return done.map((u) => u.file!);
  }

  /** Takes one finished file (a voice message, sent on its own) and removes it from the tray. */
  takeOne(key: string): FileView | null {
    const u = this.get(key);
    if (!u || u.state !== 'done' || !u.file) return null;
    this.jobs.delete(key);
    this.remove([key]);
    return u.file;
  }

  /** Stops everything (signing out). `remote`: also tell the server to drop unfinished uploads. */
  cancelAll(remote = false): void {
    for (const key of [...this.jobs.keys()]) {
      if (remote) this.cancel(key);
      else this.jobs.get(key)!.controller.abort();
    }
    this.jobs.clear();
    this.remove(this.items.map((u) => u.key));
    this.watchUnload(false);
  }

  /** Leaving the page would lose the uploads in progress: the browser asks first. */
  private onUnload = (e: BeforeUnloadEvent) => {
    if (!this.items.some((u) => ACTIVE_STATES.has(u.state))) return;
    e.preventDefault();
    e.returnValue = '';
  };

  private watchUnload(on: boolean): void {
    if (typeof window === 'undefined' || on === this.unloadWatched) return;
    this.unloadWatched = on;
    if (on) window.addEventListener('beforeunload', this.onUnload);
    else window.removeEventListener('beforeunload', this.onUnload);
  }

  private remove(keys: string[]): void {
    if (!keys.length) return;
    const gone = new Set(keys);
    for (const u of this.items) if (gone.has(u.key) && u.preview) this.opts.objectUrls?.revoke(u.preview);
    this.store.set((s) => {
      const items = s.items.filter((u) => !gone.has(u.key));
      const left = new Set(items.map((u) => u.conversation));
      return { items, full: s.full.filter((c) => left.has(c)) };
    });
  }

  private patch(key: string, patch: Partial<PendingUpload>): void {
    if (!this.get(key)) return;
    this.store.set((s) => ({ items: s.items.map((u) => (u.key === key ? { ...u, ...patch } : u)) }));
  }

  /** Starts queued uploads while fewer than `concurrency` run. */
  private pump(): void {
    let running = [...this.jobs.values()].filter((j) => j.running).length;
    for (const u of this.items) {
      if (running >= this.opts.concurrency) break;
      const job = this.jobs.get(u.key);
      if (u.state !== 'queued' || !job || job.running) continue;
      running++;
      job.running = true;
      void this.run(u.key, job).finally(() => {
        job.running = false;
        this.pump();
      });
    }
  }

  private async run(key: string, job: Job): Promise<void> {
    const signal = job.controller.signal;
    const { transport } = this.opts;
    try {
      if (job.video === undefined) {
        this.patch(key, { state: 'preparing' });
        job.video = await this.opts.probeVideo(job.file);
        if (signal.aborted) return;
        // The poster frame doubles as the tray's thumbnail.
        const poster = job.video?.poster;
        if (poster && this.opts.objectUrls && !this.get(key)?.preview) {
          this.patch(key, { preview: this.opts.objectUrls.create(poster) });
        }
      }
      this.patch(key, { state: 'uploading', error: null });
      let file: FileView | null = null;
      let attempt = 0;
      let conflicts = 0;
      // After an error: ask the server where the upload stands before sending more.
      let ask = job.uploadId !== null;
      if (job.uploadId === null) {
        const up = await transport.create(this.describe(job));
        job.uploadId = up.id;
        job.offset = up.offset;
        if (up.chunk_bytes > 0) job.chunkBytes = up.chunk_bytes;
        file = up.file;
      }
      const id = job.uploadId;
      while (!file) {
        if (signal.aborted) return;
        try {
          if (ask) {
            const st = await transport.status(id);
            job.offset = st.offset;
            file = st.file;
            ask = false;
            if (file) break;
          }
          this.patch(key, { state: 'uploading', sent: job.offset });
          const start = job.offset;
          const end = Math.min(job.file.size, start + job.chunkBytes);
          const up = await transport.chunk(
            id,
            start,
            job.file.slice(start, end),
            (n) => this.patch(key, { sent: start + Math.min(n, end - start) }),
            signal,
          );
          attempt = 0;
          conflicts = 0;
          job.offset = up.offset;
          file = up.file;
          // Every byte is in yet no file came back: not a state to loop in.
          if (!file && up.offset >= job.file.size) throw new Error('the server did not store the file');
        } catch (err) {
          if (isAbort(err) || signal.aborted) return;
          if (err instanceof ApiError && err.code === 'offset-mismatch' && ++conflicts <= 3) {
            ask = true; // someone else's view of the offset: take the server's and go on
            continue;
          }
          if (!isTransient(err) && !(err instanceof ApiError && err.code === 'offset-mismatch')) throw err;
          this.patch(key, { state: 'retrying', sent: job.offset });
          await this.opts.sleep(this.opts.backoff(attempt++), signal);
          ask = true;
        }
      }
      const poster = job.video?.poster;
      if (poster && file.kind === 'video' && !file.poster_url) {
        this.patch(key, { state: 'finishing', sent: job.file.size });
        try {
          file = await transport.setPoster(file.id, poster);
        } catch (err) {
          if (isAbort(err) || signal.aborted) return;
          // Without a poster the player shows the first frame: not worth failing the file.
        }
      }
      if (signal.aborted) return;
      this.patch(key, { state: 'done', sent: job.file.size, file, error: null });
    } catch (err) {
      if (isAbort(err) || signal.aborted) return;
      // An upload the server no longer knows starts over on retry.
      if (err instanceof ApiError && err.status === 404) {
        job.uploadId = null;
        job.offset = 0;
      }
      this.patch(key, { state: 'failed', error: describeError(err) });
    }
  }

  private describe(job: Job): NewUpload {
    const body: NewUpload = { name: job.file.name || 'file', size: job.file.size };
    if (job.file.type) body.mime = job.file.type;
    if (job.video) {
      body.width = job.video.width;
      body.height = job.video.height;
      if (job.video.duration_ms !== null) body.duration_ms = job.video.duration_ms;
    }
    const meta = job.meta;
    if (meta) {
      if (meta.duration_ms !== undefined) body.duration_ms = Math.max(0, Math.round(meta.duration_ms));
      if (meta.waveform?.length) body.waveform = meta.waveform.slice(0, 128).map((v) => Math.max(0, Math.min(255, Math.round(v))));
      if (meta.voice) body.voice = true;
    }
    return body;
  }
}
