// @vitest-environment happy-dom
//
// Message actions in the UI: quotes, forwards, the saved list, the thread composer's "also
// send to the channel", voice messages (player and upload), and the client's handling of them.

import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Channel, type FileView, type Message, type SavedMessage } from '../../api';
import type { ChatClient } from '../../chat/client';
import { quoteOf } from '../../chat/messages';
import { VoicePlayback } from '../../chat/voicePlayer';
import { channel, chatClient, file, message as fixtureMessage, mountRoot, renderInChat, unmountRoot, user } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { Composer } from './Composer';
import { compose, startQuote } from './compose';
import { MessageItem } from './MessageItem';
import { SavedList } from './Saved';
import { ui } from './ui';
import { VoicePlayer } from './Voice';

const me = user();

const message = (id: number, extra: Partial<Message> = {}) =>
  fixtureMessage({ id, seq: id, body: `m${id}`, created_at: Date.UTC(2026, 0, 31, 12, 0), ...extra });

const voiceFile = (id: string, extra: Partial<FileView> = {}) =>
  file(id, {
    name: `${id}.webm`,
    size: 2048,
    mime: 'audio/webm',
    kind: 'audio',
    duration_ms: 2300,
    voice: true,
    waveform: [0, 64, 255, 128],
    ...extra,
  });

const general = channel({ last_seq: 2, last_read_seq: 2 });

const people = new Map([
  [1, { id: 1, username: 'alice', display_name: 'Alice', presence: 'online' as const }],
  [2, { id: 2, username: 'bob', display_name: 'Bob', presence: 'online' as const }],
]);

let root: HTMLElement;
let client: ChatClient;
let requests: { key: string; body: unknown }[];

const show = (node: preact.ComponentChildren) => renderInChat(root, node, { user: me, client });

const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);
const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });

const itemProps = {
  first: true,
  meId: 1,
  isAdmin: false,
  canModerate: false,
  people,
  mentions: { me: 'alice', known: () => false },
  highlight: false,
  editing: false,
  onEdit: () => {},
};

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  requests = [];
  setFetch(async (url, init) => {
    requests.push({ key: `${init.method} ${url}`, body: init.body ? JSON.parse(init.body as string) : undefined });
    return new Response('{}', { status: 404 });
  });
  client = chatClient(me);
  client.store.set({ people, channels: new Map([[4, general]]) });
  compose.set({ quotes: new Map(), focus: null });
  ui.set({ dialog: null, panel: null, highlight: null });
  root = mountRoot();
});

afterEach(async () => {
  await unmountRoot(root);
  vi.unstubAllGlobals();
});

