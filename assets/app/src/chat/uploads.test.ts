// The upload engine against a fake server: JSON calls through the fetch
// wrapper, chunks through a fake XMLHttpRequest (the real transport code).

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type FileView } from '../api';
import { setLocale } from '../i18n';
import { Uploads, type UploadOptions, type UploadState } from './uploads';
import type { VideoInfo } from './video';

interface ServerUpload {
  id: string;
  name: string;
  size: number;
  mime: string;
  bytes: number[];
  meta: Record<string, unknown>;
}

type Fault =
  /** The connection drops after `deliver` bytes of the chunk reached the server. */
  | { kind: 'network'; deliver: number }
  /** An earlier request for this upload lands meanwhile (`extra` bytes), so this one conflicts. */
  | { kind: 'conflict'; extra: number }
  | { kind: 'status'; status: number; code: string; message: string }
  /** Never answers (until aborted). */
  | { kind: 'hang' }
  | { kind: 'ok' };

class FakeServer {
  uploads = new Map<string, ServerUpload>();
  chunkBytes = 4;
  log: string[] = [];
  patchFaults: Fault[] = [];
  createError: { status: number; code: string; message: string } | null = null;
  posters: { id: string; type: string; size: number }[] = [];
  nextId = 1;

  view(u: ServerUpload, done = false) {
    return {
      id: u.id,
      size: u.size,
      offset: u.bytes.length,
      url: `/api/v1/uploads/${u.id}`,
      chunk_bytes: this.chunkBytes,
      file: done ? this.file(u) : null,
    };
  }

  file(u: ServerUpload, poster = false): FileView {
    const kind = u.mime.startsWith('video/') ? 'video' : u.mime.startsWith('image/') ? 'image' : 'file';
    return {
      id: `f${u.id}`,
      name: u.name,
      size: u.size,
      mime: u.mime,
      kind,
      width: (u.meta.width as number) ?? null,
      height: (u.meta.height as number) ?? null,
      duration_ms: (u.meta.duration_ms as number) ?? null,
      url: `/api/v1/files/f${u.id}`,
      thumb_url: kind === 'image' ? `/api/v1/files/f${u.id}/thumb` : null,
      preview_url: null,
      poster_url: poster ? `/api/v1/files/f${u.id}/poster` : null,
    };
  }

  async fetch(url: string, init: RequestInit): Promise<Response> {
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    const error = (status: number, code: string, message: string) => json(status, { error: { code, message } });
    this.log.push(`${init.method} ${url}`);
    if (init.method === 'POST' && url === '/api/v1/uploads') {
      if (this.createError) return error(this.createError.status, this.createError.code, this.createError.message);
      const body = JSON.parse(init.body as string) as Record<string, unknown>;
      const id = `up${this.nextId++}`;
      const u: ServerUpload = {
        id,
        name: body.name as string,
        size: body.size as number,
        mime: (body.mime as string) ?? 'application/octet-stream',
        bytes: [],
        meta: body,
      };
      this.uploads.set(id, u);
      return json(201, this.view(u));
    }
    const m = /^\/api\/v1\/uploads\/(\w+)$/.exec(url);
    if (m) {
      const u = this.uploads.get(m[1]!);
      if (!u) return error(404, 'not-found', 'no such resource');
      if (init.method === 'GET') return json(200, this.view(u));
      if (init.method === 'DELETE') {
        this.uploads.delete(u.id);
        return new Response(null, { status: 204 });
      }
    }
    const p = /^\/api\/v1\/files\/f(\w+)\/poster$/.exec(url);
    if (p && init.method === 'PUT') {
      const u = this.uploads.get(p[1]!)!;
      const blob = init.body as Blob;
      this.posters.push({ id: u.id, type: (init.headers as Record<string, string>)['Content-Type']!, size: blob.size });
      return json(200, this.file(u, true));
    }
    return error(404, 'not-found', `no fake for ${init.method} ${url}`);
  }

