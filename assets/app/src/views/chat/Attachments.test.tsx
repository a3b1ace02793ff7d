// @vitest-environment happy-dom
//
// How messages show their files, and how the composer uploads them.

import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type FileView, type Message } from '../../api';
import type { ChatClient } from '../../chat/client';
import { Uploads, type UploadTransport } from '../../chat/uploads';
import { chatClient, file, message as fixtureMessage, mountRoot, renderInChat, unmountRoot, user } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { Attachments } from './Attachments';
import { Composer } from './Composer';
import { MessageItem, PendingItem } from './MessageItem';

const me = user();

const fileView = (kind: string, extra: Partial<FileView> = {}) => file(`${kind}1`, { name: `${kind}.bin`, size: 1536, kind, ...extra });

const photo = fileView('image', {
  name: 'beach.jpg',
  mime: 'image/jpeg',
  width: 4000,
  height: 3000,
  thumb_url: '/api/v1/files/image1/thumb',
  preview_url: '/api/v1/files/image1/preview',
});
const clip = fileView('video', {
  name: 'clip.webm',
  mime: 'video/webm',
  width: 1280,
  height: 720,
  duration_ms: 1500,
  poster_url: '/api/v1/files/video1/poster',
});
const song = fileView('audio', { name: 'song.ogg', mime: 'audio/ogg' });
const doc = fileView('file', { name: 'report.pdf', mime: 'application/pdf', size: 1.5 * 1024 * 1024 });

const message = (extra: Partial<Message> = {}) => fixtureMessage({ body: '', created_at: 1, files: [photo], ...extra });

let root: HTMLElement;
let client: ChatClient;

const show = (node: preact.ComponentChildren) => renderInChat(root, node, { user: me, client });

const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  client = chatClient(me);
  root = mountRoot();
});

afterEach(async () => {
  await unmountRoot(root);
  vi.unstubAllGlobals();
});

