// @vitest-environment happy-dom
//
// Linked sites in the administration page, through the whole app against a fake API: the links
// with their state and backlog (pause, resume, remove), an invitation for another site (its code,
// fingerprint and QR code), and accepting one after comparing the fingerprint.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type LinkView } from '../../api';
import { App } from '../../app';
import { mountRoot, unmountRoot } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { LINK_CODE_PREFIX } from '../../links';

type Handler = (init: RequestInit) => Response | Promise<Response>;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const apiError = (status: number, code: string, message: string, field?: string) =>
  json(status, { error: { code, message, ...(field ? { field } : {}) } });
const noContent = () => new Response(null, { status: 204 });

const alice = {
  id: 1,
  username: 'alice',
  display_name: 'Alice Liddell',
  is_admin: true,
  disabled: false,
  created_at: '2025-01-01T00:00:00Z',
};

const FP = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const OTHER_FP = '11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:88:99:00:11:22:33:44:55:66:77:88:99:00:11:22';
const SECRET = 'never-show-this-secret-'.repeat(3);

const link = (id: number, name: string, extra: Partial<LinkView> = {}): LinkView => ({
  id,
  site_id: `site-${id}`,
  name,
  fingerprint: FP,
  addresses: ['10.0.0.5:8444'],
  state: 'connected',
  last_contact_at: Date.now() - 5 * 60_000,
  backlog_out: 3,
  backlog_in: 0,
  last_error: null,
  created_at: 0,
  ...extra,
});