  /** A PATCH arrived (body already read). */
  async patch(xhr: FakeXHR, bytes: number[]): Promise<void> {
    const id = /\/uploads\/(\w+)$/.exec(xhr.url)![1]!;
    const offset = Number(xhr.headers['Upload-Offset']);
    this.log.push(`PATCH ${id} @${offset}+${bytes.length}`);
    const u = this.uploads.get(id);
    if (!u) return xhr.respond(404, { error: { code: 'not-found', message: 'no such resource' } });
    const fault = this.patchFaults.shift();
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'status') return xhr.respond(fault.status, { error: { code: fault.code, message: fault.message } });
    if (fault?.kind === 'conflict') {
      // What an earlier, slow request carried lands first.
      u.bytes.push(...Array.from({ length: fault.extra }, (_, i) => FILE_BYTES[u.bytes.length + i]!));
    }
    if (offset !== u.bytes.length) {
      return xhr.respond(409, { error: { code: 'offset-mismatch', message: `the upload continues at byte ${u.bytes.length}` } });
    }
    if (fault?.kind === 'network') {
      u.bytes.push(...bytes.slice(0, fault.deliver));
      xhr.progress(fault.deliver);
      return xhr.fail();
    }
    xhr.progress(Math.floor(bytes.length / 2));
    xhr.progress(bytes.length);
    u.bytes.push(...bytes);
    xhr.respond(200, this.view(u, u.bytes.length === u.size));
  }
}

const FILE_BYTES = Array.from({ length: 10 }, (_, i) => 65 + i); // "ABCDEFGHIJ"
let server: FakeServer;

