// Calls without UI: the ongoing calls of my conversations, the incoming call
// (ringing), and the call this device is in, with its microphone, camera,
// screen and media connection. Signaling runs on the chat WebSocket (frames
// `call_*`, see docs/protocol.md); the views render `store` and call the
// actions.

import { ApiError, callsApi, type Call } from '../api';
import { Store } from '../chat/store';
import { t, type MessageKey, type Params } from '../i18n';
import { startRingtone } from './ringtone';
import { MediaSession, type CallOffer, type RemoteTrack } from './session';

type Frame = Record<string, unknown> & { type: string };

/** What calls need from the chat connection (`ChatClient` has it). */
export interface CallHost {
  readonly me: { id: number };
  request(frame: Record<string, unknown>): Promise<Frame>;
  sendFrame(frame: Record<string, unknown>): boolean;
  addFrameListener(listener: (frame: Frame) => void): () => void;
  addCloseListener(listener: (code: number) => void): () => void;
}

/** What calls need from the browser; tests pass fakes. */
export interface MediaEnv {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia(constraints: DisplayMediaStreamOptions): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
  createPeerConnection(): RTCPeerConnection;
  /** Starts the ringtone; returns the function that stops it. */
  ring(): () => void;
  listCalls(): Promise<Call[]>;
  /** A desktop notification (when the page is not in view). */
  notify(title: string, body: string, onClick: () => void): void;
  /** Asks the user a yes/no question. */
  confirm(question: string): boolean;
  /** Whether the browser can share the screen. */
  canShareScreen: boolean;
  /** The media connection's time to come up before it counts as unreachable. */
  iceTimeoutMs?: number;
}

/**
 * The microphone as the pre-call check found it: `ok`; `blocked` (the user or
 * the browser refused it); `absent` (no microphone); `unavailable` (the page
 * is not a secure context, so there is no media API); `error` (another
 * failure, e.g. the device is in use); `pending` (still asking).
 */
export type MicState = 'ok' | 'blocked' | 'absent' | 'unavailable' | 'error' | 'pending';

/** `starting` (asking the server for a call), `joining`, `connecting` (media), `connected`. */
export type Phase = 'starting' | 'joining' | 'connecting' | 'connected';

export interface ActiveCall {
  /** Null while the server is still making the call. */
  callId: number | null;
  channelId: number;
  phase: Phase;
  /** The call as the server last described it. */
  call: Call | null;
  /** This device's connection in the call (from the join answer). */
  myPeer: number | null;
  /** When this device joined (local clock), for the duration shown. */
  joinedAt: number;
  muted: boolean;
  camera: boolean;
  screen: boolean;
  mic: MicState;
  remote: readonly RemoteTrack[];
  localCamera: MediaStream | null;
  localScreen: MediaStream | null;
}

/** A sentence about the calls to show until dismissed (e.g. why a call ended). */
export interface Notice {
  key: MessageKey;
  params?: Params;
  tone: 'info' | 'error';
}

export interface DeviceChoice {
  mic: string | null;
  speaker: string | null;
  camera: string | null;
}

export interface CallsState {
  /** Ongoing calls in my conversations, by conversation id. */
  calls: ReadonlyMap<number, Call>;
  /** The call ringing on this device. */
  incoming: Call | null;
  /** The call this device is in. */
  active: ActiveCall | null;
  notice: Notice | null;
  devices: readonly MediaDeviceInfo[];
  choice: DeviceChoice;
}

/** The longest an incoming call rings here, whatever the server says. */
const MAX_RING_MS = 120_000;
const CHOICE_KEY = 'outpost.callDevices';

function stopStream(stream: MediaStream | null | undefined): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}

function errorName(err: unknown): string {
  return err && typeof err === 'object' && 'name' in err ? String((err as { name: unknown }).name) : '';
}

