// The chat client: state of channels, messages, threads, people; the
// WebSocket with resume, reconnect and the offline outbox; the actions the
// views call.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import {
  ApiError,
  NetworkError,
  api,
  chatApi,
  messagesApi,
  parseErrorDetail,
  type Channel,
  type ChannelInfo,
  type FileView,
  type Message,
  type NotifyLevel,
  type Person,
  type Preferences,
  type Presence,
  type QuoteView,
  type Receipt,
  type User,
} from '../api';
import { displayNameWithSite } from '../links';
import { browserTimeZone } from '../timezone';
import { playChime } from './chime';
import {
  applyRead,
  backoffDelay,
  channelTitle,
  compareMessages,
  countIncoming,
  isDirect,
  isWebhookMessage,
  mergeMessages,
  ResumePosition,
} from './logic';
import { conversationKey, messageSummary } from './files';
import { refreshQuotes } from './messages';
import { plainText } from './markdown';
import { mentionsMe, shouldNotify } from './notify';
import { isPermanentError, Outbox, type OutboxItem } from './outbox';
import { applyReceipt } from './receipts';
import { Store } from './store';
import { Uploads, type UploadMeta } from './uploads';
import { outboxKey, positionKey, userStorage } from './userData';

export type Connection = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface History {
  items: Message[];
  /** More messages exist before the first loaded one. */
  hasOlder: boolean;
  /** More messages exist after the last loaded one (after a jump into the past). */
  hasNewer: boolean;
  loading: 'initial' | 'older' | 'newer' | null;
  error: string | null;
}

export interface Thread {
  /** The root, then the replies in order. */
  items: Message[];
  loading: boolean;
  error: string | null;
}

export interface Typing {
  channel_id: number;
  user_id: number;
  thread_root: number | null;
  until: number;
}

export interface ChatState {
  connection: Connection;
  /** Channels loaded at least once. */
  ready: boolean;
  channels: ReadonlyMap<number, Channel>;
  people: ReadonlyMap<number, Person>;
  histories: ReadonlyMap<number, History>;
  threads: ReadonlyMap<number, Thread>;
  typing: readonly Typing[];
  outbox: readonly OutboxItem[];
  /** Bumped on every resync so views reload what they show. */
  epoch: number;
  notifications: NotificationPermission | 'unsupported';
  /** The signed-in user's preferences (null until loaded, or from a server without them). */
  preferences: Preferences | null;
  /** How far the others have read, for the direct conversations opened (read receipts). */
  receipts: ReadonlyMap<number, readonly Receipt[]>;
  /** Ids of the messages this user saved (null until loaded). */
  saved: ReadonlySet<number> | null;
  /**
   * Something shown came from the device's saved copy (`offline.ts`): the server could not be
   * reached. Cleared when the server answers again, which replaces it.
   */
  cached: boolean;
  /**
   * Until when what is shown matched the server (ms): the saved copy's time while it is shown,
   * else when the live connection was lost; null while that is not known.
   */
  syncedAt: number | null;
}

/** How a message is sent besides its text and files. */
export interface SendOptions {
  /** The message of the same conversation it answers. */
  quote?: QuoteView | null;
  /** A thread reply also listed in the channel. */
  alsoInChannel?: boolean;
}

export const PAGE = 50;

type Frame = Record<string, unknown> & { type: string };

interface PendingRequest {
  resolve: (frame: Frame) => void;
  reject: (err: ApiError) => void;
}

export class ChatClient {
  readonly store: Store<ChatState>;
  readonly outbox: Outbox;
  /** Files being uploaded for the next message of each conversation. */
  readonly uploads = new Uploads();
  private readonly pos: ResumePosition;
  private ws: WebSocket | null = null;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private reqSeq = 0;
  private pending = new Map<string, PendingRequest>();
  private sendReqs = new Map<string, string>();
  private snapshotLoaded = false;
  /** Histories shown from the saved copy: replaced by the server's once it answers. */
  private savedShown = new Set<number>();
  /**
   * The latest first-page load of each history (`loadLatest`, `loadAround`): only its answer
   * is applied, so an earlier request that answers late cannot bring back an older page.
   */
  private historyLoads = new Map<number, number>();
  private historyLoadSeq = 0;
  /**
   * Messages that arrived (ack, `message.new`) while a history's first page was loading: the
   * server may have read that page before storing them, so they are added to it when it comes.
   */
  private arrivedWhileLoading = new Map<number, Message[]>();
  /** Reads a conversation's saved messages (set by the offline copy, `offline.ts`). */
  savedHistory: ((channelId: number) => Promise<Message[] | null>) | null = null;
  private loadingSnapshot = false;
  private buffered: Frame[] = [];
  private live = false;
  private stopped = false;
  private typingSent = new Map<string, number>();
  private typingTimer: ReturnType<typeof setInterval> | null = null;
  private refreshChannelsTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshPeopleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Accounts the people list was reloaded for once (one the server does not list stays unknown). */
  private peopleAskedFor = new Set<number>();
  /** The channel on screen (read state moves while it is visible). */
  current: number | null = null;
  onSignedOut: () => void = () => {};
  /** A desktop notification was clicked: show the conversation at that message. */
  onNotificationClick: (channelId: number, message: Message | null) => void = () => {};
  /** The server says how the signed-in user looks now (name, photo, status). */
  onSelfUpdated: (person: Person) => void = () => {};
  /** The preferences loaded or changed (the app applies the language). */
  onPreferences: (prefs: Preferences) => void = () => {};
  /** `user.updated` frames received while the people list was loading, applied after it. */
  private peopleWhileLoading: Person[] = [];
  private cleanup: (() => void)[] = [];
  /** Other modules' interest in the socket (calls): every frame that answers no request, and closes. */
  private frameListeners = new Set<(frame: Frame) => void>();
  private closeListeners = new Set<(code: number) => void>();

