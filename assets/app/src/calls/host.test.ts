// @vitest-environment happy-dom
//
// The chat client as the calls' host: call frames and close codes reach the call manager.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch } from '../api';
import { ChatClient } from '../chat/client';
import { FakeSocket, user } from '../fixtures.test-util';
import { CallManager, type MediaEnv } from './manager';

const me = user();

const env = (): MediaEnv => ({
  getUserMedia: async () => {
    throw new DOMException('no', 'NotFoundError');
  },
  getDisplayMedia: async () => {
    throw new DOMException('no', 'NotAllowedError');
  },
  enumerateDevices: async () => [],
  createPeerConnection: () =>
    ({
      getTransceivers: () => [],
      close() {},
      iceConnectionState: 'new',
      connectionState: 'new',
    }) as unknown as RTCPeerConnection,
  ring: () => () => {},
  listCalls: async () => [
    { id: 3, channel_id: 4, started_by: 2, started_at: 0, participants: [], ringing: [1] },
  ],
  notify: () => {},
  confirm: () => true,
  canShareScreen: false,
});

beforeEach(() => {
  localStorage.clear();
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
  setFetch(async (url) => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
    if (url === '/api/v1/channels') return json([]);
    if (url === '/api/v1/people') return json([]);
    return new Response('{}', { status: 404 });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('ChatClient as the host of calls', () => {
  it('passes call frames and close codes on, and answers requests as usual', async () => {
    const client = new ChatClient(me, () => 'wss://h/api/v1/ws');
    const calls = new CallManager(client, env());
    calls.start();
    client.start();
    const ws = FakeSocket.all.at(-1)!;
    ws.readyState = 1;
    ws.receive({ type: 'ready', v: 1, position: 1, replayed: 0, resync: false, user_id: 1 });
    // After (re)connecting the manager loads the ongoing calls: one rings me.
    await vi.waitFor(() => expect(calls.state.incoming?.id).toBe(3));
    ws.receive({ type: 'call_ended', call_id: 3, channel_id: 4, reason: 'missed' });
    expect(calls.state.incoming).toBeNull();

    // A join: the request goes out with a req id, the answer comes back to it.
    const joining = calls.joinCall(7, 4);
    await vi.waitFor(() => expect(ws.sent.some((f) => f.type === 'call_join')).toBe(true));
    const join = ws.sent.find((f) => f.type === 'call_join')!;
    expect(join).toMatchObject({ call_id: 7, req: expect.any(String) });
    ws.receive({
      type: 'call',
      req: join.req,
      call: { id: 7, channel_id: 4, started_by: 2, started_at: 0, participants: [{ user_id: 1, peer: 3, muted: false, speaking: false, camera: false, screen: false }], ringing: [] },
    });
    await joining;
    expect(calls.state.active).toMatchObject({ callId: 7, myPeer: 3, mic: 'absent' });

    ws.close(1012);
    expect(calls.state.active).toBeNull();
    expect(calls.state.notice?.key).toBe('call.ended.serverRestart');
    calls.stop();
    client.stop();
  });
});