/** The sentence for a failed call request. */
export function noticeForError(err: unknown): Notice {
  const code = err instanceof ApiError ? err.code : '';
  switch (code) {
    case 'not-found':
      return { key: 'call.error.notFound', tone: 'error' };
    case 'call-full':
      return { key: 'call.error.full', tone: 'error' };
    case 'calls-disabled':
      return { key: 'call.error.disabled', tone: 'error' };
    case 'disconnected':
      return { key: 'call.error.offline', tone: 'error' };
    default:
      return { key: 'call.error.failed', tone: 'error' };
  }
}

/** This device's connection in a call: the newest of mine in the join answer. */
export function myPeerIn(call: Call, me: number): number | null {
  let best: number | null = null;
  for (const p of call.participants) {
    if (p.user_id === me && typeof p.peer === 'number' && (best === null || p.peer > best)) best = p.peer;
  }
  return best;
}

export class CallManager {
  readonly store: Store<CallsState>;
  private session: MediaSession | null = null;
  private micStream: MediaStream | null = null;
  private cameraStream: MediaStream | null = null;
  private screenStream: MediaStream | null = null;
  /** Bumped whenever this device enters or leaves a call: async work of an older attempt stops. */
  private attempt = 0;
  /** The server has this device in the active call. */
  private joined = false;
  /** A `call_state` listing this device was seen since joining. */
  private seenMyself = false;
  private stopRing: (() => void) | null = null;
  /** Call events received so far, to tell whether a call list fetched meanwhile is stale. */
  private callNews = 0;
  private ringTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribe: (() => void)[] = [];

  constructor(
    private readonly host: CallHost,
    private readonly env: MediaEnv = browserEnv(),
  ) {
    this.store = new Store<CallsState>({
      calls: new Map(),
      incoming: null,
      active: null,
      notice: null,
      devices: [],
      choice: loadChoice(),
    });
  }

  get state(): CallsState {
    return this.store.get();
  }

  /** The media connection of the active call (tests and debugging). */
  get pc(): RTCPeerConnection | null {
    return this.session?.pc ?? null;
  }

  /** The streams arriving in the active call, with their senders. */
  remoteTracks(): RemoteTrack[] {
    return this.session?.remote() ?? [];
  }

  /** The local microphone track being sent (null: listening only). */
  get micTrack(): MediaStreamTrack | null {
    return this.micStream?.getAudioTracks()[0] ?? null;
  }

  get canShareScreen(): boolean {
    return this.env.canShareScreen;
  }

  start(): void {
    this.unsubscribe.push(this.host.addFrameListener((f) => this.onFrame(f)));
    this.unsubscribe.push(this.host.addCloseListener((code) => this.onClose(code)));
    if (typeof navigator !== 'undefined' && navigator.mediaDevices?.addEventListener) {
      const onChange = () => void this.refreshDevices();
      navigator.mediaDevices.addEventListener('devicechange', onChange);
      this.unsubscribe.push(() => navigator.mediaDevices.removeEventListener('devicechange', onChange));
    }
  }