  constructor(
    readonly me: User,
    private readonly wsUrl: () => string = defaultWsUrl,
  ) {
    const store = userStorage(me.id);
    this.outbox = new Outbox(store, outboxKey(me.id));
    this.pos = new ResumePosition(store, positionKey(me.id));
    this.store = new Store<ChatState>({
      connection: 'connecting',
      ready: false,
      channels: new Map(),
      people: new Map(),
      histories: new Map(),
      threads: new Map(),
      typing: [],
      outbox: this.outbox.all(),
      epoch: 0,
      notifications: typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
      preferences: null,
      receipts: new Map(),
      saved: null,
      cached: false,
      syncedAt: null,
    });
    // A recorded voice message is sent by itself as soon as its upload is complete.
    this.uploads.store.subscribe(() => this.sendFinishedVoice());
    this.outbox.subscribe(() => this.store.set({ outbox: this.outbox.all() }));
    // Who is on screen changes with the channels, the open channel and its history.
    let last: [unknown, unknown] = [null, null];
    this.store.subscribe(() => {
      const s = this.store.get();
      if (s.channels !== last[0] || s.histories !== last[1]) {
        last = [s.channels, s.histories];
        if (this.live) this.schedulePresence();
      }
    });
  }

  get state(): ChatState {
    return this.store.get();
  }

  // ---- lifecycle --------------------------------------------------------

