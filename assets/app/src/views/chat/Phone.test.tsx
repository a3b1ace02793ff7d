// @vitest-environment happy-dom
//
// Phones and touch screens: the conversation header's "More" menu, and no keyboard hints where
// there is no keyboard. The media queries are answered by a stand-in for matchMedia.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Channel, type Message, type User } from '../../api';
import { CallsContext } from '../../calls/context';
import { CallManager } from '../../calls/manager';
import { ChatClient, ChatContext } from '../../chat/client';
import { OverflowMenu } from '../../components/OverflowMenu';
import { setLocale } from '../../i18n';
import { NARROW_HEADER, TOUCH_ONLY } from '../../media';
import { SessionContext } from '../../session';
import { ChannelView } from './ChannelView';
import { Composer } from './Composer';
import { Dialogs } from './Dialogs';
import { MessageItem } from './MessageItem';
import { Sidebar } from './Sidebar';
import { openDialog, openPanel, ui } from './ui';

const me: User = { id: 1, username: 'alice', display_name: 'Alice', is_admin: false, disabled: false, created_at: '' };

const ops: Channel = {
  id: 4,
  kind: 'public',
  name: 'field-office',
  topic: 'Radio checks',
  archived: false,
  last_seq: 0,
  created_at: 0,
  role: 'member',
  last_read_seq: 0,
  unread: 0,
  mentions: 0,
  member_ids: [],
};

let root: HTMLElement;
let client: ChatClient;
const realMatchMedia = window.matchMedia;

/** Makes exactly these media queries match, and tells the listeners when `set` changes them. */
function media(...matching: string[]) {
  let on = new Set(matching);
  const listeners = new Map<string, Set<() => void>>();
  const fake = (query: string) =>
    ({
      media: query,
      get matches() {
        return on.has(query);
      },
      addEventListener: (_: string, l: () => void) => listeners.set(query, new Set([...(listeners.get(query) ?? []), l])),
      removeEventListener: (_: string, l: () => void) => listeners.get(query)?.delete(l),
    }) as unknown as MediaQueryList;
  Object.defineProperty(window, 'matchMedia', { value: fake, configurable: true, writable: true });
  return {
    set: async (...now: string[]) => {
      on = new Set(now);
      await act(() => {
        for (const set of listeners.values()) for (const l of set) l();
      });
    },
  };
}

async function show(node: preact.ComponentChildren) {
  await act(() =>
    render(
      <SessionContext.Provider value={{ user: me, setUser: () => {} }}>
        <ChatContext.Provider value={client}>
          <CallsContext.Provider value={new CallManager(client)}>{node}</CallsContext.Provider>
        </ChatContext.Provider>
      </SessionContext.Provider>,
      root,
    ),
  );
}

const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);
const $$ = <E extends Element = HTMLElement>(sel: string) => [...root.querySelectorAll<E>(sel)];
const texts = (sel: string) => $$(sel).map((el) => el.textContent?.trim());
const key = (el: Element, k: string) => act(() => void el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true })));
const click = (el: Element) => act(() => void (el as HTMLElement).click());

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  setFetch(async () => new Response('{}', { status: 404 }));
  client = new ChatClient(me, () => 'wss://h/api/v1/ws');
  client.store.set({ ready: true, channels: new Map([[4, ops]]) });
  root = document.createElement('div');
  document.body.append(root);
});

afterEach(async () => {
  openDialog(null);
  openPanel(null);
  await act(() => render(null, root));
  root.remove();
  Object.defineProperty(window, 'matchMedia', { value: realMatchMedia, configurable: true, writable: true });
});

