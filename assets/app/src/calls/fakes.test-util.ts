// Fakes of the WebRTC objects the call code uses, for unit tests.
//
// A fake offer's SDP is one line per m-line: `<mid> <recv|send|stop> <audio|video>` where
// `recv` means the server receives (we send), `send` the server sends (we receive), `stop`
// that the line is stopped. A fake answer lists `<mid>:<direction>:<track id or ->`.

export class FakeTrack {
  readyState: 'live' | 'ended' = 'live';
  enabled = true;
  private listeners = new Map<string, (() => void)[]>();
  constructor(
    readonly kind: 'audio' | 'video',
    readonly id: string,
  ) {}
  stop() {
    this.readyState = 'ended';
  }
  end() {
    this.readyState = 'ended';
    for (const l of this.listeners.get('ended') ?? []) l();
  }
  addEventListener(type: string, l: () => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
}

export class FakeStream {
  constructor(readonly tracks: FakeTrack[]) {}
  getTracks() {
    return this.tracks;
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
}

export class FakeTransceiver {
  direction = 'recvonly';
  currentDirection: string | null = null;
  readonly sender: { track: FakeTrack | null; replaceTrack: (t: FakeTrack | null) => Promise<void> };
  constructor(readonly mid: string) {
    const sender = {
      track: null as FakeTrack | null,
      replaceTrack: async (t: FakeTrack | null) => {
        sender.track = t;
      },
    };
    this.sender = sender;
  }
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

export class FakePC {
  transceivers: FakeTransceiver[] = [];
  iceConnectionState = 'new';
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  ontrack: ((e: unknown) => void) | null = null;
  oniceconnectionstatechange: (() => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  closed = false;
  log: string[] = [];
  /** Makes the next setRemoteDescription wait for this promise. */
  hold: Promise<void> | null = null;
  private trackSeq = 0;

  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.log.push(`srd ${d.sdp.split('\n')[0]}`);
    const hold = this.hold;
    this.hold = null;
    if (hold) await hold;
    await tick();
    for (const line of d.sdp.split('\n').filter(Boolean)) {
      const [mid, what, kind] = line.split(' ') as [string, string, 'audio' | 'video'];
      let tr = this.transceivers.find((x) => x.mid === mid);
      if (what === 'stop') {
        if (tr) tr.currentDirection = 'stopped';
        continue;
      }
      if (!tr) {
        tr = new FakeTransceiver(mid);
        this.transceivers.push(tr);
        if (what === 'send') {
          const track = new FakeTrack(kind, `remote-${++this.trackSeq}`);
          this.ontrack?.({ transceiver: tr, track });
        }
      }
    }
  }

  async createAnswer() {
    this.log.push('answer');
    await tick();
    const sdp = this.transceivers
      .filter((x) => x.currentDirection !== 'stopped')
      .map((x) => `${x.mid}:${x.direction}:${x.sender.track?.id ?? '-'}`)
      .join(',');
    return { type: 'answer', sdp };
  }

  async setLocalDescription(d: { type: string; sdp: string }) {
    this.log.push('sld');
    await tick();
    this.localDescription = d;
  }

  getTransceivers() {
    return this.transceivers;
  }

  close() {
    this.closed = true;
  }

  setIce(state: string) {
    this.iceConnectionState = state;
    this.connectionState = state === 'completed' ? 'connected' : state;
    this.oniceconnectionstatechange?.();
  }
}
