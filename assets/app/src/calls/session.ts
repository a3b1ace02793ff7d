// One device's media connection to a call: an RTCPeerConnection with the
// server's media server (SFU). The server is always the SDP offerer; this
// side answers each `call_offer`, strictly one at a time and in order, sends
// its own microphone (and camera, screen) on the lines the offer names, and
// maps every line it receives to a participant through the offer's `tracks`.

export type TrackSource = 'mic' | 'cam' | 'screen';

export const SOURCES: readonly TrackSource[] = ['mic', 'cam', 'screen'];

/** Who sends what on one of the lines the server sends us. */
export interface TrackInfo {
  user_id: number;
  peer?: number;
  source: TrackSource;
}

/** `call_offer` from the server. */
export interface CallOffer {
  type: 'call_offer';
  call_id: number;
  sdp: string;
  mic_mid: string | null;
  cam_mid: string | null;
  screen_mid: string | null;
  /** The lines the server sends us, by mid. Lines missing here are stopped. */
  tracks: Record<string, TrackInfo>;
}

/** A participant's stream arriving at this device. */
export interface RemoteTrack {
  mid: string;
  userId: number;
  /** The sender's connection (a person may be in the call from two devices). */
  peer: number | null;
  source: TrackSource;
  track: MediaStreamTrack;
}

export interface MediaSessionOptions {
  callId: number;
  /** Created by the caller, after the microphone permission was asked for. */
  pc: RTCPeerConnection;
  sendAnswer: (sdp: string) => void;
  /** Remote tracks or the connection state changed. */
  onChange: () => void;
  /** The media connection did not come up in time: the media port is unreachable. */
  onUnreachable: () => void;
  /** The media connection was up and failed. */
  onFailed: () => void;
  /** A negotiation step threw (an offer this browser could not take). */
  onError?: (err: unknown) => void;
  /** How long ICE may take to connect after the first answer (default 10 s). */
  iceTimeoutMs?: number;
}

function isStopped(t: RTCRtpTransceiver): boolean {
  return t.currentDirection === 'stopped' || (t as { stopped?: boolean }).stopped === true;
}

export class MediaSession {
  readonly callId: number;
  readonly pc: RTCPeerConnection;
  /** What this device sends, by source (null: nothing). */
  private local: Record<TrackSource, MediaStreamTrack | null> = { mic: null, cam: null, screen: null };
  /** The lines the latest offer asked us to send on. */
  private mids: Record<TrackSource, string | null> = { mic: null, cam: null, screen: null };
  /** The lines the latest offer sends us. */
  private tracks: Record<string, TrackInfo> = {};
  /** Tracks received, by mid. */
  private received = new Map<string, MediaStreamTrack>();
  /** Negotiation steps run one after another on this chain. */
  private queue: Promise<void> = Promise.resolve();
  private iceTimer: ReturnType<typeof setTimeout> | null = null;
  private everConnected = false;
  private failed = false;
  private closed = false;
  /** Offers answered so far. */
  answered = 0;
  /** The media server's ports, from the candidates of its offers (for the "unreachable" message). */
  ports: { udp: number[]; tcp: number[] } = { udp: [], tcp: [] };

  constructor(private readonly opts: MediaSessionOptions) {
    this.callId = opts.callId;
    this.pc = opts.pc;
    this.pc.ontrack = (e: RTCTrackEvent) => {
      const mid = e.transceiver?.mid;
      if (mid === null || mid === undefined) return;
      this.received.set(mid, e.track);
      e.track.addEventListener?.('ended', () => this.opts.onChange());
      this.opts.onChange();
    };
    this.pc.oniceconnectionstatechange = () => this.onConnectionState();
    this.pc.onconnectionstatechange = () => this.onConnectionState();
  }

  /** ICE is up (media can flow). */
  get connected(): boolean {
    const s = this.pc.iceConnectionState;
    return s === 'connected' || s === 'completed';
  }

  /** Queues an offer; offers are answered one at a time, in the order they arrived. */
  offer(o: CallOffer): Promise<void> {
    return this.enqueue(() => this.apply(o));
  }

  /**
   * Sets what this device sends from `source` (null: nothing). On a line that
   * is already negotiated it takes effect at once; otherwise with the offer
   * that opens the line.
   */
  setTrack(source: TrackSource, track: MediaStreamTrack | null): Promise<void> {
    this.local[source] = track;
    return this.enqueue(async () => {
      const tr = this.transceiver(this.mids[source]);
      if (tr && tr.sender.track !== this.local[source]) await tr.sender.replaceTrack(this.local[source]);
    });
  }