describe('the conversation header', () => {
  it('shows its buttons in a row where there is room', async () => {
    media();
    await show(<ChannelView channelId={4} seq={null} />);
    expect(texts('.channel-tools > button')).toEqual(['Call', 'Details', 'Pinned', 'Leave']);
    expect($('.channel-head [aria-haspopup=menu]')).toBeNull();
    expect($('.channel-head')!.classList.contains('channel-head-narrow')).toBe(false);
  });

  it('folds them into one "More" menu on a phone, and back when the screen widens', async () => {
    const m = media(NARROW_HEADER);
    await show(<ChannelView channelId={4} seq={null} />);
    expect($('.channel-head')!.classList.contains('channel-head-narrow')).toBe(true);
    expect(texts('.channel-tools button')).toEqual(['More']);
    const more = $<HTMLButtonElement>('.channel-tools button')!;
    expect(more.getAttribute('aria-haspopup')).toBe('menu');
    expect(more.getAttribute('aria-expanded')).toBe('false');
    expect($('[role=menu]')).toBeNull();

    await click(more);
    const menu = $('[role=menu]')!;
    expect(more.getAttribute('aria-expanded')).toBe('true');
    expect(more.getAttribute('aria-controls')).toBe(menu.id);
    expect(menu.getAttribute('aria-label')).toBe('Actions for field-office');
    expect(texts('[role=menuitem]')).toEqual(['Call', 'Details', 'Pinned', 'Leave']);
    await m.set();
    expect($('[role=menu]')).toBeNull();
    expect(texts('.channel-tools > button')).toEqual(['Call', 'Details', 'Pinned', 'Leave']);
  });

  it('is a keyboard menu: the first item focused, arrows, Home, End, Escape back to the button', async () => {
    media(NARROW_HEADER);
    await show(<ChannelView channelId={4} seq={null} />);
    const more = $<HTMLButtonElement>('.overflow-btn')!;
    await key(more, 'ArrowDown');
    const items = $$('[role=menuitem]');
    expect(items.every((i) => i.getAttribute('tabindex') === '-1')).toBe(true);
    expect(document.activeElement).toBe(items[0]);
    await key(items[0]!, 'ArrowDown');
    expect(document.activeElement).toBe(items[1]);
    await key(items[1]!, 'ArrowUp');
    await key(items[0]!, 'ArrowUp');
    expect(document.activeElement).toBe(items[3]);
    await key(items[3]!, 'Home');
    expect(document.activeElement).toBe(items[0]);
    await key(items[0]!, 'End');
    expect(document.activeElement).toBe(items[3]);
    await key(items[3]!, 'Escape');
    expect($('[role=menu]')).toBeNull();
    expect(document.activeElement).toBe(more);
    expect(more.getAttribute('aria-expanded')).toBe('false');
  });

  it('runs the chosen action and closes; a press elsewhere closes it too', async () => {
    media(NARROW_HEADER);
    await show(<ChannelView channelId={4} seq={null} />);
    await click($('.overflow-btn')!);
    await click($$('[role=menuitem]').find((i) => i.textContent === 'Pinned')!);
    expect($('[role=menu]')).toBeNull();
    expect(ui.get().panel).toEqual({ type: 'pins', channelId: 4 });

    await click($('.overflow-btn')!);
    await click($$('[role=menuitem]').find((i) => i.textContent === 'Details')!);
    expect(ui.get().dialog).toEqual({ type: 'details', channelId: 4 });

    await click($('.overflow-btn')!);
    expect($('[role=menu]')).not.toBeNull();
    await act(() => void document.body.dispatchEvent(new MouseEvent('mousedown', { bubbles: true })));
    expect($('[role=menu]')).toBeNull();
  });

  it('offers no call in an archived channel, and no "Leave" in a direct conversation', async () => {
    media(NARROW_HEADER);
    client.store.set({
      channels: new Map([
        [4, { ...ops, archived: true }],
        [5, { ...ops, id: 5, kind: 'dm', name: null, member_ids: [1, 2] }],
      ]),
    });
    await show(<ChannelView channelId={4} seq={null} />);
    await click($('.overflow-btn')!);
    expect(texts('[role=menuitem]')).toEqual(['Details', 'Pinned', 'Leave']);
    await act(() => render(null, root));
    await show(<ChannelView channelId={5} seq={null} />);
    await click($('.overflow-btn')!);
    expect(texts('[role=menuitem]')).toEqual(['Call', 'Members', 'Pinned']);
  });
});