class FakeXHR {
  static all: FakeXHR[] = [];
  method = '';
  url = '';
  headers: Record<string, string> = {};
  status = 0;
  responseText = '';
  aborted = false;
  upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader() {
    return null;
  }
  send(body: Blob) {
    FakeXHR.all.push(this);
    void body.arrayBuffer().then((buf) => server.patch(this, Array.from(new Uint8Array(buf))));
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  progress(loaded: number) {
    this.upload.onprogress?.({ loaded });
  }
  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
  fail() {
    this.status = 0;
    this.onerror?.();
  }
}

const settle = (check: () => void) => vi.waitFor(check, { timeout: 2000, interval: 2 });

function file(name = 'notes.txt', type = 'text/plain', bytes = FILE_BYTES): File {
  return new File([new Uint8Array(bytes)], name, { type });
}

let sleeps: number[];
function uploads(extra: Partial<UploadOptions> = {}): Uploads {
  return new Uploads({
    probeVideo: async () => null,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    backoff: (attempt) => 100 * 2 ** attempt,
    objectUrls: null,
    ...extra,
  });
}

/** Records every state an upload goes through. */
function states(u: Uploads, key: string): UploadState[] {
  const seen: UploadState[] = [];
  u.store.subscribe(() => {
    const s = u.get(key)?.state;
    if (s && seen[seen.length - 1] !== s) seen.push(s);
  });
  return seen;
}

beforeEach(() => {
  setLocale('en');
  server = new FakeServer();
  sleeps = [];
  FakeXHR.all = [];
  vi.stubGlobal('XMLHttpRequest', FakeXHR);
  setFetch((url, init) => server.fetch(url, init));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('Uploads', () => {
  it('sends the file in chunks of the size the server suggests, from its offsets, with progress', async () => {
    const u = uploads();
    const progress: number[] = [];
    const [key] = u.add('4:', [file()]);
    u.store.subscribe(() => {
      const item = u.get(key!);
      if (item && progress[progress.length - 1] !== item.sent) progress.push(item.sent);
    });
    await settle(() => expect(u.get(key!)?.state).toBe('done'));
    const patches = FakeXHR.all.map((x) => [x.method, x.url, x.headers['Upload-Offset'], x.headers['Content-Type']]);
    expect(patches).toEqual([
      ['PATCH', '/api/v1/uploads/up1', '0', 'application/offset+octet-stream'],
      ['PATCH', '/api/v1/uploads/up1', '4', 'application/offset+octet-stream'],
      ['PATCH', '/api/v1/uploads/up1', '8', 'application/offset+octet-stream'],
    ]);
    expect(server.uploads.get('up1')!.bytes).toEqual(FILE_BYTES);
    expect(server.uploads.get('up1')!.meta).toEqual({ name: 'notes.txt', size: 10, mime: 'text/plain' });
    // Progress moves forward within each chunk and ends at the size.
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress).toContain(2);
    expect(progress).toContain(6);
    expect(progress[progress.length - 1]).toBe(10);
    expect(u.get(key!)!.file).toMatchObject({ id: 'fup1', name: 'notes.txt', size: 10 });
    expect(u.busy('4:')).toBe(false);
  });

  it('after a 409 asks the server where the upload stands and continues from there', async () => {
    server.patchFaults = [{ kind: 'ok' }, { kind: 'conflict', extra: 4 }];
    const u = uploads();
    const [key] = u.add('4:', [file()]);
    await settle(() => expect(u.get(key!)?.state).toBe('done'));
    const patches = server.log.filter((l) => l.startsWith('PATCH') || l.startsWith('GET'));
    expect(patches).toEqual([
      'PATCH up1 @0+4',
      'PATCH up1 @4+4', // the server already got bytes 4–7 from an earlier request: 409
      'GET /api/v1/uploads/up1',
      'PATCH up1 @8+2',
    ]);
    expect(server.uploads.get('up1')!.bytes).toEqual(FILE_BYTES);
    expect(sleeps).toEqual([]); // a conflict is not a reason to wait
  });

  it('resumes after a dropped connection from the offset the server reports, with backoff', async () => {
    server.patchFaults = [{ kind: 'ok' }, { kind: 'network', deliver: 2 }];
    let statusFails = 1;
    setFetch(async (url, init) => {
      if (init.method === 'GET' && statusFails-- > 0) throw new TypeError('Failed to fetch'); // still offline
      return server.fetch(url, init);
    });
    const u = uploads();
    const [key] = u.add('4:', [file()]);
    const seen = states(u, key!);
    await settle(() => expect(u.get(key!)?.state).toBe('done'));
    expect(server.log.filter((l) => l.startsWith('PATCH') || l.startsWith('GET'))).toEqual([
      'PATCH up1 @0+4',
      'PATCH up1 @4+4', // 2 bytes arrive, then the connection drops
      // (a first status request fails: still offline)
      'GET /api/v1/uploads/up1', // the server has 6 bytes
      'PATCH up1 @6+4',
    ]);
    expect(server.uploads.get('up1')!.bytes).toEqual(FILE_BYTES);
    expect(sleeps).toEqual([100, 200]); // growing delays while offline
    expect(seen).toEqual(['uploading', 'retrying', 'uploading', 'done']);
  });

  it('cancels: aborts the request in flight, tells the server, and drops the row', async () => {
    server.patchFaults = [{ kind: 'hang' }];
    const u = uploads();
    const [key] = u.add('4:', [file()]);
    await settle(() => expect(FakeXHR.all).toHaveLength(1));
    u.cancel(key!);
    expect(FakeXHR.all[0]!.aborted).toBe(true);
    expect(u.get(key!)).toBeUndefined();
    await settle(() => expect(server.log).toContain('DELETE /api/v1/uploads/up1'));
    expect(server.uploads.has('up1')).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(FakeXHR.all).toHaveLength(1); // nothing more was sent
  });

  it('shows the server’s reason when it refuses a file up front, and retries from the start', async () => {
    server.createError = {
      status: 413,
      code: 'file-too-large',
      message: 'the file is larger than the server accepts (2147483648 bytes)',
    };
    const u = uploads();
    const [key] = u.add('4:', [file()]);
    await settle(() => expect(u.get(key!)?.state).toBe('failed'));
    // The code's own sentence, in the UI's language (not the server's English one).
    expect(u.get(key!)!.error).toBe('This file is larger than the server accepts.');
    expect(FakeXHR.all).toHaveLength(0); // not a byte was sent
    expect(u.busy('4:')).toBe(false);
    server.createError = null;
    u.retry(key!);
    await settle(() => expect(u.get(key!)?.state).toBe('done'));
    expect(server.log.filter((l) => l.startsWith('POST'))).toHaveLength(2);
  });

  it('a full disk fails the file; retry continues the same upload', async () => {
    server.patchFaults = [{ kind: 'ok' }, { kind: 'status', status: 507, code: 'disk-full', message: "the server's disk is full" }];
    const u = uploads();
    const [key] = u.add('4:', [file()]);
    await settle(() => expect(u.get(key!)?.state).toBe('failed'));
    expect(u.get(key!)!.error).toBe('The server’s disk is full and nothing was stored. Tell your administrator.');
    expect(u.get(key!)!.sent).toBe(4);
    u.retry(key!);
    await settle(() => expect(u.get(key!)?.state).toBe('done'));
    expect(server.log.filter((l) => /^(POST|GET|PATCH)/.test(l))).toEqual([
      'POST /api/v1/uploads',
      'PATCH up1 @0+4',
      'PATCH up1 @4+4',
      'GET /api/v1/uploads/up1',
      'PATCH up1 @4+4',
      'PATCH up1 @8+2',
    ]);
  });

  it('measures a video first, sends its size and duration, then its poster frame', async () => {
    const poster = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
    const probed: Blob[] = [];
    const revoked: string[] = [];
    const u = uploads({
      probeVideo: async (f): Promise<VideoInfo> => {
        probed.push(f);
        return { width: 640, height: 360, duration_ms: 1500, poster };
      },
      objectUrls: { create: (b) => `blob:${b.type}`, revoke: (url) => revoked.push(url) },
    });
    const [key] = u.add('4:', [file('clip.webm', 'video/webm')]);
    const seen = states(u, key!);
    await settle(() => expect(u.get(key!)?.state).toBe('done'));
    expect(probed).toHaveLength(1);
    expect(server.uploads.get('up1')!.meta).toEqual({
      name: 'clip.webm',
      size: 10,
      mime: 'video/webm',
      width: 640,
      height: 360,
      duration_ms: 1500,
    });
    expect(server.posters).toEqual([{ id: 'up1', type: 'image/jpeg', size: 3 }]);
    expect(u.get(key!)!.file!.poster_url).toBe('/api/v1/files/fup1/poster');
    expect(seen).toEqual(['preparing', 'uploading', 'finishing', 'done']);
    // The poster frame is the tray's thumbnail until the file leaves the tray.
    expect(u.get(key!)!.preview).toBe('blob:image/jpeg');
    expect(u.take('4:')).toHaveLength(1);
    expect(revoked).toEqual(['blob:image/jpeg']);
    // The poster is sent after the last byte.
    expect(server.log.indexOf('PUT /api/v1/files/fup1/poster')).toBeGreaterThan(server.log.indexOf('PATCH up1 @8+2'));
  });

  it('keeps trays per conversation, at most 10 files, and hands finished files to a message in order', async () => {
    const u = uploads({ concurrency: 3 });
    const files = Array.from({ length: 12 }, (_, i) => file(`f${i}.txt`));
    const keys = u.add('4:', files);
    expect(keys).toHaveLength(10);
    expect(u.store.get().full).toEqual(['4:']);
    u.add('4:9', [file('in-thread.txt')]);
    expect(u.busy('4:')).toBe(true);
    await settle(() => expect(u.items.every((x) => x.state === 'done')).toBe(true));
    const taken = u.take('4:');
    expect(taken.map((f) => f.name)).toEqual(files.slice(0, 10).map((f) => f.name));
    expect(u.forConversation('4:')).toEqual([]);
    expect(u.store.get().full).toEqual([]);
    expect(u.forConversation('4:9').map((x) => x.name)).toEqual(['in-thread.txt']);
  });

  it('uploads a few files at a time', async () => {
    server.patchFaults = [{ kind: 'hang' }, { kind: 'hang' }];
    const u = uploads();
    const keys = u.add('4:', [file('a.txt'), file('b.txt'), file('c.txt')]);
    await settle(() => expect(FakeXHR.all).toHaveLength(2));
    expect(u.get(keys[2]!)!.state).toBe('queued');
    u.cancel(keys[0]!);
    await settle(() => expect(u.get(keys[2]!)!.state).toBe('done'));
  });
});
