import { describe, expect, it, vi } from 'vitest';
import { ApiError, type Call } from '../api';
import { FakePC, FakeStream, FakeTrack } from './fakes.test-util';
import { CallManager, myPeerIn, portsText, type CallHost, type MediaEnv } from './manager';

type Frame = Record<string, unknown> & { type: string };

const ME = 1;

function call(extra: Partial<Call> = {}): Call {
  return { id: 9, channel_id: 5, started_by: 2, started_at: 0, participants: [], ringing: [ME], ...extra };
}

class FakeHost implements CallHost {
  me = { id: ME };
  sent: Record<string, unknown>[] = [];
  log: string[];
  private frames = new Set<(f: Frame) => void>();
  private closes = new Set<(code: number) => void>();
  /** Answers to requests, by frame type. */
  replies: Record<string, (f: Record<string, unknown>) => Frame | Error> = {};
  constructor(log: string[]) {
    this.log = log;
  }
  request(frame: Record<string, unknown>): Promise<Frame> {
    this.sent.push(frame);
    this.log.push(String(frame.type));
    const reply = this.replies[String(frame.type)]?.(frame) ?? new ApiError(0, 'malformed-frame', '');
    return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
  }
  sendFrame(frame: Record<string, unknown>): boolean {
    this.sent.push(frame);
    this.log.push(String(frame.type));
    return true;
  }
  addFrameListener(l: (f: Frame) => void) {
    this.frames.add(l);
    return () => this.frames.delete(l);
  }
  addCloseListener(l: (code: number) => void) {
    this.closes.add(l);
    return () => this.closes.delete(l);
  }
  receive(frame: Frame) {
    for (const l of this.frames) l(frame);
  }
  close(code: number) {
    for (const l of this.closes) l(code);
  }
  frames_of(type: string) {
    return this.sent.filter((f) => f.type === type);
  }
}

function setup(opts: { mic?: 'ok' | 'NotAllowedError' | 'NotFoundError' } = {}) {
  const log: string[] = [];
  const host = new FakeHost(log);
  const pcs: FakePC[] = [];
  const ring = { started: 0, stopped: 0 };
  const micTrack = new FakeTrack('audio', 'mic');
  const env: MediaEnv = {
    getUserMedia: vi.fn(async () => {
      log.push('getUserMedia');
      if (opts.mic && opts.mic !== 'ok') throw new DOMException('no', opts.mic);
      return new FakeStream([micTrack]) as unknown as MediaStream;
    }),
    getDisplayMedia: vi.fn(async () => {
      throw new DOMException('no', 'NotAllowedError');
    }),
    enumerateDevices: async () => [],
    createPeerConnection: () => {
      log.push('createPeerConnection');
      const pc = new FakePC();
      pcs.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    ring: () => {
      ring.started++;
      return () => ring.stopped++;
    },
    listCalls: async () => [],
    notify: () => {},
    confirm: () => true,
    canShareScreen: false,
  };
  const m = new CallManager(host, env);
  m.start();
  host.replies.call_start = (f) => ({ type: 'call', call: call({ id: 9, channel_id: Number(f.channel_id), started_by: ME, ringing: [2] }) });
  host.replies.call_join = () => ({
    type: 'call',
    call: call({ started_by: ME, ringing: [2], participants: [{ user_id: ME, peer: 4, muted: false, speaking: false, camera: false, screen: false }] }),
  });
  return { m, host, env, pcs, ring, log, micTrack };
}

const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 2 });