  /** The streams arriving now, each with its sender, in line order. */
  remote(): RemoteTrack[] {
    const out: RemoteTrack[] = [];
    for (const [mid, track] of this.received) {
      const info = this.tracks[mid];
      if (!info || track.readyState === 'ended') continue;
      out.push({ mid, userId: info.user_id, peer: info.peer ?? null, source: info.source, track });
    }
    return out.sort((a, b) => Number(a.mid) - Number(b.mid) || a.mid.localeCompare(b.mid));
  }

  /** The line the server asked us to send `source` on (null: none). */
  mid(source: TrackSource): string | null {
    return this.mids[source];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.iceTimer) clearTimeout(this.iceTimer);
    this.iceTimer = null;
    this.pc.ontrack = null;
    this.pc.oniceconnectionstatechange = null;
    this.pc.onconnectionstatechange = null;
    try {
      this.pc.close();
    } catch {
      // already closed
    }
    this.received.clear();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.closed ? undefined : step()));
    // A failed step must not stop the ones after it.
    this.queue = run.catch((err: unknown) => {
      if (!this.closed) this.opts.onError?.(err);
    });
    return run;
  }

  private transceiver(mid: string | null): RTCRtpTransceiver | undefined {
    if (mid === null) return undefined;
    return this.pc.getTransceivers().find((t) => t.mid === mid && !isStopped(t));
  }

  private async apply(o: CallOffer): Promise<void> {
    // Set before the remote description: `ontrack` fires during it and looks lines up here.
    this.tracks = { ...(o.tracks ?? {}) };
    this.mids = { mic: o.mic_mid ?? null, cam: o.cam_mid ?? null, screen: o.screen_mid ?? null };
    if (!this.ports.udp.length && !this.ports.tcp.length) this.ports = candidatePorts(o.sdp);
    await this.pc.setRemoteDescription({ type: 'offer', sdp: o.sdp });
    if (this.closed) return;
    for (const source of SOURCES) {
      const tr = this.transceiver(this.mids[source]);
      if (!tr) continue;
      const track = this.local[source];
      if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
      // Send-only even without a track (a listener without a microphone):
      // a track attached later then needs no new negotiation.
      if (tr.direction !== 'sendonly') tr.direction = 'sendonly';
    }
    const answer = await this.pc.createAnswer();
    if (this.closed) return;
    await this.pc.setLocalDescription(answer);
    if (this.closed) return;
    this.opts.sendAnswer(this.pc.localDescription?.sdp ?? answer.sdp ?? '');
    this.answered++;
    // Lines that left `tracks` were stopped by the server.
    for (const mid of [...this.received.keys()]) if (!(mid in this.tracks)) this.received.delete(mid);
    this.startIceTimer();
    this.opts.onChange();
  }

  private startIceTimer(): void {
    if (this.iceTimer !== null || this.everConnected) return;
    this.iceTimer = setTimeout(() => {
      this.iceTimer = null;
      if (!this.everConnected && !this.closed) this.opts.onUnreachable();
    }, this.opts.iceTimeoutMs ?? 10_000);
  }

  private onConnectionState(): void {
    if (this.closed) return;
    if (this.connected) {
      this.everConnected = true;
      if (this.iceTimer) clearTimeout(this.iceTimer);
      this.iceTimer = null;
    }
    const dead = this.pc.connectionState === 'failed' || this.pc.iceConnectionState === 'failed';
    if (dead && !this.failed) {
      this.failed = true;
      if (this.iceTimer) clearTimeout(this.iceTimer);
      this.iceTimer = null;
      if (this.everConnected) this.opts.onFailed();
      else this.opts.onUnreachable();
      return;
    }
    this.opts.onChange();
  }
}

/** The ports of the host candidates in an SDP, by transport. */
export function candidatePorts(sdp: string): { udp: number[]; tcp: number[] } {
  const udp = new Set<number>();
  const tcp = new Set<number>();
  // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
  for (const m of sdp.matchAll(/^a=candidate:\S+ \d+ (udp|tcp) \d+ \S+ (\d+) typ/gim)) {
    const port = Number(m[2]);
    if (port > 0) (m[1]!.toLowerCase() === 'udp' ? udp : tcp).add(port);
  }
  return { udp: [...udp].sort((a, b) => a - b), tcp: [...tcp].sort((a, b) => a - b) };
}
