// @vitest-environment happy-dom
//
// The offline banner is a live region that is always there, filled when the server cannot be
// reached, and says how old what is shown is.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatContext, type ChatClient } from '../../chat/client';
import { chatClient, mountRoot, unmountRoot, user } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { formatTime } from './MessageItem';
import { OfflineBanner } from './OfflineBanner';

const me = user();

let root: HTMLElement;
let client: ChatClient;

beforeEach(async () => {
  setLocale('en');
  client = chatClient(me);
  client.store.set({ ready: true, connection: 'connected' });
  root = mountRoot();
  await act(() =>
    render(
      <ChatContext.Provider value={client}>
        <OfflineBanner />
      </ChatContext.Provider>,
      root,
    ),
  );
});

afterEach(async () => {
  await unmountRoot(root);
  setLocale('en');
});

describe('the offline banner', () => {
  it('keeps its live region while online, empty, and fills that same region when offline', async () => {
    const region = root.querySelector('[role=status]')!;
    expect(region).not.toBeNull();
    expect(region.textContent).toBe('');
    expect(root.querySelector('[data-testid="offline-banner"]')).toBeNull();

    const lost = new Date(2026, 1, 3, 8, 5).getTime();
    const today = new Date();
    today.setHours(9, 41, 0, 0);
    await act(() => client.store.set({ connection: 'offline', syncedAt: today.getTime() }));
    expect(root.querySelector('[role=status]')).toBe(region);
    expect(region.textContent).toContain('The server cannot be reached.');
    expect(region.querySelector('.offline-banner-age')?.textContent).toBe(`Saved ${formatTime(today.getTime())}`);

    // An older copy: the date as well.
    await act(() => client.store.set({ syncedAt: lost }));
    const age = region.querySelector('.offline-banner-age')!.textContent!;
    expect(age).toMatch(/^Saved Feb 3, 2026/);

    await act(() => client.store.set({ connection: 'connected', syncedAt: null }));
    expect(root.querySelector('[role=status]')).toBe(region);
    expect(region.textContent).toBe('');
  });

  it('says nothing of the age when it is not known, and speaks Russian', async () => {
    setLocale('ru');
    await act(() => client.store.set({ cached: true }));
    const region = root.querySelector('[role=status]')!;
    expect(region.textContent).toContain('Сервер недоступен.');
    expect(region.querySelector('.offline-banner-age')).toBeNull();
    const at = new Date();
    at.setHours(14, 5, 0, 0);
    await act(() => client.store.set({ syncedAt: at.getTime() }));
    expect(region.querySelector('.offline-banner-age')?.textContent).toBe('Сохранено 14:05');
  });
});