describe('CallManager: ringing', () => {
  it('rings for a call that rings me, and stops when the call is missed', () => {
    const { m, host, ring } = setup();
    host.receive({ type: 'call_ring', call: call() });
    expect(m.state.incoming?.id).toBe(9);
    expect(m.state.calls.get(5)?.id).toBe(9);
    expect(ring.started).toBe(1);
    host.receive({ type: 'call_ended', call_id: 9, channel_id: 5, reason: 'missed' });
    expect(m.state.incoming).toBeNull();
    expect(m.state.calls.has(5)).toBe(false);
    expect(ring.stopped).toBe(1);
  });

  it('does not ring for a call I started, or that does not ring me', () => {
    const { m, host, ring } = setup();
    host.receive({ type: 'call_ring', call: call({ started_by: ME, ringing: [2] }) });
    host.receive({ type: 'call_ring', call: call({ id: 10, channel_id: 6, ringing: [3] }) });
    expect(m.state.incoming).toBeNull();
    expect(ring.started).toBe(0);
    // Both are known as ongoing calls (the header offers "Join").
    expect([...m.state.calls.keys()].sort()).toEqual([5, 6]);
  });

  it('stops ringing when I answered on another device', () => {
    const { m, host, ring } = setup();
    host.receive({ type: 'call_ring', call: call() });
    host.receive({
      type: 'call_state',
      call: call({ ringing: [], participants: [{ user_id: ME, peer: 7, muted: false, speaking: false, camera: false, screen: false }] }),
    });
    expect(m.state.incoming).toBeNull();
    expect(ring.stopped).toBe(1);
  });

  it('declining stops the ringing and tells the server', () => {
    const { m, host, ring } = setup();
    host.receive({ type: 'call_ring', call: call() });
    m.decline();
    expect(m.state.incoming).toBeNull();
    expect(ring.stopped).toBe(1);
    expect(host.frames_of('call_decline')).toEqual([{ type: 'call_decline', call_id: 9 }]);
  });

  it('keeps a ring that arrives while the call list is on its way', async () => {
    const { m, host, env } = setup();
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let asked = 0;
    // The first list was asked for before the call began; the second after.
    env.listCalls = async () => {
      asked++;
      if (asked === 1) {
        await held;
        return [];
      }
      return [call()];
    };
    host.receive({ type: 'ready' });
    host.receive({ type: 'call_ring', call: call() });
    expect(m.state.incoming?.id).toBe(9);
    release();
    await settle(() => expect(asked).toBe(2));
    await settle(() => expect(m.state.calls.get(5)?.id).toBe(9));
    expect(m.state.incoming?.id).toBe(9);
  });

  it('rings after a reload for a call still ringing me', async () => {
    const { m, host, env } = setup();
    env.listCalls = async () => [call()];
    host.receive({ type: 'ready' });
    await settle(() => expect(m.state.incoming?.id).toBe(9));
  });
});