function code(body: Record<string, unknown>): string {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return LINK_CODE_PREFIX + btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

let root: HTMLElement;
let calls: { key: string; body: unknown }[];

function fakeApi(handlers: Record<string, Handler>) {
  calls = [];
  setFetch(async (url, init) => {
    const key = `${init.method} ${url}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body as string) : undefined });
    const handler = handlers[key];
    if (!handler) return apiError(404, 'not-found', `no fake for ${key}`);
    return handler(init);
  });
}

async function open(path: string) {
  history.replaceState(null, '', path);
  await act(() => render(<App />, root));
}

const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });
const labelled = (label: string) => root.querySelector<HTMLButtonElement>(`button[aria-label="${label}"]`);
const row = (id: number) => root.querySelector<HTMLTableRowElement>(`tr[data-link-id="${id}"]`);

function button(text: string): HTMLButtonElement {
  const found = [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === text);
  if (!found) throw new Error(`no button ${text}`);
  return found;
}

function input(label: string): HTMLInputElement {
  const labelEl = [...root.querySelectorAll('label')].find((l) => l.textContent === label);
  if (!labelEl) throw new Error(`no label ${label}`);
  return root.querySelector(`#${CSS.escape(labelEl.htmlFor)}`) as HTMLInputElement;
}

async function type(label: string, value: string) {
  const el = input(label);
  await act(() => {
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function submit(el: Element) {
  await act(() => {
    el.closest('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

beforeEach(() => {
  setLocale('en');
  root = mountRoot();
  window.confirm = vi.fn(() => true);
});

afterEach(async () => {
  await unmountRoot(root);
  setLocale('en');
});

describe('linked sites in the admin page', () => {
  it('lists the links with state, last contact, backlog and error; pauses, resumes and removes', async () => {
    const depot = link(2, 'Depot', { state: 'disconnected', last_contact_at: null, backlog_in: 7, last_error: 'connection refused' });
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/admin/links': () => json(200, [link(1, 'HQ'), depot]),
      'POST /api/v1/admin/links/1/pause': () => json(200, link(1, 'HQ', { state: 'paused' })),
      'POST /api/v1/admin/links/1/resume': () => json(200, link(1, 'HQ')),
      'DELETE /api/v1/admin/links/2': noContent,
    });
    await open('/admin/links');
    await settle(() => expect(row(1)).not.toBeNull());
    expect(root.querySelector('.admin-tabs a[aria-current="page"]')?.textContent).toBe('Linked sites');
    expect(row(1)!.textContent).toContain('HQ');
    expect(row(1)!.textContent).toContain('Connected');
    expect(row(1)!.textContent).toContain('5 minutes ago');
    expect(row(1)!.textContent).toContain('AB:CD:EF:01:23:45:67:89');
    expect(row(1)!.querySelector('.link-state-connected .link-dot')).not.toBeNull();
    expect([...row(1)!.querySelectorAll('.link-backlog')].map((c) => c.textContent)).toEqual(['3', '0']);
    // By name: Depot first, down, never in contact, its last error shown.
    expect([...root.querySelectorAll('tbody tr')].map((r) => r.getAttribute('data-link-id'))).toEqual(['2', '1']);
    expect(row(2)!.textContent).toContain('Link down');
    expect(row(2)!.textContent).toContain('Never');
    expect(row(2)!.textContent).toContain('Last error: connection refused');
    expect(row(2)!.querySelector('.link-state-down')).not.toBeNull();

    await act(() => labelled('Pause the link with HQ')!.click());
    await settle(() => expect(root.textContent).toContain('The link with HQ is paused'));
    expect(row(1)!.textContent).toContain('Paused');
    await act(() => labelled('Resume the link with HQ')!.click());
    await settle(() => expect(root.textContent).toContain('The link with HQ is resumed.'));
    expect(row(1)!.textContent).toContain('Connected');

    // Removing asks first: the other site is refused at once.
    (window.confirm as ReturnType<typeof vi.fn>).mockReturnValueOnce(false);
    await act(() => labelled('Remove the link with Depot')!.click());
    expect(calls.some((c) => c.key === 'DELETE /api/v1/admin/links/2')).toBe(false);
    expect(window.confirm).toHaveBeenCalledWith(expect.stringContaining('Remove the link with Depot? That site is refused at once'));
    await act(() => labelled('Remove the link with Depot')!.click());
    await settle(() => expect(row(2)).toBeNull());
    expect(root.textContent).toContain('The link with Depot was removed.');
  });

  it('creates an invitation: the code to copy, this site’s fingerprint and addresses, the QR code as an image', async () => {
    const invite = {
      code: code({ v: 1, site: 'here', name: 'Base', addresses: ['10.0.0.9:8444'], fingerprint: FP, secret: SECRET }),
      site_name: 'Base',
      fingerprint: FP,
      addresses: ['10.0.0.9:8444', '192.168.1.9:8444'],
      qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="1" height="1"/></svg>',
    };
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/admin/links': () => json(200, []),
      'POST /api/v1/admin/links/invites': () => json(200, invite),
    });
    await open('/admin/links');
    await settle(() => expect(root.textContent).toContain('No linked sites yet.'));
    const hours = input('Valid for') as unknown as HTMLSelectElement;
    await act(() => {
      hours.value = '72';
      hours.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(() => button('Create invitation').click());
    await settle(() => expect(input('Invitation code').value).toBe(invite.code));
    expect(calls.find((c) => c.key === 'POST /api/v1/admin/links/invites')?.body).toEqual({ hours: 72 });
    const qr = root.querySelector<HTMLImageElement>('img.qr-image')!;
    expect(qr.getAttribute('alt')).toBe('QR code of the invitation code');
    expect(qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    // The SVG is never put into the page itself, where its script could run.
    expect(root.querySelector('svg script')).toBeNull();
    const facts = root.querySelector('.link-invite')!.textContent!;
    expect(facts).toContain('Base');
    expect(facts).toContain('AB:CD:EF:01:23:45:67:89');
    expect(facts).toContain('10.0.0.9:8444, 192.168.1.9:8444');
    expect(facts).toContain('valid for 3 days');
  });

  it('accepts an invitation only after the fingerprint was compared, and sends the fingerprint confirmed', async () => {
    let links: LinkView[] = [];
    const good = code({ v: 1, site: 'hq-1', name: 'Штаб', addresses: ['10.1.0.1:8444'], fingerprint: OTHER_FP, secret: SECRET });
    let answer: () => Response = () => apiError(502, 'site-unreachable', 'cannot reach it');
    fakeApi({
      'GET /api/v1/me': () => json(200, alice),
      'GET /api/v1/admin/links': () => json(200, links),
      'POST /api/v1/admin/links': () => answer(),
    });
    await open('/admin/links');
    await settle(() => expect(root.textContent).toContain('No linked sites yet.'));

    // Not a code: said at once, nothing sent.
    await type('Invitation code', 'outpost-link:garbage!');
    await submit(button('Continue'));
    expect(root.textContent).toContain('This is not a link invitation code.');
    expect(calls.some((c) => c.key === 'POST /api/v1/admin/links')).toBe(false);

    // The code, pasted with a line break: the site's name and fingerprint to compare first.
    await type('Invitation code', `${good.slice(0, 40)}\n${good.slice(40)}`);
    await submit(button('Continue'));
    const confirm = root.querySelector('.link-confirm')!;
    expect(confirm.querySelector('.link-confirm-name')?.textContent).toBe('Штаб');
    expect(confirm.querySelector('.link-confirm-fingerprint')?.textContent).toContain('11:22:33:44:55:66:77:88');
    expect(confirm.textContent).toContain('10.1.0.1:8444');
    expect(root.innerHTML).not.toContain(SECRET);
    const linkButton = button('Link the sites');
    expect(linkButton.disabled).toBe(true);
    await act(() => confirm.querySelector<HTMLInputElement>('input[type="checkbox"]')!.click());
    expect(button('Link the sites').disabled).toBe(false);

    // The other site cannot be reached: said in words, the step stays.
    await submit(button('Link the sites'));
    await settle(() => expect(root.textContent).toContain('The other site cannot be reached at the addresses in the invitation.'));
    expect(calls.find((c) => c.key === 'POST /api/v1/admin/links')?.body).toEqual({ code: good, fingerprint: OTHER_FP });
    expect(root.querySelector('.link-confirm')).not.toBeNull();

    answer = () => {
      links = [link(5, 'Штаб', { fingerprint: OTHER_FP })];
      return json(200, links[0]);
    };
    await submit(button('Link the sites'));
    await settle(() => expect(root.textContent).toContain('Linked with Штаб.'));
    await settle(() => expect(row(5)).not.toBeNull());
    expect(root.querySelector('.link-confirm')).toBeNull();
    expect(input('Invitation code').value).toBe('');
  });
});
