// @vitest-environment happy-dom
import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import type { Message } from '../api';
import { message } from '../fixtures.test-util';
import { setLocale } from '../i18n';
import { CallRecordItem } from './CallRecord';
import { formatCallDuration, parseCallRecord } from './record';
import { pickFocus, videoTiles, type Tile } from './stage';

const record = (body: unknown, extra: Partial<Message> = {}) =>
  message({
    id: 50,
    channel_id: 5,
    seq: 7,
    author_id: 1,
    kind: 'call',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    created_at: 1_795_400_000_000,
    ...extra,
  });

const names: Record<number, string> = { 1: 'alice', 2: 'bob', 3: 'carol' };

function html(m: Message): HTMLElement {
  const root = document.createElement('div');
  render(<CallRecordItem message={m} nameOf={(id) => names[id ?? 0] ?? '?'} time="10:00" fullTime="today 10:00" />, root);
  return root;
}

describe('call records', () => {
  it('parses the body and tolerates anything else', () => {
    expect(parseCallRecord('{"call_id":9,"missed":false,"duration_ms":134000,"participants":[1,2]}')).toEqual({
      callId: 9,
      missed: false,
      durationMs: 134000,
      participants: [1, 2],
    });
    expect(parseCallRecord('not json')).toBeNull();
    expect(parseCallRecord('{"missed":true}')).toBeNull();
    expect(parseCallRecord('{"call_id":3,"missed":true}')).toEqual({ callId: 3, missed: true, durationMs: 0, participants: [] });
  });

  it('formats durations as a clock', () => {
    expect(formatCallDuration(0)).toBe('0:00');
    expect(formatCallDuration(5_900)).toBe('0:05');
    expect(formatCallDuration(134_000)).toBe('2:14');
    expect(formatCallDuration(3_723_000)).toBe('1:02:03');
  });

  it('shows a call with its length and who was in it', () => {
    setLocale('en');
    const el = html(record({ call_id: 9, missed: false, duration_ms: 134000, participants: [1, 2] }));
    expect(el.querySelector('.msg-call-text')!.textContent).toBe('Call · 2:14');
    expect(el.querySelector('.msg-call-who')!.textContent).toBe('alice, bob');
    expect(el.querySelector('.msg-call')!.getAttribute('data-call-id')).toBe('9');
    expect(el.textContent).not.toContain('call_id');
  });

  it('shows a missed call with who called', () => {
    setLocale('en');
    const el = html(record({ call_id: 9, missed: true, duration_ms: 0, participants: [1] }));
    expect(el.querySelector('.msg-call-missed .msg-call-text')!.textContent).toBe('Missed call');
    expect(el.querySelector('.msg-call-who')!.textContent).toBe('from alice');
  });

  it('reads in Russian', () => {
    setLocale('ru');
    const el = html(record({ call_id: 9, missed: true, duration_ms: 0, participants: [1] }));
    expect(el.querySelector('.msg-call-text')!.textContent).toBe('Пропущенный звонок');
    setLocale('en');
  });
});

describe('video stage', () => {
  const track = (kind: string, id: string) => ({ kind, id }) as unknown as MediaStreamTrack;
  const wrap = (t: MediaStreamTrack) => ({ id: `s-${t.id}` }) as unknown as MediaStream;
  const remote = [
    { mid: '1', userId: 2, peer: 5, source: 'mic' as const, track: track('audio', 'a2') },
    { mid: '2', userId: 2, peer: 5, source: 'cam' as const, track: track('video', 'v2') },
    { mid: '3', userId: 3, peer: 6, source: 'cam' as const, track: track('video', 'v3') },
  ];

  it('lists the videos (not the audio) and my own camera last', () => {
    const own = { id: 'own' } as unknown as MediaStream;
    const tiles = videoTiles(remote, own, null, 1, wrap);
    expect(tiles.map((x) => [x.key, x.userId, x.source, x.self])).toEqual([
      ['m2', 2, 'cam', false],
      ['m3', 3, 'cam', false],
      ['local-cam', 1, 'cam', true],
    ]);
  });

  it('focuses a pick, else a shared screen, else who spoke last, else another person', () => {
    const tiles: Tile[] = videoTiles(remote, null, null, 1, wrap);
    expect(pickFocus(tiles, null, null)!.key).toBe('m2');
    expect(pickFocus(tiles, null, 3)!.key).toBe('m3');
    expect(pickFocus(tiles, 'm2', 3)!.key).toBe('m2');
    const withScreen = [...tiles, { key: 'm4', userId: 2, source: 'screen' as const, stream: wrap(track('video', 's')), self: false }];
    expect(pickFocus(withScreen, null, 3)!.key).toBe('m4');
    expect(pickFocus([], null, null)).toBeNull();
  });
});