describe('CallManager: a call', () => {
  it('asks for the microphone before making the connection, starts, joins and answers offers', async () => {
    const { m, host, pcs, log, micTrack } = setup();
    await m.startCall(5);
    expect(log).toEqual(['getUserMedia', 'call_start', 'createPeerConnection', 'call_join']);
    expect(m.state.active).toMatchObject({ callId: 9, channelId: 5, phase: 'connecting', mic: 'ok', myPeer: 4 });
    host.receive({
      type: 'call_offer',
      call_id: 9,
      sdp: '0 recv audio\n1 send audio',
      mic_mid: '0',
      cam_mid: null,
      screen_mid: null,
      tracks: { '1': { user_id: 2, peer: 5, source: 'mic' } },
    });
    await settle(() => expect(host.frames_of('call_answer')).toHaveLength(1));
    expect(host.frames_of('call_answer')[0]).toEqual({ type: 'call_answer', call_id: 9, sdp: '0:sendonly:mic,1:recvonly:-' });
    expect(pcs[0]!.transceivers[0]!.sender.track).toBe(micTrack);
    expect(m.state.active!.remote.map((r) => [r.mid, r.userId])).toEqual([['1', 2]]);
    // Offers for another call are not ours.
    host.receive({ type: 'call_offer', call_id: 99, sdp: '0 recv audio', mic_mid: '0', cam_mid: null, screen_mid: null, tracks: {} });
    await new Promise((r) => setTimeout(r, 10));
    expect(host.frames_of('call_answer')).toHaveLength(1);
    pcs[0]!.setIce('connected');
    expect(m.state.active!.phase).toBe('connected');
  });

  it('joins to listen when the microphone is blocked, and says so', async () => {
    const { m, host, pcs } = setup({ mic: 'NotAllowedError' });
    await m.startCall(5);
    expect(m.state.active).toMatchObject({ mic: 'blocked', phase: 'connecting' });
    host.receive({ type: 'call_offer', call_id: 9, sdp: '0 recv audio', mic_mid: '0', cam_mid: null, screen_mid: null, tracks: {} });
    await settle(() => expect(host.frames_of('call_answer')).toHaveLength(1));
    expect(pcs[0]!.transceivers[0]!.sender.track).toBeNull();
  });

  it('tells an absent microphone apart', async () => {
    const { m } = setup({ mic: 'NotFoundError' });
    await m.startCall(5);
    expect(m.state.active?.mic).toBe('absent');
  });

  it('mute disables the track and tells the server', async () => {
    const { m, host, micTrack } = setup();
    await m.startCall(5);
    m.toggleMute();
    expect(micTrack.enabled).toBe(false);
    expect(host.frames_of('call_mute')).toEqual([{ type: 'call_mute', call_id: 9, muted: true }]);
    m.toggleMute();
    expect(micTrack.enabled).toBe(true);
    expect(m.state.active?.muted).toBe(false);
  });

  it('leaving tells the server, closes the connection and releases the microphone', async () => {
    const { m, host, pcs, micTrack } = setup();
    await m.startCall(5);
    m.leave();
    expect(host.frames_of('call_leave')).toEqual([{ type: 'call_leave', call_id: 9 }]);
    expect(pcs[0]!.closed).toBe(true);
    expect(micTrack.readyState).toBe('ended');
    expect(m.state.active).toBeNull();
  });

  it('a call refused by the server ends with its reason', async () => {
    const { m, host } = setup();
    host.replies.call_join = () => new ApiError(0, 'not-found', 'no such call');
    await m.joinCall(9, 5);
    expect(m.state.active).toBeNull();
    expect(m.state.notice?.key).toBe('call.error.notFound');
    host.replies.call_join = () => new ApiError(0, 'call-full', 'full');
    await m.joinCall(9, 5);
    expect(m.state.notice?.key).toBe('call.error.full');
  });

  it('a server restart (call_ended or close code 1012) ends the call and says why', async () => {
    const a = setup();
    await a.m.startCall(5);
    a.host.receive({ type: 'call_ended', call_id: 9, channel_id: 5, reason: 'server-restart' });
    expect(a.m.state.active).toBeNull();
    expect(a.m.state.notice?.key).toBe('call.ended.serverRestart');

    const b = setup();
    await b.m.startCall(5);
    b.host.close(1012);
    expect(b.m.state.active).toBeNull();
    expect(b.m.state.notice?.key).toBe('call.ended.serverRestart');
    expect(b.pcs[0]!.closed).toBe(true);

    const c = setup();
    await c.m.startCall(5);
    c.host.close(1006);
    expect(c.m.state.notice?.key).toBe('call.ended.connectionLost');
  });

  it('the caller hears why an unanswered call ended', async () => {
    const { m, host } = setup();
    await m.startCall(5);
    host.receive({ type: 'call_ended', call_id: 9, channel_id: 5, reason: 'missed' });
    expect(m.state.notice?.key).toBe('call.ended.noAnswer');
    await m.startCall(5);
    host.receive({ type: 'call_ended', call_id: 9, channel_id: 5, reason: 'declined' });
    expect(m.state.notice?.key).toBe('call.ended.declined');
  });

  it('accepting joins the ringing call', async () => {
    const { m, host, ring } = setup();
    host.receive({ type: 'call_ring', call: call() });
    await m.accept();
    expect(ring.stopped).toBe(1);
    expect(host.frames_of('call_join')).toEqual([expect.objectContaining({ call_id: 9 })]);
    expect(host.frames_of('call_start')).toHaveLength(0);
    expect(m.state.active?.callId).toBe(9);
  });

  it('leaves the call when the server dropped this device', async () => {
    const { m, host } = setup();
    await m.startCall(5);
    const p = (user_id: number, peer: number) => ({ user_id, peer, muted: false, speaking: false, camera: false, screen: false });
    host.receive({ type: 'call_state', call: call({ started_by: ME, participants: [p(ME, 4), p(2, 5)] }) });
    expect(m.state.active).not.toBeNull();
    host.receive({ type: 'call_state', call: call({ started_by: ME, participants: [p(2, 5)] }) });
    expect(m.state.active).toBeNull();
    expect(m.state.notice?.key).toBe('call.ended.mediaLost');
  });
});

describe('helpers', () => {
  it('finds this device among my connections: the newest', () => {
    const p = (user_id: number, peer: number) => ({ user_id, peer, muted: false, speaking: false, camera: false, screen: false });
    expect(myPeerIn(call({ participants: [p(ME, 3), p(2, 4), p(ME, 6)] }), ME)).toBe(6);
    expect(myPeerIn(call(), ME)).toBeNull();
  });

  it('names the media ports', () => {
    expect(portsText({ udp: [], tcp: [] })).toBe('UDP 3478 or TCP 3478');
    expect(portsText({ udp: [40000], tcp: [] })).toBe('UDP 40000');
    expect(portsText({ udp: [3478], tcp: [3478] })).toBe('UDP 3478 or TCP 3478');
  });
});