describe('quotes and forwards in messages', () => {
  it('shows the quoted message above the reply, and as deleted once it is deleted', async () => {
    const original = message(1, { body: 'Convoy at **06:00**' });
    const reply = message(2, { author_id: 1, body: 'ok', quote: quoteOf(original) });
    await show(<MessageItem {...itemProps} message={reply} />);
    const quote = $('.msg-quote')!;
    expect(quote.tagName).toBe('BUTTON');
    expect(quote.querySelector('.msg-quote-author')!.textContent).toBe('Bob');
    expect(quote.querySelector('.msg-quote-text')!.textContent).toBe('Convoy at 06:00');

    // Live: the client applies a deletion to every quote of it.
    client.setHistory(4, { items: [original, reply] });
    client.applyMessage({ ...original, deleted: true, body: '' });
    const updated = client.state.histories.get(4)!.items[1]!;
    expect(updated.quote).toMatchObject({ deleted: true, excerpt: '' });
    await show(<MessageItem {...itemProps} message={updated} />);
    expect($('.msg-quote')!.tagName).toBe('DIV');
    expect($('.msg-quote-deleted .msg-quote-text')!.textContent).toBe('Deleted message');
  });

  it('names the original author of a forwarded message with its date', async () => {
    const m = message(5, {
      forwarded: { message_id: 3, channel_id: 9, author_id: 2, author_name: 'Bob', created_at: Date.UTC(2025, 11, 1) },
    });
    await show(<MessageItem {...itemProps} message={m} />);
    expect($('.msg-forwarded-link')!.textContent).toBe('Forwarded from Bob');
    expect($('.msg-forwarded-link')!.tagName).toBe('BUTTON');
    expect($('.msg-forwarded time')!.getAttribute('dateTime')).toBe('2025-12-01T00:00:00.000Z');
    // The original is gone: the label stays, nothing to open.
    await show(<MessageItem {...itemProps} message={{ ...m, forwarded: { ...m.forwarded!, message_id: null } }} />);
    expect($('.msg-forwarded-link')!.tagName).toBe('SPAN');
  });

  it('marks a thread reply also sent to the channel, with a link to its thread', async () => {
    const m = message(8, { thread_root: 3, also_in_channel: true });
    await show(<MessageItem {...itemProps} message={m} />);
    const link = $<HTMLButtonElement>('.msg-also-link')!;
    expect(link.textContent).toBe('replied in a thread');
    await act(() => link.click());
    expect(ui.get().panel).toEqual({ type: 'thread', rootId: 3, channelId: 4 });
    await show(<MessageItem {...itemProps} message={m} inThread />);
    expect($('.msg-also-link')).toBeNull();
    expect($('.msg-also-note')!.textContent).toBe('Also sent to the channel');
  });

  it('opens the edit history from "(edited)" and offers the actions in the menu', async () => {
    const m = message(6, { edited: true, edited_at: Date.UTC(2026, 0, 31, 12, 5) });
    await show(<MessageItem {...itemProps} message={m} />);
    await act(() => $<HTMLButtonElement>('button.msg-edited')!.click());
    expect(ui.get().dialog).toEqual({ type: 'edits', message: m });
    await act(() => $<HTMLButtonElement>('.msg-more')!.click());
    expect([...root.querySelectorAll('[role=menuitem]')].map((b) => b.textContent)).toEqual([
      'Quote reply',
      'Forward',
      'Save',
      'Copy link',
      'Edit history',
    ]);
    // Quote reply: the channel's composer answers it.
    await act(() => root.querySelector<HTMLButtonElement>('[data-action=quote]')!.click());
    expect(compose.get().quotes.get('4:')?.id).toBe(6);
    expect($('.msg-menu')).toBeNull();
  });

  it('shows the menu in Russian', async () => {
    setLocale('ru');
    client.store.set({ saved: new Set([6]) });
    await show(<MessageItem {...itemProps} message={message(6)} />);
    await act(() => $<HTMLButtonElement>('.msg-more')!.click());
    expect([...root.querySelectorAll('[role=menuitem]')].map((b) => b.textContent)).toEqual([
      'Ответить с цитатой',
      'Переслать',
      'Убрать из сохранённого',
      'Копировать ссылку',
    ]);
  });
});

