import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakePC, FakeTrack } from './fakes.test-util';
import { candidatePorts, MediaSession, type CallOffer } from './session';

function offer(sdp: string[], extra: Partial<CallOffer> = {}): CallOffer {
  return {
    type: 'call_offer',
    call_id: 9,
    sdp: sdp.join('\n'),
    mic_mid: '0',
    cam_mid: null,
    screen_mid: null,
    tracks: {},
    ...extra,
  };
}

function session(pc = new FakePC(), extra: Partial<ConstructorParameters<typeof MediaSession>[0]> = {}) {
  const answers: string[] = [];
  const s = new MediaSession({
    callId: 9,
    pc: pc as unknown as RTCPeerConnection,
    sendAnswer: (sdp) => answers.push(sdp),
    onChange: () => {},
    onUnreachable: () => {},
    onFailed: () => {},
    ...extra,
  });
  return { s, pc, answers };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MediaSession', () => {
  it('answers offers one at a time, in the order they came, even when one is slow', async () => {
    const { s, pc, answers } = session();
    let release!: () => void;
    pc.hold = new Promise((r) => (release = r));
    const first = s.offer(offer(['0 recv audio']));
    const second = s.offer(offer(['0 recv audio', '1 send audio'], { tracks: { '1': { user_id: 2, source: 'mic' } } }));
    await new Promise((r) => setTimeout(r, 5));
    // The second offer waits for the first one's answer.
    expect(pc.log).toEqual(['srd 0 recv audio']);
    release();
    await Promise.all([first, second]);
    expect(pc.log).toEqual(['srd 0 recv audio', 'answer', 'sld', 'srd 0 recv audio', 'answer', 'sld']);
    expect(answers).toEqual(['0:sendonly:-', '0:sendonly:-,1:recvonly:-']);
    expect(s.answered).toBe(2);
  });

  it('sends the microphone on the mic line, send-only; a listener answers send-only without a track', async () => {
    const mic = new FakeTrack('audio', 'mic');
    const a = session();
    await a.s.setTrack('mic', mic as unknown as MediaStreamTrack);
    await a.s.offer(offer(['0 recv audio']));
    expect(a.answers).toEqual(['0:sendonly:mic']);

    const b = session();
    await b.s.offer(offer(['0 recv audio']));
    expect(b.answers).toEqual(['0:sendonly:-']);
    // A microphone found later goes out at once on the negotiated line.
    await b.s.setTrack('mic', mic as unknown as MediaStreamTrack);
    expect(b.pc.transceivers[0]!.sender.track).toBe(mic);
    expect(b.pc.log.filter((x) => x.startsWith('srd'))).toHaveLength(1);
  });

  it('maps each received line to its sender and drops lines the server stopped', async () => {
    const changes = vi.fn();
    const { s } = session(new FakePC(), { onChange: changes });
    await s.offer(
      offer(['0 recv audio', '1 send audio', '2 send audio', '3 send video'], {
        tracks: {
          '1': { user_id: 2, peer: 5, source: 'mic' },
          '2': { user_id: 3, peer: 6, source: 'mic' },
          '3': { user_id: 2, peer: 5, source: 'cam' },
        },
      }),
    );
    expect(s.remote().map((r) => [r.mid, r.userId, r.peer, r.source, r.track.kind])).toEqual([
      ['1', 2, 5, 'mic', 'audio'],
      ['2', 3, 6, 'mic', 'audio'],
      ['3', 2, 5, 'cam', 'video'],
    ]);
    expect(changes).toHaveBeenCalled();
    // User 2 left: the server stops their lines and leaves them out of `tracks`.
    await s.offer(
      offer(['0 recv audio', '1 stop audio', '2 send audio', '3 stop video'], {
        tracks: { '2': { user_id: 3, peer: 6, source: 'mic' } },
      }),
    );
    expect(s.remote().map((r) => [r.mid, r.userId])).toEqual([['2', 3]]);
  });

  it('sends the camera on the line a later offer opens for it', async () => {
    const { s, answers } = session();
    await s.offer(offer(['0 recv audio']));
    const cam = new FakeTrack('video', 'cam');
    await s.setTrack('cam', cam as unknown as MediaStreamTrack);
    await s.offer(offer(['0 recv audio', '1 recv video'], { cam_mid: '1' }));
    expect(answers.at(-1)).toBe('0:sendonly:-,1:sendonly:cam');
    expect(s.mid('cam')).toBe('1');
  });

  it('reports an unreachable media port when ICE does not connect within the time', async () => {
    vi.useFakeTimers();
    const unreachable = vi.fn();
    const { s, pc } = session(new FakePC(), { onUnreachable: unreachable, iceTimeoutMs: 10_000 });
    const done = s.offer(offer(['0 recv audio']));
    await vi.advanceTimersByTimeAsync(10);
    await done;
    pc.setIce('checking');
    await vi.advanceTimersByTimeAsync(9_000);
    expect(unreachable).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(unreachable).toHaveBeenCalledOnce();
  });

  it('does not report anything once connected; a later failure is a lost connection', async () => {
    vi.useFakeTimers();
    const unreachable = vi.fn();
    const failed = vi.fn();
    const { s, pc } = session(new FakePC(), { onUnreachable: unreachable, onFailed: failed });
    const done = s.offer(offer(['0 recv audio']));
    await vi.advanceTimersByTimeAsync(10);
    await done;
    pc.setIce('connected');
    expect(s.connected).toBe(true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(unreachable).not.toHaveBeenCalled();
    pc.setIce('failed');
    expect(failed).toHaveBeenCalledOnce();
  });

  it('does nothing after close', async () => {
    const { s, pc, answers } = session();
    s.close();
    await s.offer(offer(['0 recv audio']));
    expect(pc.closed).toBe(true);
    expect(answers).toEqual([]);
  });
});

describe('candidatePorts', () => {
  it('reads the UDP and TCP ports of the offered candidates', () => {
    const sdp = [
      'v=0',
      'a=candidate:1 1 udp 2130706431 192.168.1.10 3478 typ host',
      'a=candidate:2 1 udp 2130706431 10.0.0.2 3478 typ host',
      'a=candidate:3 1 tcp 1518280447 192.168.1.10 3478 typ host tcptype passive',
    ].join('\r\n');
    expect(candidatePorts(sdp)).toEqual({ udp: [3478], tcp: [3478] });
    expect(candidatePorts('v=0\r\n')).toEqual({ udp: [], tcp: [] });
  });
});