describe('OverflowMenu', () => {
  it('shows nothing without items', async () => {
    await show(<OverflowMenu label="More" menuLabel="Actions" items={[]} />);
    expect(root.innerHTML).toBe('');
  });

  it('toggles with its button and marks dangerous items', async () => {
    const onSelect = vi.fn();
    await show(
      <OverflowMenu
        label="More"
        menuLabel="Actions"
        items={[
          { key: 'a', label: 'First', onSelect },
          { key: 'b', label: 'Remove', onSelect, danger: true },
        ]}
      />,
    );
    const more = $<HTMLButtonElement>('button')!;
    await click(more);
    expect($('[data-action=b]')!.classList.contains('overflow-item-danger')).toBe(true);
    await click(more);
    expect($('[role=menu]')).toBeNull();
    expect(onSelect).not.toHaveBeenCalled();
  });
});

describe('keyboard hints', () => {
  const hints = () => $$('.kbd-hint').map((el) => el.textContent);

  it('are shown where there is a keyboard', async () => {
    media();
    await show(
      <>
        <Sidebar route={{ name: 'home' }} onNavigate={() => {}} onSignOut={() => {}} />
        <Composer channelId={4} placeholder="Message #field-office" />
      </>,
    );
    expect(hints()).toEqual(['Ctrl K', 'Enter to send, Shift+Enter for a new line, ↑ to edit your last message']);
    expect($('[title="Alt+↑ / Alt+↓ switch conversations"]')).not.toBeNull();
  });

  it('are not shown on a touch screen, not even as tooltips', async () => {
    media(TOUCH_ONLY);
    await show(
      <>
        <Sidebar route={{ name: 'home' }} onNavigate={() => {}} onSignOut={() => {}} />
        <Composer channelId={4} placeholder="Message #field-office" />
      </>,
    );
    expect(hints()).toEqual([]);
    expect($('kbd')).toBeNull();
    expect($$('[title]').filter((el) => /Alt\+|Ctrl|Enter|Escape/.test(el.getAttribute('title') ?? ''))).toEqual([]);
    expect(root.textContent).not.toMatch(/Shift\+Enter|Ctrl K/);
  });

  const message: Message = {
    id: 9,
    channel_id: 4,
    seq: 1,
    author_id: 1,
    client_id: null,
    kind: 'text',
    body: 'Radio check at 06:00',
    thread_root: null,
    reply_count: 0,
    last_reply_at: null,
    created_at: Date.UTC(2026, 0, 2, 10, 30),
    edited_at: null,
    edited: false,
    deleted: false,
    pinned: false,
    reactions: [],
  };

  it('leave the quick switcher and the message editor on a touch screen', async () => {
    media(TOUCH_ONLY);
    await show(<Dialogs />);
    await act(() => openDialog('switcher'));
    expect(document.querySelector('.switcher-hint')).toBeNull();
    media();
    await act(() => openDialog(null));
    await act(() => openDialog('switcher'));
    expect(document.querySelector('.switcher-hint')?.textContent).toBe('↑ ↓ to choose, Enter to open, Escape to close');
    await act(() => openDialog(null));

    const editing = (
      <MessageItem
        message={message}
        first
        meId={1}
        isAdmin={false}
        canModerate={false}
        people={new Map()}
        mentions={{ me: 'alice', known: () => false }}
        highlight={false}
        editing
        onEdit={() => {}}
      />
    );
    media(TOUCH_ONLY);
    await show(editing);
    expect($('.edit-actions')).not.toBeNull();
    expect($('.edit-hint')).toBeNull();
    await act(() => render(null, root));
    media();
    await show(editing);
    expect($('.edit-hint')?.textContent).toBe('Enter to save, Escape to cancel');
  });
});