describe('the composer', () => {
  it('shows the quoted message with a cancel button and sends the reply with it', async () => {
    await show(<Composer channelId={4} placeholder="Message #general" />);
    const original = message(3, { body: 'Where is the truck?' });
    await act(() => startQuote('4:', original));
    expect($('.composer-quote .msg-quote-text')!.textContent).toBe('Where is the truck?');
    await act(() => $<HTMLButtonElement>('.composer-quote-x')!.click());
    expect($('.composer-quote')).toBeNull();

    await act(() => startQuote('4:', original));
    const box = $<HTMLTextAreaElement>('.composer-input')!;
    await act(() => {
      box.value = 'At the gate';
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(() => {
      box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    });
    const item = client.state.outbox[0]!;
    expect(item).toMatchObject({ body: 'At the gate', quote_of: 3, thread_root: null });
    expect(item.quote).toMatchObject({ id: 3, excerpt: 'Where is the truck?' });
    expect($('.composer-quote')).toBeNull();
  });

  it('in a thread, offers to send the reply to the channel too', async () => {
    await show(<Composer channelId={4} threadRoot={3} placeholder="Reply…" />);
    const check = $<HTMLInputElement>('.composer-also input')!;
    expect($('.composer-also')!.textContent).toBe('Also send to #general');
    await act(() => {
      check.checked = true;
      check.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const box = $<HTMLTextAreaElement>('.composer-input')!;
    await act(() => {
      box.value = 'done';
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(() => {
      box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    });
    expect(client.state.outbox[0]).toMatchObject({ body: 'done', thread_root: 3, also_in_channel: true });
    // One reply at a time: the box is clear again.
    expect($<HTMLInputElement>('.composer-also input')!.checked).toBe(false);
    setLocale('ru');
    await show(<Composer channelId={4} threadRoot={3} placeholder="Ответ…" />);
    expect($('.composer-also')!.textContent).toBe('Также отправить в #general');
  });

  it('is absent in the channel composer', async () => {
    await show(<Composer channelId={4} placeholder="Message #general" />);
    expect($('.composer-also')).toBeNull();
  });
});

describe('saved messages', () => {
  const dm: Channel = { ...general, id: 7, kind: 'dm', name: null, member_ids: [1, 2] };
  const items: SavedMessage[] = [
    { message: message(11, { body: 'Fuel **report**' }), saved_at: 3 },
    { message: message(12, { channel_id: 7, files: [voiceFile('v1')], body: '' }), saved_at: 2 },
    { message: message(13, { channel_id: 99 }), saved_at: 1 },
  ];

  it('lists each with its conversation, author, time, Jump and Remove', async () => {
    const jumped: number[] = [];
    const removed: number[] = [];
    await show(
      <SavedList
        items={items}
        channels={new Map([[4, general], [7, dm]])}
        people={people}
        me={1}
        onJump={(m) => jumped.push(m.id)}
        onRemove={(m) => removed.push(m.id)}
      />,
    );
    const rows = [...root.querySelectorAll('.saved-item')];
    expect(rows.map((r) => r.getAttribute('data-message-id'))).toEqual(['11', '12', '13']);
    expect(rows.map((r) => r.querySelector('.result-where')!.textContent)).toEqual([
      '#general',
      'Bob',
      'A conversation you are not in',
    ]);
    expect(rows[0]!.querySelector('.result-author')!.textContent).toBe('Bob');
    expect(rows[0]!.querySelector('.saved-text')!.textContent).toBe('Fuel **report**');
    expect(rows[1]!.querySelector('.saved-text')!.textContent).toBe('📎 v1.webm');
    expect(rows[0]!.querySelector('time')!.getAttribute('dateTime')).toBe('2026-01-31T12:00:00.000Z');
    const jump = rows[0]!.querySelector<HTMLButtonElement>('.saved-jump')!;
    expect(jump.textContent).toBe('Jump');
    expect(jump.getAttribute('aria-label')).toBe('Jump to the message in #general');
    await act(() => jump.click());
    await act(() => rows[1]!.querySelector<HTMLButtonElement>('.saved-remove')!.click());
    expect(jumped).toEqual([11]);
    expect(removed).toEqual([12]);
  });

  it('says when nothing is saved', async () => {
    await show(<SavedList items={[]} channels={new Map()} people={people} me={1} onJump={() => {}} onRemove={() => {}} />);
    expect($('.saved-empty')!.textContent).toContain('Nothing saved yet');
  });
});

/** An <audio> stand-in: plays when asked, ends when told. */
class FakeAudio extends EventTarget {
  static all: FakeAudio[] = [];
  src = '';
  preload = '';
  playbackRate = 1;
  currentTime = 0;
  duration = Infinity;
  paused = true;
  constructor() {
    super();
    FakeAudio.all.push(this);
  }
  play() {
    this.paused = false;
    return Promise.resolve();
  }
  pause() {
    this.paused = true;
  }
  end() {
    this.paused = true;
    this.dispatchEvent(new Event('ended'));
  }
}

describe('voice messages', () => {
  beforeEach(() => {
    FakeAudio.all = [];
    vi.stubGlobal('Audio', FakeAudio);
  });

  it('plays one after another, at the chosen speed, and stops after the last', () => {
    const player = new VoicePlayback();
    const a = voiceFile('a');
    const b = voiceFile('b');
    player.toggle(a, () => ({ file: b, next: () => null }));
    const audio = FakeAudio.all[0]!;
    expect(audio.src).toBe('/api/v1/files/a');
    expect(player.state).toMatchObject({ fileId: 'a', playing: true, duration: 2300 });
    expect(player.cycleSpeed()).toBe(1.5);
    expect(audio.playbackRate).toBe(1.5);
    expect(localStorage.getItem('outpost.voiceSpeed')).toBe('1.5');
    player.toggle(a);
    expect(player.state.playing).toBe(false);
    expect(audio.paused).toBe(true);
    player.toggle(a);
    audio.end();
    expect(audio.src).toBe('/api/v1/files/b');
    expect(player.state).toMatchObject({ fileId: 'b', playing: true });
    expect(audio.playbackRate).toBe(1.5);
    audio.end();
    expect(player.state).toMatchObject({ fileId: null, playing: false });
    // The speed is remembered on the device.
    expect(new VoicePlayback().state.speed).toBe(1.5);
    expect(player.cycleSpeed()).toBe(2);
    expect(player.cycleSpeed()).toBe(1);
  });

  it('shows the waveform, the length and the speed; ending starts the next voice message below', async () => {
    const first = message(1, { files: [voiceFile('a')], body: '' });
    const song = message(2, { files: [voiceFile('s', { voice: undefined })], body: '' });
    const second = message(3, { files: [voiceFile('b', { duration_ms: 61_000 })], body: '' });
    client.setHistory(4, { items: [first, song, second] });
    await show(
      <>
        <VoicePlayer file={first.files![0]!} message={first} />
        <VoicePlayer file={second.files![0]!} message={second} />
      </>,
    );
    const [pa, pb] = [...root.querySelectorAll<HTMLElement>('.voice')];
    expect(pa!.querySelectorAll('.voice-bar')).toHaveLength(4);
    expect(pa!.querySelector('.voice-time')!.textContent).toBe('0:02');
    expect(pb!.querySelector('.voice-time')!.textContent).toBe('1:01');
    expect(pa!.getAttribute('data-duration')).toBe('2300');
    const speed = pa!.querySelector<HTMLButtonElement>('.voice-speed')!;
    const before = speed.textContent;
    await act(() => speed.click());
    expect(speed.textContent).not.toBe(before);
    expect(pb!.querySelector('.voice-speed')!.textContent).toBe(speed.textContent); // one speed for all
    await act(() => pa!.querySelector<HTMLButtonElement>('.voice-play')!.click());
    expect(pa!.getAttribute('data-playing')).toBe('true');
    expect(pa!.querySelector('.voice-play')!.getAttribute('aria-label')).toBe('Pause');
    const audio = FakeAudio.all[FakeAudio.all.length - 1]!;
    await act(() => audio.end());
    expect(audio.src).toBe('/api/v1/files/b');
    expect(pa!.getAttribute('data-playing')).toBe('false');
    expect(pb!.getAttribute('data-playing')).toBe('true');
    await act(() => pb!.querySelector<HTMLButtonElement>('.voice-play')!.click());
  });

  it('uploads a recording as a voice message and sends it by itself once uploaded', async () => {
    const stored = voiceFile('rec1');
    setFetch(async (url, init) => {
      const body = init.body ? JSON.parse(init.body as string) : undefined;
      requests.push({ key: `${init.method} ${url}`, body });
      if (url === '/api/v1/uploads') {
        return new Response(
          JSON.stringify({ id: 'up1', size: body.size, offset: body.size, url: '/api/v1/uploads/up1', chunk_bytes: 0, file: stored }),
          { status: 201 },
        );
      }
      return new Response('{}', { status: 404 });
    });
    // A file waiting in the tray for the typed message is not taken with the voice message.
    client.uploads.add('4:', [new File(['x'], 'doc.txt', { type: 'text/plain' })]);
    const key = client.sendVoice(
      4,
      null,
      { blob: new Blob(['abc'], { type: 'audio/webm' }), name: 'voice.webm', mime: 'audio/webm', duration_ms: 2345.6, waveform: [1, 300, -2] },
      { quote: quoteOf(message(9)) },
    );
    expect(key).not.toBeNull();
    await settle(() => expect(client.state.outbox).toHaveLength(1));
    expect(requests.find((r) => r.key === 'POST /api/v1/uploads' && (r.body as { voice?: boolean }).voice)!.body).toEqual({
      name: 'voice.webm',
      size: 3,
      mime: 'audio/webm',
      duration_ms: 2346,
      waveform: [1, 255, 0],
      voice: true,
    });
    expect(client.state.outbox[0]).toMatchObject({ channel_id: 4, body: '', attachments: ['rec1'], quote_of: 9 });
    expect(client.uploads.items.map((u) => u.name)).toEqual(['doc.txt']);
  });
});

describe('the client', () => {
  it('lists a thread reply also sent to the channel in the channel, and counts it as unread', () => {
    client.setHistory(4, { items: [message(1), message(2)] });
    const reply = message(3, { thread_root: 1, also_in_channel: true, seq: 3 });
    const plain = message(4, { thread_root: 1, seq: 4 });
    (client as unknown as { onMessageNew(m: Message): void }).onMessageNew(reply);
    (client as unknown as { onMessageNew(m: Message): void }).onMessageNew(plain);
    expect(client.state.histories.get(4)!.items.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(client.state.channels.get(4)).toMatchObject({ last_seq: 4, unread: 1 });
  });

  it('saves and removes messages', async () => {
    setFetch(async (url, init) => {
      requests.push({ key: `${init.method} ${url}`, body: undefined });
      return new Response(null, { status: 204 });
    });
    await client.setSaved(5, true);
    expect(client.state.saved?.has(5)).toBe(true);
    await client.setSaved(5, false);
    expect(client.state.saved?.has(5)).toBe(false);
    expect(requests.map((r) => r.key)).toEqual(['PUT /api/v1/messages/5/saved', 'DELETE /api/v1/messages/5/saved']);
  });
});
