// @vitest-environment happy-dom
//
// Phones and touch screens: the conversation header's "More" menu, and no keyboard hints where
// there is no keyboard. The media queries are answered by a stand-in for matchMedia.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Call } from '../../api';
import { CallManager, type ActiveCall } from '../../calls/manager';
import type { ChatClient } from '../../chat/client';
import { OverflowMenu } from '../../components/OverflowMenu';
import { channel, chatClient, message as fixtureMessage, mountRoot, renderInChat, unmountRoot, user } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { NARROW_HEADER, TOUCH_ONLY } from '../../media';
import { ChannelView } from './ChannelView';
import { Composer } from './Composer';
import { Dialogs } from './Dialogs';
import { MessageItem } from './MessageItem';
import { Sidebar } from './Sidebar';
import { openDialog, openPanel, ui } from './ui';

const me = user();

const ops = channel({ name: 'field-office', topic: 'Radio checks' });

let root: HTMLElement;
let client: ChatClient;
let calls: CallManager;
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

const show = (node: preact.ComponentChildren) => renderInChat(root, node, { user: me, client, calls });

const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);
const $$ = <E extends Element = HTMLElement>(sel: string) => [...root.querySelectorAll<E>(sel)];
const texts = (sel: string) => $$(sel).map((el) => el.textContent?.trim());
const key = (el: Element, k: string) => act(() => void el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true })));
const click = (el: Element) => act(() => void (el as HTMLElement).click());

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  setFetch(async () => new Response('{}', { status: 404 }));
  client = chatClient(me);
  client.store.set({ ready: true, channels: new Map([[4, ops]]) });
  calls = new CallManager(client);
  root = mountRoot();
});

afterEach(async () => {
  openDialog(null);
  openPanel(null);
  await unmountRoot(root);
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
    // Not lost with the item: on "More", where the panel gives it back when it closes.
    expect(document.activeElement).toBe($('.overflow-btn'));

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

describe('the conversation header during a call', () => {
  const call: Call = {
    id: 9,
    channel_id: 4,
    started_by: 2,
    started_at: 0,
    ringing: [],
    participants: [2, 3, 5].map((user_id) => ({ user_id, muted: false, speaking: false, camera: false, screen: false })),
  };
  const inCall: ActiveCall = {
    callId: 9,
    channelId: 4,
    phase: 'connected',
    call,
    myPeer: 1,
    joinedAt: 0,
    muted: false,
    camera: false,
    screen: false,
    mic: 'ok',
    remote: [],
    localCamera: null,
    localScreen: null,
  };

  it('on a phone, shows joining as an icon and the count, named by its label, and "More" stays', async () => {
    media(NARROW_HEADER);
    calls.store.set({ calls: new Map([[4, call]]) });
    await show(<ChannelView channelId={4} seq={null} />);
    const tools = $$('.channel-tools > *');
    expect(tools.map((el) => el.className)).toEqual(['btn btn-small call-join-btn call-join-compact', 'overflow']);
    const join = tools[0]!;
    expect(join.textContent).toBe('3');
    expect(join.querySelector('svg')).not.toBeNull();
    expect(join.getAttribute('aria-label')).toBe('Join the call (3 people in it)');

    // The long Russian label ("Присоединиться") is not in the header either.
    setLocale('ru');
    await show(<ChannelView channelId={4} seq={null} />);
    expect($('.call-join-btn')!.textContent).toBe('3');
    expect($('.call-join-btn')!.getAttribute('aria-label')).toBe('Присоединиться к звонку (в нём 3 человека)');
    expect($('.channel-tools .overflow-btn')).not.toBeNull();
  });

  it('on a phone, "in call" is an icon, its words for screen readers', async () => {
    media(NARROW_HEADER);
    calls.store.set({ calls: new Map([[4, call]]), active: inCall });
    await show(<ChannelView channelId={4} seq={null} />);
    const here = $('[data-testid=call-here]')!;
    expect(here.classList.contains('call-here-compact')).toBe(true);
    expect(here.querySelector('.visually-hidden')?.textContent).toBe('In call');
    expect(here.getAttribute('title')).toBe('In call');
    expect($('.channel-tools .overflow-btn')).not.toBeNull();
  });

  it('keeps the words where there is room', async () => {
    media();
    calls.store.set({ calls: new Map([[4, call]]) });
    await show(<ChannelView channelId={4} seq={null} />);
    const join = $('.call-join-btn')!;
    expect(join.classList.contains('call-join-compact')).toBe(false);
    expect(join.textContent).toBe('Join call3');
    calls.store.set({ active: inCall });
    await show(<ChannelView channelId={4} seq={null} />);
    expect($('[data-testid=call-here]')!.classList.contains('call-here-compact')).toBe(false);
    expect($('[data-testid=call-here] .visually-hidden')).toBeNull();
  });
});

describe('OverflowMenu', () => {
  it('shows nothing without items', async () => {
    await show(<OverflowMenu label="More" menuLabel="Actions" items={[]} />);
    expect(root.innerHTML).toBe('');
  });

  const two = (onSelect: () => void) => (
    <OverflowMenu
      label="More"
      menuLabel="Actions"
      items={[
        { key: 'a', label: 'First', onSelect },
        { key: 'b', label: 'Second', onSelect },
      ]}
    />
  );

  it('gives the focus back to its button before the chosen item acts', async () => {
    let focusedThen: Element | null = null;
    const onSelect = vi.fn(() => {
      focusedThen = document.activeElement;
    });
    await show(two(onSelect));
    const more = $<HTMLButtonElement>('button')!;
    await click(more);
    expect(document.activeElement).toBe($('[data-action=a]'));
    await click($('[data-action=b]')!);
    expect(onSelect).toHaveBeenCalledOnce();
    expect(focusedThen).toBe(more);
    expect(document.activeElement).toBe(more);
    expect($('[role=menu]')).toBeNull();
  });

  it('closes when the focus moves somewhere else, not within it or when it goes nowhere', async () => {
    const outside = document.createElement('button');
    document.body.append(outside);
    try {
      await show(two(() => {}));
      await click($('button')!);
      const first = $('[data-action=a]')!;
      const focusOut = (to: Element | null) =>
        act(() => void first.dispatchEvent(new FocusEvent('focusout', { bubbles: true, relatedTarget: to })));
      // To another item, or nowhere (the window lost the focus; Safari pressing an item).
      await focusOut($('[data-action=b]'));
      await focusOut(null);
      expect($('[role=menu]')).not.toBeNull();
      await focusOut(outside);
      expect($('[role=menu]')).toBeNull();
      expect($('button')!.getAttribute('aria-expanded')).toBe('false');
    } finally {
      outside.remove();
    }
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

  const message = fixtureMessage({ id: 9, seq: 1, author_id: 1, body: 'Radio check at 06:00' });

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