  start(): void {
    this.stopped = false;
    this.connect();
    const onVisible = () => {
      this.sendFrame({ type: 'presence', status: document.visibilityState === 'visible' ? 'online' : 'away' });
      this.markCurrentRead();
    };
    const onOnline = () => {
      if (!this.ws) this.reconnectNow();
    };
    const onStorage = (e: StorageEvent) => {
      if (e.key === outboxKey(this.me.id)) this.outbox.reload();
    };
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('focus', onVisible);
    window.addEventListener('online', onOnline);
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('storage', onStorage);
    this.cleanup.push(() => {
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('focus', onVisible);
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', this.onOffline);
      window.removeEventListener('storage', onStorage);
    });
    this.typingTimer = setInterval(() => {
      const now = Date.now();
      const typing = this.state.typing;
      if (typing.some((t) => t.until <= now)) this.store.set({ typing: typing.filter((t) => t.until > now) });
    }, 1000);
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.cleanup) c();
    this.cleanup = [];
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.typingTimer) clearInterval(this.typingTimer);
    if (this.refreshChannelsTimer) clearTimeout(this.refreshChannelsTimer);
    if (this.refreshPeopleTimer) clearTimeout(this.refreshPeopleTimer);
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.uploads.cancelAll();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }

  private onOffline = () => {
    this.noteSyncEnd();
    this.store.set({ connection: 'offline' });
  };

  /** The live connection ends: what is shown matched the server until now. */
  private noteSyncEnd(): void {
    if (this.live && this.state.connection === 'connected' && !this.state.cached) this.store.set({ syncedAt: Date.now() });
  }

  private connect(): void {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.pos.url(this.wsUrl()));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.live = false;
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let frame: Frame;
      try {
        frame = JSON.parse(String(ev.data)) as Frame;
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.noteSyncEnd();
      this.ws = null;
      this.live = false;
      this.failPending();
      this.outbox.resetSending();
      for (const l of [...this.closeListeners]) l(ev.code);
      if (ev.code === 4001) {
        this.stop();
        this.onSignedOut();
        return;
      }
      this.scheduleReconnect(ev.code === 1012 ? 300 : undefined);
    };
  }

  private scheduleReconnect(minDelay?: number): void {
    if (this.stopped) return;
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    this.store.set({ connection: offline || this.attempt >= 4 ? 'offline' : 'reconnecting' });
    const delay = Math.max(minDelay ?? 0, backoffDelay(this.attempt));
    this.attempt++;
    if (this.attempt % 3 === 0) this.checkSession();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  /** Reconnect at once (e.g. the user pressed "Reconnect now"). */
  reconnectNow(): void {
    if (this.ws && this.ws.readyState <= 1) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.attempt = 0;
    this.store.set({ connection: 'reconnecting' });
    this.connect();
  }

  /** The socket cannot tell why an upgrade failed: ask the API whether the session still exists. */
  private checkSession(): void {
    chatApi.people().catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 401) {
        this.stop();
        this.onSignedOut();
      }
    });
  }

  private failPending(): void {
    const err = new ApiError(0, 'disconnected', 'the connection closed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.sendReqs.clear();
  }

  /** Listens to every frame that is not the answer to a request; returns the unsubscribe function. */
  addFrameListener(listener: (frame: Frame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** Listens to the socket closing (with its close code); returns the unsubscribe function. */
  addCloseListener(listener: (code: number) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Sends a frame that expects no answer; false when not connected. */
  sendFrame(frame: Record<string, unknown>): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1 || !this.live) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  /** Sends a request frame and resolves with its answer (`ack`, `pong`, …). */
  request(frame: Record<string, unknown>): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const req = `r${++this.reqSeq}`;
      if (!this.sendFrame({ ...frame, req })) {
        reject(new ApiError(0, 'disconnected', 'not connected'));
        return;
      }
      this.pending.set(req, { resolve, reject });
    });
  }

  // ---- incoming frames --------------------------------------------------

  private onFrame(frame: Frame): void {
    const req = typeof frame.req === 'string' ? frame.req : null;
    if (req && this.pending.has(req)) {
      const p = this.pending.get(req)!;
      this.pending.delete(req);
      if (frame.type === 'error') {
        // A frame has no HTTP status (0); its field and params translate it like an HTTP error.
        const { field, params } = parseErrorDetail(frame);
        p.reject(new ApiError(0, String(frame.code ?? 'error'), String(frame.message ?? ''), null, field, params));
      } else {
        p.resolve(frame);
      }
      return;
    }
    if (frame.type !== 'ready') this.notifyFrame(frame);
    switch (frame.type) {
      case 'ready':
        this.onReady(frame);
        this.notifyFrame(frame); // after the connection counts as live
        return;
      case 'event':
        if (!this.snapshotLoaded || this.loadingSnapshot) {
          this.buffered.push(frame);
        } else {
          this.applyEvent(frame);
        }
        if (typeof frame.pos === 'number') this.pos.advance(frame.pos);
        return;
      case 'typing':
        this.onTyping(frame);
        return;
      case 'presence':
        this.setPresence([{ user_id: Number(frame.user_id), status: frame.status as Presence }]);
        return;
      case 'presence_state':
        this.setPresence((frame.users as { user_id: number; status: Presence }[]) ?? []);
        return;
      case 'user.updated':
        if (frame.person && typeof frame.person === 'object') this.onPersonUpdated(frame.person as Person);
        return;
    }
  }

  private notifyFrame(frame: Frame): void {
    for (const l of [...this.frameListeners]) l(frame);
  }

  private onReady(frame: Frame): void {
    this.attempt = 0;
    this.live = true;
    const resync = frame.resync === true;
    if (typeof frame.position === 'number') this.pos.set(frame.position);
    this.store.set({ connection: 'connected' });
    this.sendFrame({ type: 'presence', status: document.visibilityState === 'hidden' ? 'away' : 'online' });
    if (!this.snapshotLoaded || resync) {
      void this.loadSnapshot(resync);
    } else {
      this.dropSavedHistories();
      this.afterSync();
    }
  }

  private afterSync(): void {
    this.subscribePresence(true);
    this.flushOutbox();
    this.markCurrentRead();
  }

  /** Loads channels and people over HTTP; events arriving meanwhile are applied afterwards. */
  private async loadSnapshot(resync: boolean): Promise<void> {
    if (this.loadingSnapshot) return;
    this.loadingSnapshot = true;
    this.peopleWhileLoading = [];
    // Preferences are not needed to show the conversations: a failure leaves the last ones.
    void api.preferences().then(
      (prefs) => this.setPreferences(prefs),
      () => {},
    );
    void this.loadSaved();
    try {
      const [channels, people] = await Promise.all([chatApi.channels(), chatApi.people()]);
      const hadSaved = this.savedShown.size > 0;
      const histories = resync ? new Map<number, History>() : this.withoutSaved(this.state.histories);
      const threads = resync ? new Map<number, Thread>() : this.state.threads;
      this.store.set((s) => ({
        ready: true,
        channels: new Map(channels.map((c) => [c.id, c])),
        people: new Map(people.map((p) => [p.id, p])),
        histories,
        threads,
        receipts: resync ? new Map() : s.receipts,
        epoch: resync || hadSaved ? s.epoch + 1 : s.epoch,
        cached: false,
      }));
      this.snapshotLoaded = true;
    } catch (err) {
      this.loadingSnapshot = false;
      if (err instanceof ApiError && err.status === 401) {
        this.stop();
        this.onSignedOut();
        return;
      }
      // Try again by reconnecting.
      this.ws?.close(4000);
      return;
    }
    this.loadingSnapshot = false;
    // Changes to people announced while the list loaded may be newer than it.
    const later = this.peopleWhileLoading;
    this.peopleWhileLoading = [];
    for (const p of later) this.onPersonUpdated(p);
    const buffered = this.buffered;
    this.buffered = [];
    const wasLive = this.live;
    this.live = false; // no notifications for what happened before
    for (const f of buffered) this.applyEvent(f);
    this.live = wasLive;
    if (this.current !== null && !this.state.histories.has(this.current)) void this.loadLatest(this.current);
    this.afterSync();
  }

  private applyEvent(frame: Frame): void {
    const event = frame.event as Record<string, unknown> | undefined;
    if (!event) return;
    switch (event.kind) {
      case 'message.new':
        this.onMessageNew(event.message as Message);
        break;
      case 'message.updated':
        this.onMessageUpdated(event.message as Message);
        break;
      case 'read':
        this.updateChannel(Number(event.channel_id), (c) => applyRead(c, Number(event.seq)));
        break;
      case 'member.joined': {
        const userId = Number(event.user_id);
        const channelId = Number(event.channel_id);
        this.notePerson(userId);
        if (userId === this.me.id) {
          if (!this.state.channels.has(channelId)) this.refreshChannel(channelId);
        }
        break;
      }
      case 'member.left': {
        const userId = Number(event.user_id);
        const channelId = Number(event.channel_id);
        if (userId === this.me.id) {
          this.store.set((s) => {
            const channels = new Map(s.channels);
            channels.delete(channelId);
            const histories = new Map(s.histories);
            histories.delete(channelId);
            return { channels, histories };
          });
        }
        break;
      }
      case 'channel.updated': {
        const info = event.channel as ChannelInfo;
        this.updateChannel(info.id, (c) => ({ ...c, ...info, last_seq: Math.max(c.last_seq, info.last_seq) }));
        break;
      }
      case 'receipt': {
        const channelId = Number(event.channel_id);
        const receipt: Receipt = {
          user_id: Number(event.user_id),
          seq: Number(event.seq),
          read_at: typeof event.read_at === 'number' ? event.read_at : null,
        };
        if (receipt.user_id === this.me.id || !Number.isFinite(channelId)) break;
        const list = this.state.receipts.get(channelId) ?? [];
        const next = applyReceipt(list, receipt);
        if (next !== list) {
          const receipts = new Map(this.state.receipts);
          receipts.set(channelId, next);
          this.store.set({ receipts });
        }
        break;
      }
    }
  }

  /** Someone's name, photo, status or account changed (or a new person appeared). */
  private onPersonUpdated(person: Person): void {
    if (typeof person.id !== 'number') return;
    if (this.loadingSnapshot) this.peopleWhileLoading.push(person);
    const people = new Map(this.state.people);
    people.set(person.id, person);
    this.store.set({ people });
    if (person.id === this.me.id) this.onSelfUpdated(person);
  }

  private updateChannel(id: number, fn: (c: Channel) => Channel): void {
    const c = this.state.channels.get(id);
    if (!c) return;
    const next = fn(c);
    if (next === c) return;
    const channels = new Map(this.state.channels);
    channels.set(id, next);
    this.store.set({ channels });
  }

  private refreshChannel(id: number): void {
    chatApi.channel(id).then(
      (c) => {
        const channels = new Map(this.state.channels);
        channels.set(c.id, c);
        this.store.set({ channels });
      },
      () => {},
    );
  }

  private scheduleChannelsRefresh(): void {
    if (this.refreshChannelsTimer) return;
    this.refreshChannelsTimer = setTimeout(() => {
      this.refreshChannelsTimer = null;
      chatApi.channels().then(
        (list) => this.store.set({ channels: new Map(list.map((c) => [c.id, c])) }),
        () => {},
      );
    }, 200);
  }

  /**
   * Someone not in the people list (an account made since it loaded, such as a new bot) wrote
   * or joined: reload the list, once per account, so their name and tags show.
   */
  private notePerson(id: number | null): void {
    if (id === null || id === this.me.id || !Number.isFinite(id) || !this.state.ready) return;
    if (this.state.people.has(id) || this.peopleAskedFor.has(id)) return;
    this.peopleAskedFor.add(id);
    if (this.refreshPeopleTimer) return;
    this.refreshPeopleTimer = setTimeout(() => {
      this.refreshPeopleTimer = null;
      chatApi.people().then(
        (list) => this.setPeople(list),
        () => {},
      );
    }, 200);
  }

  private onMessageNew(m: Message): void {
    this.outbox.confirm(m);
    this.insertMessage(m);
    this.notePerson(m.author_id);
    const channel = this.state.channels.get(m.channel_id);
    if (!channel) {
      // A conversation someone just opened with us.
      this.scheduleChannelsRefresh();
      return;
    }
    const mentioned =
      m.author_id !== this.me.id && mentionsMe(m.body, this.me.username, this.state.preferences?.keywords ?? []);
    this.updateChannel(m.channel_id, (c) => countIncoming(c, m, this.me.id, mentioned));
    // Someone stopped typing: they sent it.
    if (this.state.typing.some((t) => t.user_id === m.author_id && t.channel_id === m.channel_id)) {
      this.store.set({
        typing: this.state.typing.filter((t) => !(t.user_id === m.author_id && t.channel_id === m.channel_id)),
      });
    }
    if (m.channel_id === this.current) this.markCurrentRead();
    if (
      this.live &&
      m.kind === 'text' &&
      shouldNotify({
        now: Date.now(),
        prefs: this.state.preferences,
        browserZone: browserTimeZone(),
        channel,
        own: m.author_id === this.me.id,
        mentioned,
      })
    ) {
      this.notify(channel, m);
    }
  }

  /** Puts a message (from an ack, an event or a page of history) where it belongs. */
  private insertMessage(m: Message): void {
    if (m.thread_root !== null) {
      const thread = this.state.threads.get(m.thread_root);
      if (thread) {
        const threads = new Map(this.state.threads);
        threads.set(m.thread_root, { ...thread, items: mergeMessages(thread.items, [m]) });
        this.store.set({ threads });
      }
      // A reply also sent to the channel is listed there too.
      if (!m.also_in_channel) return;
    }
    const h = this.state.histories.get(m.channel_id);
    if (!h) return;
    if (h.loading === 'initial') {
      const arrived = this.arrivedWhileLoading.get(m.channel_id) ?? [];
      arrived.push(m);
      this.arrivedWhileLoading.set(m.channel_id, arrived);
      return;
    }
    const items = withArrived(h, [m]);
    if (items === h.items) return;
    const histories = new Map(this.state.histories);
    histories.set(m.channel_id, { ...h, items });
    this.store.set({ histories });
  }

  private onMessageUpdated(m: Message): void {
    const h = this.state.histories.get(m.channel_id);
    const patch: Partial<ChatState> = {};
    // The message itself, and wherever it is quoted (a deleted message shows as deleted there).
    const apply = (items: readonly Message[]): readonly Message[] =>
      refreshQuotes(
        items.some((x) => x.id === m.id) ? items.map((x) => (x.id === m.id ? m : x)) : items,
        m,
      );
    if (h) {
      const items = apply(h.items);
      if (items !== h.items) {
        const histories = new Map(this.state.histories);
        histories.set(m.channel_id, { ...h, items: items as Message[] });
        patch.histories = histories;
      }
    }
    let threads: Map<number, Thread> | null = null;
    for (const [root, t] of this.state.threads) {
      const items = apply(t.items);
      if (items !== t.items) {
        threads ??= new Map(this.state.threads);
        threads.set(root, { ...t, items: items as Message[] });
      }
    }
    if (threads) patch.threads = threads;
    if (patch.histories || patch.threads) this.store.set(patch);
  }

  private onTyping(frame: Frame): void {
    const userId = Number(frame.user_id);
    if (userId === this.me.id) return;
    const entry: Typing = {
      channel_id: Number(frame.channel_id),
      user_id: userId,
      thread_root: typeof frame.thread_root === 'number' ? frame.thread_root : null,
      until: Date.now() + 5000,
    };
    const rest = this.state.typing.filter(
      (t) => !(t.user_id === entry.user_id && t.channel_id === entry.channel_id && t.thread_root === entry.thread_root),
    );
    this.store.set({ typing: [...rest, entry] });
  }

  private setPresence(list: { user_id: number; status: Presence }[]): void {
    if (!list.length) return;
    const people = new Map(this.state.people);
    let changed = false;
    for (const { user_id, status } of list) {
      const p = people.get(user_id);
      if (p && p.presence !== status) {
        people.set(user_id, { ...p, presence: status });
        changed = true;
      }
    }
    if (changed) this.store.set({ people });
  }

  /**
   * Presence is watched for the people on screen: everyone in the direct
   * conversations (sidebar dots), the authors in the open channel, and while
   * a people list is open (pickers) everyone. The server replaces the set on
   * each `presence_sub`, so it is re-sent (debounced) when it changes.
   */
  private watchingAll = 0;
  private presenceKey = '';
  private presenceTimer: ReturnType<typeof setTimeout> | null = null;

  watchAllPresence(on: boolean): void {
    this.watchingAll += on ? 1 : -1;
    this.schedulePresence();
  }

  private schedulePresence(): void {
    if (this.presenceTimer) return;
    this.presenceTimer = setTimeout(() => {
      this.presenceTimer = null;
      this.subscribePresence();
    }, 200);
  }

  private visiblePeople(): number[] {
    const s = this.state;
    const ids = new Set<number>();
    if (this.watchingAll > 0) for (const id of s.people.keys()) ids.add(id);
    for (const c of s.channels.values()) if (isDirect(c)) for (const id of c.member_ids) ids.add(id);
    const h = this.current !== null ? s.histories.get(this.current) : undefined;
    if (h) for (const m of h.items) if (m.author_id !== null) ids.add(m.author_id);
    ids.delete(this.me.id);
    return [...ids].sort((a, b) => a - b).slice(0, 1000);
  }

  private subscribePresence(force = false): void {
    if (!this.live) return;
    const ids = this.visiblePeople();
    const key = ids.join(',');
    if (!force && key === this.presenceKey) return;
    this.presenceKey = key;
    this.sendFrame({ type: 'presence_sub', user_ids: ids });
  }

  // ---- outbox -----------------------------------------------------------

  /**
   * Queues a message and sends it as soon as the connection allows. `files`
   * are finished uploads (the composer waits for them before sending).
   */
  send(
    channelId: number,
    body: string,
    threadRoot: number | null = null,
    files: readonly FileView[] = [],
    options: SendOptions = {},
  ): OutboxItem {
    const item = this.outbox.add({
      channel_id: channelId,
      body,
      thread_root: threadRoot,
      files,
      quote: options.quote ?? null,
      also_in_channel: options.alsoInChannel === true,
    });
    // The next keystroke starts a new "typing" (the others cleared it on this message).
    this.typingSent.delete(`${channelId}:${threadRoot ?? ''}`);
    this.flushOutbox();
    return item;
  }

  retrySend(clientId: string): void {
    this.outbox.retry(clientId);
    this.flushOutbox();
  }

  discardSend(clientId: string): void {
    this.outbox.remove(clientId);
  }

  private flushOutbox(): void {
    if (!this.live || !this.snapshotLoaded) return;
    let inFlight = [...this.outbox.all()].filter((i) => i.state === 'sending').length;
    for (const item of this.outbox.sendable()) {
      if (inFlight >= 32) break;
      inFlight++;
      this.outbox.markSending(item.client_id);
      const frame: Record<string, unknown> = {
        type: 'send',
        channel_id: item.channel_id,
        body: item.body,
        client_id: item.client_id,
      };
      if (item.thread_root !== null) frame.thread_root = item.thread_root;
      if (item.attachments?.length) frame.attachments = item.attachments;
      if (item.quote_of !== undefined) frame.quote_of = item.quote_of;
      if (item.also_in_channel && item.thread_root !== null) frame.also_in_channel = true;
      this.request(frame).then(
        (ack) => {
          const m = ack.message as Message | undefined;
          this.outbox.confirm({ client_id: item.client_id });
          if (m) this.acceptOwn(m);
          this.flushOutbox();
        },
        (err: ApiError) => {
          if (err.code === 'disconnected') return; // back to pending on close
          if (isPermanentError(err.code)) {
            // The code, field and params, not the English sentence: the item is described in
            // whatever language the UI has when it is shown.
            this.outbox.markFailed(item.client_id, err.code, { field: err.field, params: err.params });
          } else {
            this.outbox.retry(item.client_id);
            this.scheduleRetry();
          }
        },
      );
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flushOutbox();
    }, 2000);
  }

  /** Our own message, acknowledged: show it and count it as read. */
  private acceptOwn(m: Message): void {
    this.insertMessage(m);
    this.updateChannel(m.channel_id, (c) => countIncoming(c, m, this.me.id, false));
  }

  // ---- actions ----------------------------------------------------------

  setHistory(channelId: number, patch: Partial<History>): void {
    const histories = new Map(this.state.histories);
    const h = histories.get(channelId) ?? {
      items: [],
      hasOlder: false,
      hasNewer: false,
      loading: null,
      error: null,
    };
    histories.set(channelId, { ...h, ...patch });
    this.store.set({ histories });
  }

  // ---- the saved copy, while the server cannot be reached ---------------

  /**
   * Shows what the device saved because the server could not be reached at start: the
   * channels, people and preferences (histories are read as conversations open). The server's
   * first answer replaces all of it.
   */
  seed(saved: {
    channels: readonly Channel[];
    people: readonly Person[];
    preferences: Preferences | null;
    savedAt?: number | null;
  }): void {
    this.store.set((s) => ({
      ready: true,
      cached: true,
      syncedAt: saved.savedAt ?? null,
      channels: new Map(saved.channels.map((c) => [c.id, c])),
      people: new Map(saved.people.map((p) => [p.id, p])),
      preferences: saved.preferences ?? s.preferences,
    }));
  }

  /**
   * Shows a conversation's saved messages instead of the server's, for the first-page load
   * `load`; false when none are saved, or when the server answers again meanwhile (its page is
   * wanted then, not the copy).
   */
  private async showSaved(channelId: number, load: number): Promise<boolean> {
    const items = this.savedHistory ? await this.savedHistory(channelId).catch(() => null) : null;
    // A newer load of this history decides what it shows.
    if (!this.isLatestLoad(channelId, load)) return true;
    if (!items?.length || this.live) return false;
    this.savedShown.add(channelId);
    // Older messages are not saved; asking the server for them would only fail.
    this.finishLoad(channelId, load, { items, hasOlder: false, hasNewer: false });
    if (!this.state.cached) this.store.set({ cached: true });
    return true;
  }

  private withoutSaved(histories: ReadonlyMap<number, History>): Map<number, History> {
    const next = new Map(histories);
    for (const id of this.savedShown) next.delete(id);
    this.savedShown.clear();
    return next;
  }

  /** The server is back: saved histories give way to its own (views reload on the new epoch). */
  private dropSavedHistories(): void {
    if (!this.savedShown.size && !this.state.cached) return;
    const histories = this.withoutSaved(this.state.histories);
    this.store.set((s) => ({ histories, cached: false, epoch: s.epoch + 1 }));
  }

  /** Starts loading a history's first page (replacing what it shows); returns the load's token. */
  private beginLoad(channelId: number, patch: Partial<History>): number {
    const load = ++this.historyLoadSeq;
    this.historyLoads.set(channelId, load);
    // Whatever arrived before this request is in its answer.
    this.arrivedWhileLoading.delete(channelId);
    this.setHistory(channelId, { ...patch, loading: 'initial', error: null, items: [] });
    return load;
  }

  private isLatestLoad(channelId: number, load: number): boolean {
    return this.historyLoads.get(channelId) === load && this.state.histories.has(channelId);
  }

  /**
   * Shows the page a first-page load answered, with the messages that arrived meanwhile; nothing
   * when a newer load superseded it or the history was dropped.
   */
  private finishLoad(channelId: number, load: number, page: Pick<History, 'items' | 'hasOlder' | 'hasNewer'>): void {
    if (!this.isLatestLoad(channelId, load)) return;
    const inPage = new Set(page.items.map((m) => m.id));
    // The page is what the server read: it wins over the copy of a message that arrived.
    const arrived = (this.arrivedWhileLoading.get(channelId) ?? []).filter((m) => !inPage.has(m.id));
    this.arrivedWhileLoading.delete(channelId);
    this.setHistory(channelId, { ...page, items: withArrived(page, arrived), loading: null, error: null });
  }

  private failLoad(channelId: number, load: number, err: unknown): void {
    if (!this.isLatestLoad(channelId, load)) return;
    this.arrivedWhileLoading.delete(channelId);
    this.setHistory(channelId, { loading: null, error: errorCode(err) });
  }

  async loadLatest(channelId: number): Promise<void> {
    const load = this.beginLoad(channelId, { hasNewer: false });
    // Reading the saved copy: the server did not answer a moment ago, so it comes first.
    if (this.state.cached && !this.live && (await this.showSaved(channelId, load))) return;
    try {
      const items = await chatApi.messages(channelId, { limit: PAGE });
      this.finishLoad(channelId, load, { items, hasOlder: items.length >= PAGE, hasNewer: false });
    } catch (err) {
      if (err instanceof NetworkError && (await this.showSaved(channelId, load))) return;
      this.failLoad(channelId, load, err);
      throw err;
    }
  }

  async loadOlder(channelId: number): Promise<void> {
    const h = this.state.histories.get(channelId);
    if (!h || h.loading || !h.hasOlder || !h.items.length) return;
    const load = this.historyLoads.get(channelId);
    this.setHistory(channelId, { loading: 'older' });
    try {
      const items = await chatApi.messages(channelId, { before: h.items[0]!.seq, limit: PAGE });
      // Reloaded or dropped meanwhile: this page may not fit what is shown now.
      const cur = this.state.histories.get(channelId);
      if (!cur || this.historyLoads.get(channelId) !== load) return;
      this.setHistory(channelId, {
        items: mergeMessages(cur.items, items),
        hasOlder: items.length >= PAGE,
        loading: null,
      });
    } catch (err) {
      if (this.state.histories.has(channelId) && this.historyLoads.get(channelId) === load) {
        this.setHistory(channelId, { loading: null, error: errorCode(err) });
      }
    }
  }

  async loadNewer(channelId: number): Promise<void> {
    const h = this.state.histories.get(channelId);
    if (!h || h.loading || !h.hasNewer || !h.items.length) return;
    const load = this.historyLoads.get(channelId);
    this.setHistory(channelId, { loading: 'newer' });
    try {
      const items = await chatApi.messages(channelId, { after: h.items[h.items.length - 1]!.seq, limit: PAGE });
      const cur = this.state.histories.get(channelId);
      if (!cur || this.historyLoads.get(channelId) !== load) return;
      const merged = mergeMessages(cur.items, items);
      // `after` pages by arrival (seq): a full page of messages already shown (late ones from a
      // linked site) would bring the same page again and again; the latest page is one jump away.
      const known = new Set(cur.items.map((m) => m.id));
      const progressed = items.some((m) => !known.has(m.id));
      this.setHistory(channelId, {
        items: merged,
        hasNewer: items.length >= PAGE && progressed,
        loading: null,
      });
    } catch (err) {
      if (this.state.histories.has(channelId) && this.historyLoads.get(channelId) === load) {
        this.setHistory(channelId, { loading: null, error: errorCode(err) });
      }
    }
  }

  /** Loads the history around `seq` (for a search result or a link). */
  async loadAround(channelId: number, seq: number): Promise<void> {
    const h = this.state.histories.get(channelId);
    if (
      h &&
      !h.loading &&
      h.items.length &&
      (h.items.some((m) => m.seq === seq) || (h.items[0]!.seq <= seq && h.items[h.items.length - 1]!.seq >= seq))
    ) {
      return;
    }
    const load = this.beginLoad(channelId, {});
    if (this.state.cached && !this.live && (await this.showSaved(channelId, load))) return;
    try {
      const after = Math.max(0, seq - 25);
      const items = await chatApi.messages(channelId, { after, limit: PAGE });
      const last = this.state.channels.get(channelId)?.last_seq ?? 0;
      const lastLoaded = items.length ? items[items.length - 1]!.seq : after;
      this.finishLoad(channelId, load, {
        items,
        hasOlder: after > 0,
        hasNewer: items.length >= PAGE && lastLoaded < last,
      });
    } catch (err) {
      if (err instanceof NetworkError && (await this.showSaved(channelId, load))) return;
      this.failLoad(channelId, load, err);
    }
  }

  async openThread(rootId: number): Promise<void> {
    const threads = new Map(this.state.threads);
    threads.set(rootId, { items: this.state.threads.get(rootId)?.items ?? [], loading: true, error: null });
    this.store.set({ threads });
    try {
      const items = await chatApi.thread(rootId);
      const next = new Map(this.state.threads);
      const cur = next.get(rootId);
      next.set(rootId, { items: mergeMessages(cur?.items ?? [], items), loading: false, error: null });
      this.store.set({ threads: next });
    } catch (err) {
      const next = new Map(this.state.threads);
      next.set(rootId, { items: [], loading: false, error: errorCode(err) });
      this.store.set({ threads: next });
    }
  }

  closeThread(rootId: number): void {
    const threads = new Map(this.state.threads);
    threads.delete(rootId);
    this.store.set({ threads });
  }

  /** The channel on screen changed (null: none). */
  setCurrent(channelId: number | null): void {
    this.current = channelId;
    this.markCurrentRead();
    this.schedulePresence();
  }

  /** Marks the visible channel read up to its last message. */
  markCurrentRead(): void {
    const id = this.current;
    if (id === null || typeof document === 'undefined' || document.visibilityState === 'hidden') return;
    const c = this.state.channels.get(id);
    if (!c || c.last_seq <= c.last_read_seq) return;
    const h = this.state.histories.get(id);
    if (h?.hasNewer) return; // looking at the past
    this.updateChannel(id, (x) => applyRead(x, c.last_seq));
    if (!this.sendFrame({ type: 'read', channel_id: id, seq: c.last_seq })) {
      chatApi.markRead(id, c.last_seq).catch(() => {});
    }
  }

  /** Tells the others we are typing (at most every 2 s per conversation). */
  typing(channelId: number, threadRoot: number | null): void {
    const key = `${channelId}:${threadRoot ?? ''}`;
    const now = Date.now();
    if ((this.typingSent.get(key) ?? 0) > now - 2500) return;
    this.typingSent.set(key, now);
    const frame: Record<string, unknown> = { type: 'typing', channel_id: channelId };
    if (threadRoot !== null) frame.thread_root = threadRoot;
    this.sendFrame(frame);
  }

  /** Applies a message returned by an HTTP action (edit, delete, react, pin). */
  applyMessage(m: Message): void {
    this.onMessageUpdated(m);
  }

  addChannel(c: Channel): void {
    const channels = new Map(this.state.channels);
    channels.set(c.id, c);
    this.store.set({ channels });
  }

  removeChannel(id: number): void {
    const channels = new Map(this.state.channels);
    channels.delete(id);
    this.store.set({ channels });
  }

  setPeople(list: Person[]): void {
    this.store.set({ people: new Map(list.map((p) => [p.id, p])) });
  }

  // ---- saved messages, voice messages -------------------------------------

  /** Loads which messages this user saved (for the menu's Save / Remove from saved). */
  async loadSaved(): Promise<void> {
    try {
      const list = await messagesApi.saved();
      this.store.set({ saved: new Set(list.map((x) => x.message.id)) });
    } catch {
      // Shown as not saved; the saved list says why when opened.
    }
  }

  /** Saves a message or takes it off the saved list. */
  async setSaved(messageId: number, saved: boolean): Promise<void> {
    if (saved) await messagesApi.save(messageId);
    else await messagesApi.unsave(messageId);
    const next = new Set(this.state.saved ?? []);
    if (saved) next.add(messageId);
    else next.delete(messageId);
    this.store.set({ saved: next });
  }

  /** Voice recordings uploading, by upload key: where they go once uploaded. */
  private voiceSends = new Map<string, { channelId: number; threadRoot: number | null; options: SendOptions }>();

  /**
   * Uploads a recorded voice message like any file (resuming after a dropped connection,
   * the recording kept until it is complete) and sends it as a message of its own as soon as
   * it is uploaded. Returns the upload's key.
   */
  sendVoice(
    channelId: number,
    threadRoot: number | null,
    recording: { blob: Blob; name: string; mime: string; duration_ms: number; waveform: number[] },
    options: SendOptions = {},
  ): string | null {
    const file =
      typeof File !== 'undefined'
        ? new File([recording.blob], recording.name, { type: recording.mime })
        : Object.assign(recording.blob, { name: recording.name, lastModified: Date.now() });
    const meta: UploadMeta = { voice: true, duration_ms: recording.duration_ms, waveform: recording.waveform };
    const [key] = this.uploads.add(conversationKey(channelId, threadRoot), [file as File], meta);
    if (!key) return null;
    this.voiceSends.set(key, { channelId, threadRoot, options });
    return key;
  }

  private sendFinishedVoice(): void {
    if (!this.voiceSends.size) return;
    const items = this.uploads.items;
    for (const [key, target] of [...this.voiceSends]) {
      const u = items.find((x) => x.key === key);
      if (!u) {
        this.voiceSends.delete(key); // cancelled
        continue;
      }
      if (u.state !== 'done') continue;
      this.voiceSends.delete(key);
      const file = this.uploads.takeOne(key);
      if (file) this.send(target.channelId, '', target.threadRoot, [file], target.options);
    }
  }

  // ---- preferences, per-conversation notifications, read receipts -------

  /** Takes the preferences the server answered with (loaded, or after a change). */
  setPreferences(prefs: Preferences): void {
    const before = this.state.preferences;
    this.store.set({ preferences: prefs });
    if (!before || before.language !== prefs.language) this.onPreferences(prefs);
  }

  /** Sets how this member is notified of one conversation, and its mute. */
  async setNotifications(channelId: number, notify: NotifyLevel, mutedUntil: number | null): Promise<void> {
    await chatApi.setNotifications(channelId, { notify, muted_until: mutedUntil });
    this.updateChannel(channelId, (c) => ({ ...c, notify, muted_until: mutedUntil }));
  }

  /** Loads how far the others have read a direct conversation (live `receipt` events follow). */
  async loadReceipts(channelId: number): Promise<void> {
    try {
      const list = await chatApi.receipts(channelId);
      const receipts = new Map(this.state.receipts);
      receipts.set(
        channelId,
        list.filter((r) => r.user_id !== this.me.id),
      );
      this.store.set({ receipts });
    } catch {
      // Receipts are a nicety: none shown.
    }
  }

  /**
   * Whether a call ringing in a conversation should stay silent (no ringtone, no desktop
   * notification): a call counts as a mention, so only do-not-disturb and "nothing" silence it.
   */
  quietFor(channelId: number): boolean {
    const channel = this.state.channels.get(channelId);
    return !shouldNotify({
      now: Date.now(),
      prefs: this.state.preferences,
      browserZone: browserTimeZone(),
      channel: channel ?? { muted_until: null },
      own: false,
      mentioned: true,
    });
  }

  // ---- notifications ----------------------------------------------------

  async requestNotifications(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    const result = await Notification.requestPermission();
    this.store.set({ notifications: result });
  }

  private notify(channel: Channel, m: Message): void {
    if (document.visibilityState === 'visible' && document.hasFocus() && channel.id === this.current) return;
    playChime();
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const author = m.author_id !== null ? this.state.people.get(m.author_id) : undefined;
    const who = author ? displayNameWithSite(author) : isWebhookMessage(m) ? m.sender_name! : '';
    const where = isDirect(channel) ? who : `${who} · #${channelTitle(channel, this.me.id, this.state.people)}`;
    try {
      const text = m.body.trim() ? plainText(m.body) : messageSummary(m);
      const n = new Notification(where, { body: text.slice(0, 200), tag: `outpost-${channel.id}` });
      n.onclick = () => {
        window.focus();
        this.onNotificationClick(channel.id, m);
        n.close();
      };
    } catch {
      // Some browsers only allow notifications from a service worker.
    }
  }
}

/** The history's messages with `arrived` added where the loaded window is contiguous with them. */
function withArrived(h: Pick<History, 'items' | 'hasOlder' | 'hasNewer'>, arrived: readonly Message[]): Message[] {
  const first = h.items[0];
  const last = h.items[h.items.length - 1];
  // In conversation order: a message that arrived late from a linked site may belong before
  // the loaded window, though its seq is the newest.
  const fitting = arrived.filter(
    (m) =>
      !(first && compareMessages(m, first) < 0 && h.hasOlder) && !(last && compareMessages(m, last) > 0 && h.hasNewer),
  );
  return mergeMessages(h.items, fitting);
}

function errorCode(err: unknown): string {
  if (err instanceof ApiError) return err.code;
  return 'network';
}

function defaultWsUrl(): string {
  return `${location.protocol === 'http:' ? 'ws:' : 'wss:'}//${location.host}/api/v1/ws`;
}

export const ChatContext = createContext<ChatClient | null>(null);

export function useChat(): ChatClient {
  const c = useContext(ChatContext);
  if (!c) throw new Error('useChat() outside of <ChatContext.Provider>');
  return c;
}