  stop(): void {
    this.teardown(null);
    this.hideIncoming();
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  // ---- what the server says ---------------------------------------------

  private onFrame(f: Frame): void {
    if (f.type === 'call_ring' || f.type === 'call_state' || f.type === 'call_ended') this.callNews++;
    switch (f.type) {
      case 'ready':
        void this.refresh();
        return;
      case 'call_ring':
        this.onRing(f.call as Call);
        return;
      case 'call_state':
        this.onCallState(f.call as Call);
        return;
      case 'call_ended':
        this.onEnded(Number(f.call_id), Number(f.channel_id), String(f.reason ?? 'ended'));
        return;
      case 'call_offer':
        this.onOffer(f as unknown as CallOffer);
        return;
    }
  }

  private onClose(code: number): void {
    // The server takes a connection that closes out of its calls.
    if (this.state.active) {
      this.teardown(
        code === 1012 ? { key: 'call.ended.serverRestart', tone: 'error' } : { key: 'call.ended.connectionLost', tone: 'error' },
        false,
      );
    }
    this.hideIncoming();
  }

  /** Reloads the ongoing calls (after every (re)connect). */
  async refresh(): Promise<void> {
    // A call event that arrives while the list is on its way is newer than the list, e.g. a
    // ring that comes in during a reload: ask again rather than let the older list undo it.
    let list: Call[] = [];
    let fresh = false;
    for (let attempt = 0; attempt < 3 && !fresh; attempt++) {
      const news = this.callNews;
      try {
        list = await this.env.listCalls();
      } catch {
        return;
      }
      fresh = this.callNews === news;
    }
    // Still overtaken after three tries: what the events said since stands; the list only adds.
    const calls = fresh ? new Map<number, Call>() : new Map(this.state.calls);
    for (const c of list) if (fresh || !calls.has(c.channel_id)) calls.set(c.channel_id, c);
    this.store.set({ calls });
    const incoming = this.state.incoming;
    if (fresh && incoming && !list.some((c) => c.id === incoming.id && this.shouldRing(c))) this.hideIncoming();
    if (!this.state.incoming) {
      const ringing = list.find((c) => this.shouldRing(c));
      if (ringing) this.showIncoming(ringing);
    }
  }

  /** Whether a call should ring on this device. */
  shouldRing(call: Call): boolean {
    const me = this.host.me.id;
    const active = this.state.active;
    return (
      call.started_by !== me &&
      call.ringing.includes(me) &&
      !call.participants.some((p) => p.user_id === me) &&
      active?.callId !== call.id &&
      active?.channelId !== call.channel_id
    );
  }

  private upsert(call: Call): void {
    const calls = new Map(this.state.calls);
    calls.set(call.channel_id, call);
    this.store.set({ calls });
  }

  private onRing(call: Call): void {
    this.upsert(call);
    if (this.shouldRing(call)) this.showIncoming(call);
  }

  private onCallState(call: Call): void {
    this.upsert(call);
    const incoming = this.state.incoming;
    if (incoming?.id === call.id) {
      if (this.shouldRing(call)) this.store.set({ incoming: call });
      else this.hideIncoming();
    }
    const active = this.state.active;
    if (active && active.callId === call.id) {
      const mine = active.myPeer !== null && call.participants.some((p) => p.peer === active.myPeer);
      if (mine) this.seenMyself = true;
      if (this.joined && this.seenMyself && !mine) {
        // The server dropped this device (its media connection went away).
        this.teardown({ key: 'call.ended.mediaLost', tone: 'error' }, false);
        return;
      }
      this.patchActive({ call });
    }
  }

  private onEnded(callId: number, channelId: number, reason: string): void {
    const calls = new Map(this.state.calls);
    if (calls.get(channelId)?.id === callId) calls.delete(channelId);
    this.store.set({ calls });
    if (this.state.incoming?.id === callId) this.hideIncoming();
    const active = this.state.active;
    if (active && active.callId === callId) {
      const iStarted = active.call?.started_by === this.host.me.id;
      const notice: Notice | null =
        reason === 'server-restart'
          ? { key: 'call.ended.serverRestart', tone: 'error' }
          : reason === 'missed' && iStarted
            ? { key: 'call.ended.noAnswer', tone: 'info' }
            : reason === 'declined' && iStarted
              ? { key: 'call.ended.declined', tone: 'info' }
              : null;
      this.teardown(notice, false);
    }
  }

  private onOffer(offer: CallOffer): void {
    const session = this.session;
    if (!session || session.callId !== offer.call_id) return;
    void session.offer(offer).catch(() => {
      // reported through onError
    });
  }

  // ---- ringing ----------------------------------------------------------

  private showIncoming(call: Call): void {
    const already = this.state.incoming?.id === call.id;
    this.store.set({ incoming: call });
    if (already) return;
    this.stopRing?.();
    // Do not disturb, or a conversation set to notify of nothing: the call shows, silently.
    const quiet = this.quiet(call);
    this.stopRing = quiet ? null : this.env.ring();
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.ringTimer = setTimeout(() => this.hideIncoming(), MAX_RING_MS);
    if (quiet) return;
    const { caller, place } = this.describe(call);
    this.env.notify(t('call.incoming.notification', { name: caller }), place, () => {});
  }

  private hideIncoming(): void {
    this.stopRing?.();
    this.stopRing = null;
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.ringTimer = null;
    if (this.state.incoming) this.store.set({ incoming: null });
  }

  /** Whether a call rings silently (set by the app, which knows the do-not-disturb settings). */
  quiet: (call: Call) => boolean = () => false;

  /** Names for a call: who called, and where (set by the app, which knows people and conversations). */
  describe: (call: Call) => { caller: string; place: string } = (call) => ({
    caller: `#${call.started_by}`,
    place: `#${call.channel_id}`,
  });

  // ---- actions ----------------------------------------------------------

  /** Calls a conversation, or joins the call already going on in it. */
  startCall(channelId: number): Promise<void> {
    const existing = this.state.calls.get(channelId);
    return this.enter(channelId, existing ? existing.id : null);
  }

  /** Joins an ongoing call. */
  joinCall(callId: number, channelId: number): Promise<void> {
    return this.enter(channelId, callId);
  }

  /** Answers the ringing call. */
  accept(): Promise<void> {
    const call = this.state.incoming;
    if (!call) return Promise.resolve();
    this.hideIncoming();
    return this.enter(call.channel_id, call.id, true);
  }

  /** Stops the ringing call ringing for me (everywhere). */
  decline(): void {
    const call = this.state.incoming;
    if (!call) return;
    this.hideIncoming();
    this.host.sendFrame({ type: 'call_decline', call_id: call.id });
  }

  /** Leaves the active call. */
  leave(): void {
    this.teardown(null);
    this.store.set({ notice: null });
  }

  dismissNotice(): void {
    this.store.set({ notice: null });
  }

  private async enter(channelId: number, callId: number | null, accepted = false): Promise<void> {
    const current = this.state.active;
    if (current) {
      if (current.channelId === channelId) return;
      if (!accepted && !this.env.confirm(t('call.confirmSwitch'))) return;
      this.teardown(null);
    }
    if (this.state.incoming && (this.state.incoming.channel_id === channelId || this.state.incoming.id === callId)) {
      this.hideIncoming();
    }
    const attempt = ++this.attempt;
    this.joined = false;
    this.seenMyself = false;
    this.store.set({
      notice: null,
      active: {
        callId,
        channelId,
        phase: callId === null ? 'starting' : 'joining',
        call: callId === null ? null : (this.state.calls.get(channelId) ?? null),
        myPeer: null,
        joinedAt: Date.now(),
        muted: false,
        camera: false,
        screen: false,
        mic: 'pending',
        remote: [],
        localCamera: null,
        localScreen: null,
      },
    });
    // The microphone first: its permission prompt comes before any connection.
    const mic = await this.acquireMic();
    if (attempt !== this.attempt) {
      stopStream(mic.stream);
      return;
    }
    this.micStream = mic.stream;
    this.patchActive({ mic: mic.state });
    if (mic.stream) void this.refreshDevices(); // labels are readable once permitted
    try {
      let id = callId;
      if (id === null) {
        const reply = await this.host.request({ type: 'call_start', channel_id: channelId });
        if (attempt !== this.attempt) return;
        const call = reply.call as Call;
        this.upsert(call);
        id = call.id;
        this.patchActive({ callId: id, call, phase: 'joining' });
      }
      const session = this.openSession(id);
      const reply = await this.host.request({ type: 'call_join', call_id: id });
      if (attempt !== this.attempt) {
        this.host.sendFrame({ type: 'call_leave', call_id: id });
        return;
      }
      const call = reply.call as Call;
      this.joined = true;
      this.upsert(call);
      const muted = this.state.active?.muted ?? false;
      if (muted) this.host.sendFrame({ type: 'call_mute', call_id: id, muted: true });
      this.patchActive({
        call,
        myPeer: myPeerIn(call, this.host.me.id),
        phase: session.connected ? 'connected' : 'connecting',
      });
    } catch (err) {
      if (attempt !== this.attempt) return;
      this.teardown(noticeForError(err), false);
    }
  }

  private openSession(callId: number): MediaSession {
    this.session?.close();
    const pc = this.env.createPeerConnection();
    const session = new MediaSession({
      callId,
      pc,
      iceTimeoutMs: this.env.iceTimeoutMs,
      sendAnswer: (sdp) => this.host.sendFrame({ type: 'call_answer', call_id: callId, sdp }),
      onChange: () => {
        if (this.session === session) this.syncSession();
      },
      onUnreachable: () => {
        if (this.session === session) {
          this.teardown({ key: 'call.error.unreachable', params: { ports: portsText(session.ports) }, tone: 'error' });
        }
      },
      onFailed: () => {
        if (this.session === session) this.teardown({ key: 'call.ended.mediaLost', tone: 'error' });
      },
      onError: () => {
        if (this.session === session) this.teardown({ key: 'call.error.failed', tone: 'error' });
      },
    });
    const mic = this.micTrack;
    if (mic) void session.setTrack('mic', mic);
    this.session = session;
    return session;
  }

  private syncSession(): void {
    const session = this.session;
    const active = this.state.active;
    if (!session || !active) return;
    const phase: Phase = !this.joined ? active.phase : session.connected ? 'connected' : 'connecting';
    this.patchActive({ remote: session.remote(), phase });
  }

  private patchActive(patch: Partial<ActiveCall>): void {
    const active = this.state.active;
    if (active) this.store.set({ active: { ...active, ...patch } });
  }

  /** Ends this device's part in the active call; `notice` says why (null: nothing to say). */
  private teardown(notice: Notice | null, tellServer = true): void {
    const active = this.state.active;
    this.attempt++;
    if (active?.callId != null && this.joined && tellServer) {
      this.host.sendFrame({ type: 'call_leave', call_id: active.callId });
    }
    this.joined = false;
    this.seenMyself = false;
    this.session?.close();
    this.session = null;
    stopStream(this.micStream);
    stopStream(this.cameraStream);
    stopStream(this.screenStream);
    this.micStream = this.cameraStream = this.screenStream = null;
    if (active || notice) this.store.set({ active: null, notice: notice ?? this.state.notice });
  }

  // ---- microphone, camera, screen ---------------------------------------

  private async acquireMic(): Promise<{ stream: MediaStream | null; state: MicState }> {
    const wanted = this.state.choice.mic;
    const constraints = (deviceId: string | null): MediaStreamConstraints => ({
      audio: {
        echoCancellation: true,
        noiseSuppression: true,
        autoGainControl: true,
        ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
      },
      video: false,
    });
    try {
      return { stream: await this.env.getUserMedia(constraints(wanted)), state: 'ok' };
    } catch (err) {
      const name = errorName(err);
      if (wanted && (name === 'OverconstrainedError' || name === 'NotFoundError')) {
        // The chosen microphone is gone: take the default one.
        this.choose('mic', null);
        return this.acquireMic();
      }
      if (name === 'NotAllowedError' || name === 'SecurityError') return { stream: null, state: 'blocked' };
      if (name === 'NotFoundError' || name === 'OverconstrainedError') return { stream: null, state: 'absent' };
      if (name === 'NotSupportedError' || name === 'TypeError') return { stream: null, state: 'unavailable' };
      return { stream: null, state: 'error' };
    }
  }

  /** Asks for the microphone again (after the user allowed it or plugged one in). */
  async retryMic(): Promise<void> {
    const attempt = this.attempt;
    if (!this.state.active) return;
    this.patchActive({ mic: 'pending' });
    const mic = await this.acquireMic();
    if (attempt !== this.attempt || !this.state.active) {
      stopStream(mic.stream);
      return;
    }
    this.replaceMic(mic.stream);
    this.patchActive({ mic: mic.state });
    if (mic.stream) void this.refreshDevices();
  }

  private replaceMic(stream: MediaStream | null): void {
    const old = this.micStream;
    this.micStream = stream;
    const track = stream?.getAudioTracks()[0] ?? null;
    if (track) track.enabled = !(this.state.active?.muted ?? false);
    void this.session?.setTrack('mic', track).finally(() => stopStream(old));
    if (!this.session) stopStream(old);
  }

  toggleMute(): void {
    const active = this.state.active;
    if (!active) return;
    const muted = !active.muted;
    // Muted audio does not even leave the device; the server also stops forwarding it.
    for (const t of this.micStream?.getAudioTracks() ?? []) t.enabled = !muted;
    this.patchActive({ muted });
    if (active.callId !== null && this.joined) this.host.sendFrame({ type: 'call_mute', call_id: active.callId, muted });
  }

  private sendMedia(): void {
    const active = this.state.active;
    if (!active || active.callId === null || !this.joined) return;
    this.host.sendFrame({ type: 'call_media', call_id: active.callId, camera: active.camera, screen: active.screen });
  }

  async toggleCamera(): Promise<void> {
    const active = this.state.active;
    if (!active || !this.joined) return;
    if (active.camera) {
      this.stopCamera();
      return;
    }
    const attempt = this.attempt;
    let stream: MediaStream;
    try {
      stream = await this.env.getUserMedia({ video: this.videoConstraints(), audio: false });
    } catch (err) {
      const name = errorName(err);
      this.store.set({
        notice: {
          key: name === 'NotAllowedError' ? 'call.camera.blocked' : name === 'NotFoundError' ? 'call.camera.absent' : 'call.camera.failed',
          tone: 'error',
        },
      });
      return;
    }
    if (attempt !== this.attempt || !this.state.active) {
      stopStream(stream);
      return;
    }
    this.cameraStream = stream;
    this.patchActive({ camera: true, localCamera: stream });
    void this.session?.setTrack('cam', stream.getVideoTracks()[0] ?? null);
    this.sendMedia();
    void this.refreshDevices();
  }

  private stopCamera(): void {
    void this.session?.setTrack('cam', null);
    stopStream(this.cameraStream);
    this.cameraStream = null;
    this.patchActive({ camera: false, localCamera: null });
    this.sendMedia();
  }

  private videoConstraints(): MediaTrackConstraints {
    const id = this.state.choice.camera;
    return { width: { ideal: 1280 }, height: { ideal: 720 }, ...(id ? { deviceId: { ideal: id } } : {}) };
  }

  async toggleScreen(): Promise<void> {
    const active = this.state.active;
    if (!active || !this.joined) return;
    if (active.screen) {
      this.stopScreen();
      return;
    }
    const attempt = this.attempt;
    let stream: MediaStream;
    try {
      stream = await this.env.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      // Cancelling the browser's picker is not an error worth a sentence.
      if (errorName(err) !== 'NotAllowedError' && errorName(err) !== 'AbortError') {
        this.store.set({ notice: { key: 'call.screen.failed', tone: 'error' } });
      }
      return;
    }
    if (attempt !== this.attempt || !this.state.active) {
      stopStream(stream);
      return;
    }
    const track = stream.getVideoTracks()[0] ?? null;
    // The browser's own "Stop sharing" button ends the track.
    track?.addEventListener('ended', () => {
      if (this.screenStream === stream) this.stopScreen();
    });
    this.screenStream = stream;
    this.patchActive({ screen: true, localScreen: stream });
    void this.session?.setTrack('screen', track);
    this.sendMedia();
  }

  private stopScreen(): void {
    void this.session?.setTrack('screen', null);
    stopStream(this.screenStream);
    this.screenStream = null;
    this.patchActive({ screen: false, localScreen: null });
    this.sendMedia();
  }

  // ---- devices ----------------------------------------------------------

  async refreshDevices(): Promise<void> {
    try {
      const devices = await this.env.enumerateDevices();
      this.store.set({ devices });
    } catch {
      // keep the old list
    }
  }

  /** Picks a device (null: the system default) and switches to it in the active call. */
  async chooseDevice(kind: keyof DeviceChoice, deviceId: string | null): Promise<void> {
    this.choose(kind, deviceId);
    const active = this.state.active;
    if (!active) return;
    if (kind === 'mic' && active.mic !== 'pending') {
      await this.retryMic();
    } else if (kind === 'camera' && active.camera) {
      const attempt = this.attempt;
      let stream: MediaStream;
      try {
        stream = await this.env.getUserMedia({ video: this.videoConstraints(), audio: false });
      } catch {
        this.store.set({ notice: { key: 'call.camera.failed', tone: 'error' } });
        return;
      }
      if (attempt !== this.attempt || !this.state.active?.camera) {
        stopStream(stream);
        return;
      }
      const old = this.cameraStream;
      this.cameraStream = stream;
      this.patchActive({ localCamera: stream });
      await this.session?.setTrack('cam', stream.getVideoTracks()[0] ?? null);
      stopStream(old);
    }
  }

  private choose(kind: keyof DeviceChoice, deviceId: string | null): void {
    const choice = { ...this.state.choice, [kind]: deviceId };
    this.store.set({ choice });
    try {
      localStorage.setItem(CHOICE_KEY, JSON.stringify(choice));
    } catch {
      // not persisted
    }
  }
}

/** "UDP 3478 or TCP 3478" (the default ports when the offer named none). */
export function portsText(ports: { udp: number[]; tcp: number[] }): string {
  const udp = ports.udp.length || ports.tcp.length ? ports.udp : [3478];
  const tcp = ports.udp.length || ports.tcp.length ? ports.tcp : [3478];
  const list = (xs: number[]) => xs.join(', ');
  if (udp.length && tcp.length) return t('call.ports.both', { udp: list(udp), tcp: list(tcp) });
  if (tcp.length) return t('call.ports.tcp', { tcp: list(tcp) });
  return t('call.ports.udp', { udp: list(udp) });
}

function loadChoice(): DeviceChoice {
  const none: DeviceChoice = { mic: null, speaker: null, camera: null };
  try {
    const raw = typeof localStorage !== 'undefined' ? localStorage.getItem(CHOICE_KEY) : null;
    if (!raw) return none;
    const v = JSON.parse(raw) as Partial<DeviceChoice>;
    const str = (x: unknown) => (typeof x === 'string' && x !== '' ? x : null);
    return { mic: str(v.mic), speaker: str(v.speaker), camera: str(v.camera) };
  } catch {
    return none;
  }
}

/** The real browser. */
export function browserEnv(): MediaEnv {
  const media = () => (typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined);
  const unsupported = () => Promise.reject(new DOMException('media devices are not available', 'NotSupportedError'));
  return {
    getUserMedia: (c) => media()?.getUserMedia?.(c) ?? unsupported(),
    getDisplayMedia: (c) => media()?.getDisplayMedia?.(c) ?? unsupported(),
    enumerateDevices: () => media()?.enumerateDevices?.() ?? Promise.resolve([]),
    createPeerConnection: () => new RTCPeerConnection({ iceServers: [] }),
    ring: startRingtone,
    listCalls: () => callsApi.list(),
    notify: (title, body, onClick) => {
      if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
      if (document.visibilityState === 'visible' && document.hasFocus()) return;
      try {
        const n = new Notification(title, { body, tag: 'outpost-call' });
        n.onclick = () => {
          window.focus();
          onClick();
          n.close();
        };
      } catch {
        // Some browsers only allow notifications from a service worker.
      }
    },
    confirm: (q) => window.confirm(q),
    canShareScreen: typeof navigator !== 'undefined' && typeof navigator.mediaDevices?.getDisplayMedia === 'function',
  };
}
