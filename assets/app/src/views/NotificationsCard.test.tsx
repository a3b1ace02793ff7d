// @vitest-environment happy-dom
//
// The notification preferences card: a change shows at once while it is saved, and goes back
// when the server refuses it.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Preferences } from '../api';
import { mountRoot, unmountRoot } from '../fixtures.test-util';
import { setLocale } from '../i18n';
import { NotificationsCard } from './NotificationsCard';

const prefs: Preferences = {
  time_zone: '',
  dnd_until: null,
  dnd_start: null,
  dnd_end: null,
  keywords: [],
  read_receipts: true,
  language: '',
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

let root: HTMLElement;
/** Answers the PATCH being saved (set while one is waiting). */
let answer: ((r: Response) => void) | null;

const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });
const receiptsSwitch = () => root.querySelector<HTMLInputElement>('input[role="switch"]')!;

beforeEach(async () => {
  setLocale('en');
  root = mountRoot();
  answer = null;
  setFetch(async (url, init) => {
    if (init.method === 'GET' && url === '/api/v1/me/preferences') return json(200, prefs);
    if (init.method === 'PATCH' && url === '/api/v1/me/preferences') return new Promise<Response>((r) => (answer = r));
    return json(404, { error: { code: 'not-found', message: 'no fake' } });
  });
  await act(() => render(<NotificationsCard />, root));
  await settle(() => expect(root.querySelector('input[role="switch"]')).not.toBeNull());
});

afterEach(async () => {
  await unmountRoot(root);
  setFetch((input, init) => globalThis.fetch(input, init));
});

async function toggleReceipts() {
  const el = receiptsSwitch();
  await act(() => {
    el.click();
  });
}

describe('read receipts switch', () => {
  it('stays off while the change is saved, and after', async () => {
    expect(receiptsSwitch().checked).toBe(true);
    await toggleReceipts();
    await settle(() => expect(answer).not.toBeNull());
    // Saving: it does not spring back on.
    expect(receiptsSwitch().checked).toBe(false);
    expect(receiptsSwitch().disabled).toBe(true);
    await act(() => answer!(json(200, { ...prefs, read_receipts: false })));
    await settle(() => expect(root.textContent).toContain('Saved.'));
    expect(receiptsSwitch().checked).toBe(false);
    expect(receiptsSwitch().disabled).toBe(false);
  });

  it('goes back on when the server refuses', async () => {
    await toggleReceipts();
    await settle(() => expect(answer).not.toBeNull());
    expect(receiptsSwitch().checked).toBe(false);
    await act(() => answer!(json(500, { error: { code: 'internal', message: 'boom' } })));
    await settle(() => expect(receiptsSwitch().disabled).toBe(false));
    expect(receiptsSwitch().checked).toBe(true);
  });
});