describe('files in messages', () => {
  it('offers to read PDF and text files in the browser, and only those', async () => {
    await show(
      <Attachments
        files={[
          fileView('file', { id: 'pdf1', name: 'report.pdf', mime: 'application/pdf', url: '/api/v1/files/pdf1' }),
          fileView('file', { id: 'zip1', name: 'data.zip', mime: 'application/zip', url: '/api/v1/files/zip1' }),
        ]}
      />,
    );
    const read = Array.from(document.querySelectorAll<HTMLAnchorElement>('a.att-view'));
    expect(read.map((a) => a.getAttribute('href'))).toEqual(['/api/v1/files/pdf1/view']);
    expect(read[0]!.getAttribute('rel')).toBe('noopener');
    expect(document.querySelectorAll('a.att-card[download]').length).toBe(2);
  });

  it('shows a photo thumbnail with its space reserved, and opens the viewer', async () => {
    await show(<Attachments files={[photo]} />);
    const img = $<HTMLImageElement>('.att-image img')!;
    expect(img.getAttribute('src')).toBe('/api/v1/files/image1/thumb');
    expect(img.getAttribute('alt')).toBe('beach.jpg');
    expect([img.getAttribute('width'), img.getAttribute('height')]).toEqual(['360', '270']);
    const open = $<HTMLButtonElement>('.att-image')!;
    expect(open.getAttribute('aria-label')).toBe('Open beach.jpg');
    await act(() => open.click());
    const dialog = $<HTMLDialogElement>('dialog.lightbox')!;
    expect(dialog).not.toBeNull();
    expect(dialog.querySelector('.lightbox-img')!.getAttribute('src')).toBe('/api/v1/files/image1/preview');
    const download = dialog.querySelector('a[download]')!;
    expect(download.getAttribute('href')).toBe('/api/v1/files/image1');
    expect(download.getAttribute('download')).toBe('beach.jpg');
    await act(() => dialog.querySelector<HTMLButtonElement>('button[aria-label="Close"]')!.click());
    expect($('dialog.lightbox')).toBeNull();
  });

  it('shows the full photo in the viewer when there is no preview, and closes on Escape', async () => {
    await show(<Attachments files={[{ ...photo, preview_url: null, thumb_url: null, width: 200, height: 100 }]} />);
    const img = $<HTMLImageElement>('.att-image img')!;
    expect(img.getAttribute('src')).toBe('/api/v1/files/image1');
    expect([img.getAttribute('width'), img.getAttribute('height')]).toEqual(['200', '100']);
    await act(() => $<HTMLButtonElement>('.att-image')!.click());
    expect($('.lightbox-img')!.getAttribute('src')).toBe('/api/v1/files/image1');
    await act(() => {
      $('dialog.lightbox')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
    });
    expect($('dialog.lightbox')).toBeNull();
  });

  it('plays a video in the browser’s player, sized from its dimensions, with its poster', async () => {
    await show(<Attachments files={[clip]} />);
    const video = $<HTMLVideoElement>('video')!;
    expect(video.getAttribute('src')).toBe('/api/v1/files/video1');
    expect(video.getAttribute('poster')).toBe('/api/v1/files/video1/poster');
    expect(video.hasAttribute('controls')).toBe(true);
    expect(video.getAttribute('preload')).toBe('metadata');
    expect(video.playsInline || video.hasAttribute('playsinline')).toBe(true);
    expect([video.getAttribute('width'), video.getAttribute('height')]).toEqual(['360', '203']);
    expect(video.getAttribute('aria-label')).toBe('Video: clip.webm');
    expect($('.att-caption a[download]')!.getAttribute('href')).toBe('/api/v1/files/video1');
  });

  it('gives a video of unknown size a default box and no poster attribute', async () => {
    await show(<Attachments files={[{ ...clip, width: null, height: null, poster_url: null }]} />);
    const video = $<HTMLVideoElement>('video')!;
    expect(video.classList.contains('att-video-unsized')).toBe(true);
    expect(video.hasAttribute('width')).toBe(false);
    expect(video.hasAttribute('poster')).toBe(false);
  });

  it('plays audio', async () => {
    await show(<Attachments files={[song]} />);
    const audio = $<HTMLAudioElement>('audio')!;
    expect(audio.getAttribute('src')).toBe('/api/v1/files/audio1');
    expect(audio.hasAttribute('controls')).toBe(true);
    expect(audio.getAttribute('aria-label')).toBe('Audio: song.ogg');
  });

  it('offers any other file as a download card with its size and type', async () => {
    await show(<Attachments files={[doc]} />);
    const card = $<HTMLAnchorElement>('a.att-card')!;
    expect(card.getAttribute('href')).toBe('/api/v1/files/file1');
    expect(card.getAttribute('download')).toBe('report.pdf');
    expect(card.getAttribute('aria-label')).toBe('Download report.pdf');
    expect(card.querySelector('.att-name')!.textContent).toBe('report.pdf');
    expect(card.querySelector('.att-meta')!.textContent).toMatch(/^1\.5\sMB · PDF$/);
  });

  it('keeps the sender’s order', async () => {
    await show(<Attachments files={[doc, photo, song, clip]} />);
    expect([...$('.atts')!.children].map((el) => el.getAttribute('data-file-id'))).toEqual([
      'file1',
      'image1',
      'audio1',
      'video1',
    ]);
  });

  const itemProps = {
    first: true,
    meId: 1,
    isAdmin: false,
    canModerate: false,
    people: new Map(),
    mentions: { me: 'alice', known: () => false },
    highlight: false,
    editing: false,
    onEdit: () => {},
  };

  it('a message of files only has no empty text block; a deleted one shows no files', async () => {
    await show(<MessageItem message={message()} {...itemProps} />);
    expect($('.msg .atts img')).not.toBeNull();
    expect($('.msg-body')).toBeNull();
    await show(<MessageItem message={message({ deleted: true, id: 8 })} {...itemProps} />);
    expect($('.atts')).toBeNull();
    expect($('.msg-tombstone')).not.toBeNull();
    await show(<MessageItem message={message({ id: 9, body: 'look', files: [doc] })} {...itemProps} />);
    expect($('.msg-body')!.textContent).toBe('look');
    expect($('a.att-card')).not.toBeNull();
  });

  it('a message still in the outbox shows its files', async () => {
    const item = client.outbox.add({ channel_id: 4, body: '', files: [doc] }, 'c1');
    await show(<PendingItem item={item} name="Alice" meId={1} />);
    expect($('.msg-pending a.att-card')!.getAttribute('download')).toBe('report.pdf');
    expect($('.msg-body')).toBeNull();
  });
});

