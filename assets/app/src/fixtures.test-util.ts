// Fixtures for the unit tests: the server's objects with every field filled in, a storage in
// memory, a chat client, and the element a component test renders into.
//
// Only tests import this file, so it is not in the bundle; tsconfig's `src` has it type-checked,
// and the i18n string sweep leaves out `*.test-util.ts` like the tests themselves. Each factory
// takes the fields a test cares about as overrides; a test that needs other defaults wraps it.

import { h, render, type ComponentChildren } from 'preact';
import { act } from 'preact/test-utils';
import type { Channel, FileView, Message, Person, User } from './api';
import { CallsContext } from './calls/context';
import type { CallManager } from './calls/manager';
import { ChatClient, ChatContext } from './chat/client';
import { SessionContext } from './session';

/** A signed-in user: alice (id 1), not an administrator. */
export function user(overrides: Partial<User> = {}): User {
  return { id: 1, username: 'alice', display_name: 'Alice', is_admin: false, disabled: false, created_at: '', ...overrides };
}

/** Someone in the directory: bob (id 2), online. */
export function person(overrides: Partial<Person> = {}): Person {
  return { id: 2, username: 'bob', display_name: 'Bob', presence: 'online', ...overrides };
}

/** A public channel #general (id 4) of which the user is a member, nothing in it yet. */
export function channel(overrides: Partial<Channel> = {}): Channel {
  return {
    id: 4,
    kind: 'public',
    name: 'general',
    topic: '',
    archived: false,
    last_seq: 0,
    created_at: 0,
    role: 'member',
    last_read_seq: 0,
    unread: 0,
    mentions: 0,
    member_ids: [],
    ...overrides,
  };
}

/** A text message by bob (id 2) in channel 4: id 7, seq 3, at 2026-01-02 10:30 UTC. */
export function message(overrides: Partial<Message> = {}): Message {
  return {
    id: 7,
    channel_id: 4,
    seq: 3,
    author_id: 2,
    client_id: null,
    kind: 'text',
    body: 'Link is up',
    thread_root: null,
    reply_count: 0,
    last_reply_at: null,
    created_at: Date.UTC(2026, 0, 2, 10, 30),
    edited_at: null,
    edited: false,
    deleted: false,
    pinned: false,
    reactions: [],
    ...overrides,
  };
}

/** An attached file `id`, served at /api/v1/files/{id} (the overrides may give it another id). */
export function file(id = 'f1', overrides: Partial<FileView> = {}): FileView {
  return {
    id,
    name: `${id}.bin`,
    size: 1000,
    mime: 'application/octet-stream',
    kind: 'file',
    width: null,
    height: null,
    duration_ms: null,
    url: `/api/v1/files/${id}`,
    thumb_url: null,
    preview_url: null,
    poster_url: null,
    ...overrides,
  };
}

/** localStorage as the browser has it: keys enumerable by index. */
export class MemoryStorage {
  private data = new Map<string, string>();
  get length(): number {
    return this.data.size;
  }
  key(i: number): string | null {
    return [...this.data.keys()][i] ?? null;
  }
  getItem(k: string): string | null {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.data.set(k, v);
  }
  removeItem(k: string): void {
    this.data.delete(k);
  }
  clear(): void {
    this.data.clear();
  }
  /** Every key, sorted (not part of Storage). */
  keys(): string[] {
    return [...this.data.keys()].sort();
  }
}

/**
 * A WebSocket for `vi.stubGlobal('WebSocket', FakeSocket)`: it keeps what the client sends, opens
 * when the test says so and hands the client the frames the test gives it.
 */
export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
  }
  receive(frame: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  static last() {
    return FakeSocket.all[FakeSocket.all.length - 1]!;
  }
}

/** A chat client for `me` that has not connected (a test stubs WebSocket and fetch if it must). */
export function chatClient(me: User): ChatClient {
  return new ChatClient(me, () => 'wss://h/api/v1/ws');
}

/** An empty element in the document for a component test to render into. */
export function mountRoot(): HTMLElement {
  const root = document.createElement('div');
  document.body.append(root);
  return root;
}

/** Unmounts what was rendered into `root` (running the effects' cleanups) and takes it out of the document. */
export async function unmountRoot(root: HTMLElement): Promise<void> {
  await act(() => render(null, root));
  root.remove();
}

export interface ChatScope {
  user: User;
  client: ChatClient;
  /** The calls, for views that need them; without, no CallsContext. */
  calls?: CallManager;
}

/** Renders `node` into `root` as the app shell has it: in the user's session, with the chat client. */
export async function renderInChat(root: HTMLElement, node: ComponentChildren, { user, client, calls }: ChatScope): Promise<void> {
  const inner = calls ? h(CallsContext.Provider, { value: calls }, node) : node;
  const session = { user, setUser: () => {} };
  await act(() => render(h(SessionContext.Provider, { value: session }, h(ChatContext.Provider, { value: client }, inner)), root));
}