describe('composer with files', () => {
  /** A transport whose chunk requests wait until the test lets them finish. */
  function slowTransport() {
    const waiting: (() => void)[] = [];
    const stored = (name: string, size: number): FileView => fileView('file', { id: `f-${name}`, name, size });
    const transport: UploadTransport = {
      create: async (b) => ({ id: `up-${b.name}`, size: b.size, offset: 0, url: '', chunk_bytes: 1 << 20, file: null }),
      status: async () => {
        throw new Error('not expected');
      },
      chunk: (id, offset, blob, onProgress) =>
        new Promise((resolve) => {
          onProgress(Math.floor(blob.size / 2));
          const name = id.slice(3);
          waiting.push(() =>
            resolve({ id, size: blob.size, offset: offset + blob.size, url: '', chunk_bytes: 1 << 20, file: stored(name, blob.size) }),
          );
        }),
      cancel: async () => {},
      setPoster: async () => {
        throw new Error('not expected');
      },
    };
    return { transport, finishAll: () => waiting.splice(0).forEach((f) => f()) };
  }

  function pick(files: File[]) {
    const input = $<HTMLInputElement>('input[type=file]')!;
    Object.defineProperty(input, 'files', { value: files, configurable: true });
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }

  const sendButton = () => $<HTMLButtonElement>('button[aria-label="Send"]')!;

  it('uploads picked files with progress, waits for them, then sends them with the text', async () => {
    const slow = slowTransport();
    Object.assign(client, { uploads: new Uploads({ transport: slow.transport, probeVideo: async () => null, objectUrls: null }) });
    const sent = vi.spyOn(client, 'send');
    await show(<Composer channelId={4} placeholder="Message #general" />);
    const attach = $<HTMLButtonElement>('button[aria-label="Attach files"]')!;
    expect(attach).not.toBeNull();
    expect($<HTMLInputElement>('input[type=file]')!.multiple).toBe(true);

    await act(() => pick([new File(['0123456789'], 'a.txt', { type: 'text/plain' }), new File(['xy'], 'b.txt')]));
    await vi.waitFor(() => expect(root.querySelectorAll('.upload[data-state=uploading]')).toHaveLength(2));
    const row = $('.upload')!;
    expect(row.querySelector('.upload-name')!.textContent).toBe('a.txt');
    expect(row.querySelector<HTMLProgressElement>('progress')!.getAttribute('max')).toBe('10');
    expect(row.querySelector<HTMLProgressElement>('progress')!.getAttribute('value')).toBe('5');
    expect(row.querySelector('button')!.getAttribute('aria-label')).toBe('Cancel uploading a.txt');
    // Leaving the page now would lose them: the browser asks first.
    const leave = () => {
      const ev = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(ev);
      return ev.defaultPrevented;
    };
    expect(leave()).toBe(true);
    // Sending waits for the uploads.
    expect(sendButton().disabled).toBe(true);
    expect(sendButton().title).toBe('Sending waits until the files are uploaded');

    await act(() => slow.finishAll());
    await vi.waitFor(() => expect(root.querySelectorAll('.upload[data-state=done]')).toHaveLength(2));
    expect(sendButton().disabled).toBe(false);
    expect(leave()).toBe(false);
    await act(() => sendButton().click());
    expect(sent).toHaveBeenCalledTimes(1);
    const [channel, body, thread, files] = sent.mock.calls[0]!;
    expect([channel, body, thread]).toEqual([4, '', null]);
    expect(files!.map((f) => f.id)).toEqual(['f-a.txt', 'f-b.txt']);
    expect(client.outbox.all()[0]).toMatchObject({ body: '', attachments: ['f-a.txt', 'f-b.txt'] });
    expect($('.upload')).toBeNull();
  });

  it('cancel removes a file from the tray; a failure shows the server’s reason and a retry', async () => {
    const slow = slowTransport();
    let refuse = true;
    const transport: UploadTransport = {
      ...slow.transport,
      create: async (b) => {
        if (refuse) {
          throw new ApiError(413, 'quota-exceeded', 'this upload would exceed your storage quota of 100 bytes (90 bytes used)');
        }
        return slow.transport.create(b);
      },
    };
    Object.assign(client, { uploads: new Uploads({ transport, probeVideo: async () => null, objectUrls: null }) });
    await show(<Composer channelId={4} placeholder="Message #general" />);
    await act(() => pick([new File(['0123456789abcdef'], 'big.bin')]));
    await vi.waitFor(() => expect($('.upload[data-state=failed]')).not.toBeNull());
    expect($('.upload-status')!.textContent).toBe('There is no room left for your files on the server.');
    expect($('.upload-status')!.getAttribute('role')).toBe('alert');
    // A failed file does not hold back sending (it stays in the tray), but nothing is ready yet.
    expect(sendButton().disabled).toBe(true);
    refuse = false;
    await act(() => $<HTMLButtonElement>('button[aria-label="Try uploading big.bin again"]')!.click());
    await vi.waitFor(() => expect($('.upload[data-state=uploading]')).not.toBeNull());
    await act(() => $<HTMLButtonElement>('button[aria-label="Cancel uploading big.bin"]')!.click());
    expect($('.upload')).toBeNull();
    expect(client.uploads.items).toEqual([]);
  });

  it('takes pasted images', async () => {
    const slow = slowTransport();
    Object.assign(client, { uploads: new Uploads({ transport: slow.transport, probeVideo: async () => null, objectUrls: null }) });
    await show(<Composer channelId={4} placeholder="Message #general" />);
    const image = new File(['png'], 'image.png', { type: 'image/png' });
    const paste = new Event('paste', { bubbles: true, cancelable: true });
    Object.defineProperty(paste, 'clipboardData', {
      value: { files: [image], types: ['Files'], getData: () => '' },
    });
    await act(() => {
      $('textarea')!.dispatchEvent(paste);
    });
    expect(paste.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect($('.upload .upload-name')!.textContent).toBe('image.png'));
  });
});
