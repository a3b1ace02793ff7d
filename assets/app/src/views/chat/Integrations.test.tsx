// @vitest-environment happy-dom
//
// Messages from webhooks and bots, and managing a channel's webhooks in its details.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setFetch, type Message, type Person } from '../../api';
import type { ChatClient } from '../../chat/client';
import { chatClient, message as fixtureMessage, mountRoot, renderInChat, unmountRoot, user } from '../../fixtures.test-util';
import { setLocale } from '../../i18n';
import { MessageItem } from './MessageItem';
import { WebhooksSection } from './Webhooks';

const me = user();

const people = new Map<number, Person>([
  [1, { id: 1, username: 'alice', display_name: 'Alice', presence: 'online' }],
  [2, { id: 2, username: 'bob', display_name: 'Bob', presence: 'online' }],
  [5, { id: 5, username: 'backup-bot', display_name: 'Backups', presence: 'offline', is_bot: true }],
]);

const message = (extra: Partial<Message> = {}) => fixtureMessage({ body: 'Disk full on db1', ...extra });

const itemProps = {
  first: true,
  meId: 1,
  isAdmin: false,
  canModerate: false,
  people,
  mentions: { me: 'alice', known: () => false },
  highlight: false,
  editing: false,
  onEdit: () => {},
};

let root: HTMLElement;
let client: ChatClient;

const show = (node: preact.ComponentChildren) => renderInChat(root, node, { user: me, client });

const $ = <E extends Element = HTMLElement>(sel: string) => root.querySelector<E>(sel);
const buttonLabelled = (label: string) => $<HTMLButtonElement>(`button[aria-label="${label}"]`);
const settle = (check: () => void) => vi.waitFor(check, { timeout: 1000, interval: 5 });

beforeEach(() => {
  setLocale('en');
  localStorage.clear();
  client = chatClient(me);
  root = mountRoot();
});

afterEach(async () => {
  await unmountRoot(root);
  setFetch((input, init) => globalThis.fetch(input, init));
  setLocale('en');
});

describe('messages from webhooks and bots', () => {
  const fromHook = message({ author_id: null, sender_name: 'Zabbix', webhook_id: 3 });

  it('shows a webhook post under its sender name, tagged, with a robot avatar', async () => {
    await show(<MessageItem message={fromHook} {...itemProps} />);
    expect($('.msg-author')!.textContent).toBe('Zabbix');
    expect($('.msg-head .bot-tag')!.textContent).toBe('webhook');
    expect($('.msg-head .bot-tag')!.getAttribute('title')).toBe('Posted by another system through an incoming webhook');
    expect($('.msg-gutter .av-bot svg')).not.toBeNull();
    // Not a person's initials.
    expect($('.msg-gutter')!.textContent).toBe('');
    expect($('.msg')!.getAttribute('aria-label')).toMatch(/^Zabbix \(webhook\), /);
    // No author: nobody edits it, and only moderators delete it.
    expect(buttonLabelled('Edit')).toBeNull();
    expect(buttonLabelled('Delete')).toBeNull();
    expect(buttonLabelled('React with 👍')).not.toBeNull();
    await show(<MessageItem message={fromHook} {...itemProps} canModerate />);
    expect(buttonLabelled('Edit')).toBeNull();
    expect(buttonLabelled('Delete')).not.toBeNull();
  });

  it('tags a bot account and leaves people untagged', async () => {
    await show(<MessageItem message={message({ author_id: 5 })} {...itemProps} />);
    expect($('.msg-author')!.textContent).toBe('Backups');
    expect($('.msg-head .bot-tag')!.textContent).toBe('bot');
    expect($('.msg-gutter .av')!.textContent).toBe('B');
    expect($('.msg')!.getAttribute('aria-label')).toMatch(/^Backups \(bot\), /);
    await show(<MessageItem message={message({ id: 8 })} {...itemProps} />);
    expect($('.msg-author')!.textContent).toBe('Bob');
    expect($('.bot-tag')).toBeNull();
  });

  it('reads in Russian', async () => {
    setLocale('ru');
    await show(<MessageItem message={fromHook} {...itemProps} />);
    expect($('.msg-head .bot-tag')!.textContent).toBe('вебхук');
    await show(<MessageItem message={message({ author_id: 5, id: 9 })} {...itemProps} />);
    expect($('.msg-head .bot-tag')!.textContent).toBe('бот');
  });
});

describe('webhooks in the channel details', () => {
  const hook = {
    id: 3,
    channel_id: 4,
    name: 'Zabbix',
    created_by: 1,
    created_at: '2026-01-02T10:00:00Z',
    last_used_at: null as string | null,
  };
  let calls: { key: string; body: unknown }[];

  function fakeApi(handlers: Record<string, () => Response>) {
    calls = [];
    setFetch(async (url, init) => {
      const key = `${init.method} ${url}`;
      calls.push({ key, body: init.body ? JSON.parse(init.body as string) : undefined });
      const handler = handlers[key];
      return handler ? handler() : new Response('{"error":{"code":"not-found","message":"no"}}', { status: 404 });
    });
  }
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });

  it('lists them, creates one and shows its URL once with a curl example, deletes one', async () => {
    fakeApi({
      'GET /api/v1/channels/4/webhooks': () => json(200, [{ ...hook, last_used_at: '2026-01-03T08:00:00Z' }]),
      'POST /api/v1/channels/4/webhooks': () =>
        json(201, { webhook: { ...hook, id: 4, name: 'Backups' }, token: 'T0KEN', path: '/api/v1/hooks/T0KEN' }),
      'DELETE /api/v1/webhooks/3': () => new Response(null, { status: 204 }),
    });
    const confirm = vi.fn(() => true);
    window.confirm = confirm;
    await show(<WebhooksSection channelId={4} channelName="#ops" />);
    await settle(() => expect(root.querySelectorAll('.item-row')).toHaveLength(1));
    expect($('.item-row .item-name')!.textContent).toBe('Zabbix');
    expect($('.item-row .item-meta')!.textContent).toContain('Last used');

    // A name that cannot be one is not sent.
    const input = $<HTMLInputElement>('form input')!;
    await act(() => {
      input.value = '   ';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(() => {
      $('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    expect(root.textContent).toContain('A webhook’s name is 1 to 64 characters.');
    expect(calls.filter((c) => c.key.startsWith('POST'))).toHaveLength(0);

    await act(() => {
      input.value = ' Backups ';
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(() => {
      $('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await settle(() => expect($('.secret-once')).not.toBeNull());
    expect(calls.find((c) => c.key === 'POST /api/v1/channels/4/webhooks')?.body).toEqual({ name: 'Backups' });
    const url = `${location.origin}/api/v1/hooks/T0KEN`;
    const fields = [...root.querySelectorAll<HTMLInputElement>('.secret-once input')].map((i) => i.value);
    expect(fields).toEqual([
      url,
      `curl --cacert outpost-ca.pem -H 'Content-Type: application/json' -d '{"text":"Disk full on db1","display_name":"Zabbix"}' ${url}`,
    ]);
    expect($('.secret-once a[href="/ca.pem"]')!.getAttribute('download')).toBe('outpost-ca.pem');
    expect($('.secret-once')!.textContent).toContain('/ca.pem');
    await settle(() => expect(document.activeElement?.textContent).toBe('Copy the webhook URL now'));
    expect(root.querySelectorAll('.item-row')).toHaveLength(2);
    // The form comes back once the URL is hidden; the URL is gone for good.
    expect($('form')).toBeNull();
    await act(() => [...root.querySelectorAll('button')].find((b) => b.textContent === 'Done, hide it')!.click());
    expect($('.secret-once')).toBeNull();
    expect(root.textContent).not.toContain('T0KEN');
    expect($('form')).not.toBeNull();
    await settle(() => expect(document.activeElement).toBe($('form input')));

    await act(() => buttonLabelled('Delete webhook Zabbix')!.click());
    await settle(() => expect(root.textContent).toContain('Webhook Zabbix was deleted.'));
    expect(confirm).toHaveBeenCalledWith('Delete webhook Zabbix? Its URL stops working at once. What it posted stays.');
    expect(root.querySelectorAll('.item-row')).toHaveLength(1);
  });

  it('says in the reader’s language when they may not, and when a webhook is gone', async () => {
    setLocale('ru');
    fakeApi({ 'GET /api/v1/channels/4/webhooks': () => json(403, { error: { code: 'forbidden', message: 'no' } }) });
    await show(<WebhooksSection channelId={4} channelName="#ops" />);
    await settle(() =>
      expect($('[role="alert"]')!.textContent).toBe('Управлять вебхуками канала могут только его владельцы и администраторы.'),
    );
    setLocale('en');
    fakeApi({
      'GET /api/v1/channels/4/webhooks': () => json(200, [hook]),
      'DELETE /api/v1/webhooks/3': () => json(404, { error: { code: 'not-found', message: 'no such resource' } }),
    });
    window.confirm = () => true;
    await act(() => render(null, root));
    await show(<WebhooksSection channelId={4} channelName="#ops" />);
    await settle(() => expect(buttonLabelled('Delete webhook Zabbix')).not.toBeNull());
    await act(() => buttonLabelled('Delete webhook Zabbix')!.click());
    await settle(() => expect($('[role="alert"]')!.textContent).toBe('This webhook does not exist any more.'));
    expect(root.querySelectorAll('.item-row')).toHaveLength(0);
  });
});

describe('outgoing webhooks in the channel details', () => {
  const out = {
    id: 2,
    channel_id: 4,
    name: 'Status',
    trigger_words: ['!status', '!uptime'],
    url: 'http://10.0.0.5:8080/outpost',
    secret: 'S3CRET',
    created_by: 1,
    created_at: '2026-01-02T10:00:00Z',
  };
  let calls: { key: string; body: unknown }[];

  function fakeApi(handlers: Record<string, () => Response>) {
    calls = [];
    setFetch(async (url, init) => {
      const key = `${init.method} ${url}`;
      calls.push({ key, body: init.body ? JSON.parse(init.body as string) : undefined });
      const handler = handlers[key];
      return handler ? handler() : new Response('{"error":{"code":"not-found","message":"no"}}', { status: 404 });
    });
  }
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  const outgoing = () => $('[aria-labelledby="details-outgoing"]')!;
  const type = async (label: string, value: string) => {
    const field = [...outgoing().querySelectorAll('label')].find((l) => l.textContent === label)!;
    const input = root.querySelector<HTMLInputElement>(`#${CSS.escape(field.htmlFor)}`)!;
    await act(() => {
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
  };
  const submit = () =>
    act(() => {
      outgoing().querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });

  it('is only there for administrators', async () => {
    fakeApi({ 'GET /api/v1/channels/4/webhooks': () => json(200, []) });
    await show(<WebhooksSection channelId={4} channelName="#ops" />);
    await settle(() => expect(root.textContent).toContain('No webhooks yet.'));
    expect($('[aria-labelledby="details-outgoing"]')).toBeNull();
    expect(calls.some((c) => c.key.includes('outgoing'))).toBe(false);
  });

  it('lists this channel’s, shows a secret on demand, checks the form, creates and deletes', async () => {
    fakeApi({
      'GET /api/v1/channels/4/webhooks': () => json(200, []),
      'GET /api/v1/outgoing-webhooks': () => json(200, [out, { ...out, id: 9, channel_id: 5, name: 'Elsewhere' }]),
      'POST /api/v1/channels/4/outgoing-webhooks': () =>
        json(201, { ...out, id: 3, name: 'Uptime', trigger_words: ['!up'], url: 'http://[fd00::1]/x', secret: 'N3W' }),
      'DELETE /api/v1/outgoing-webhooks/2': () => new Response(null, { status: 204 }),
    });
    const confirm = vi.fn(() => true);
    window.confirm = confirm;
    await show(<WebhooksSection channelId={4} channelName="#ops" outgoing />);
    await settle(() => expect(outgoing().querySelectorAll('.item-row')).toHaveLength(1));
    expect($('#details-outgoing')!.textContent).toBe('Outgoing');
    const row = outgoing().querySelector('.item-row')!;
    expect(row.querySelector('.item-name')!.textContent).toBe('Status');
    expect([...row.querySelectorAll('.badge')].map((b) => b.textContent)).toEqual(['!status', '!uptime']);
    expect(row.textContent).toContain('http://10.0.0.5:8080/outpost');
    // The secret only behind "show", then with a copy button.
    expect(root.textContent).not.toContain('S3CRET');
    const toggle = buttonLabelled('Show the secret of outgoing webhook Status')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await act(() => toggle.click());
    expect(row.querySelector<HTMLInputElement>('.outgoing-secret input')!.value).toBe('S3CRET');
    expect(row.querySelector('.outgoing-secret')!.textContent).toContain('Copy');
    expect(buttonLabelled('Hide the secret of outgoing webhook Status')!.getAttribute('aria-expanded')).toBe('true');
    await act(() => buttonLabelled('Hide the secret of outgoing webhook Status')!.click());
    expect(root.textContent).not.toContain('S3CRET');

    // What the server would refuse is not sent.
    await type('Name', 'Uptime');
    await type('Trigger words', '   ');
    await type('URL to call', 'https://monitor.local/hook');
    await submit();
    expect(outgoing().textContent).toContain('Give 1 to 10 trigger words');
    expect(outgoing().textContent).toContain('Use http://IP-ADDRESS[:PORT]/PATH');
    expect(calls.filter((c) => c.key.startsWith('POST'))).toHaveLength(0);

    await type('Trigger words', ' !up ');
    await type('URL to call', ' http://[fd00::1]/x ');
    await submit();
    await settle(() => expect(outgoing().querySelectorAll('.item-row')).toHaveLength(2));
    expect(calls.find((c) => c.key === 'POST /api/v1/channels/4/outgoing-webhooks')?.body).toEqual({
      name: 'Uptime',
      trigger_words: ['!up'],
      url: 'http://[fd00::1]/x',
    });
    expect(outgoing().textContent).toContain('Outgoing webhook Uptime was created.');
    // The new one's secret is shown at once.
    expect($<HTMLInputElement>('[data-outgoing-id="3"] .outgoing-secret input')!.value).toBe('N3W');

    await act(() => buttonLabelled('Delete outgoing webhook Status')!.click());
    await settle(() => expect(outgoing().textContent).toContain('Outgoing webhook Status was deleted.'));
    expect(confirm).toHaveBeenCalledWith(
      'Delete outgoing webhook Status? Outpost stops calling its URL at once. The answers it posted stay.',
    );
    expect(outgoing().querySelectorAll('.item-row')).toHaveLength(1);
  });

  it('says what the server refused in the reader’s language', async () => {
    setLocale('ru');
    fakeApi({
      'GET /api/v1/channels/4/webhooks': () => json(200, []),
      'GET /api/v1/outgoing-webhooks': () => json(200, []),
      'POST /api/v1/channels/4/outgoing-webhooks': () =>
        json(400, { error: { code: 'invalid', message: 'the URL must be http://IP-ADDRESS[:PORT]/PATH' } }),
    });
    await show(<WebhooksSection channelId={4} channelName="#ops" outgoing />);
    await settle(() => expect(outgoing().textContent).toContain('Исходящих вебхуков пока нет.'));
    await type('Название', 'Статус');
    await type('Слова-триггеры', '!статус');
    await type('Адрес для вызова', 'http://10.0.0.5/');
    await submit();
    await settle(() => expect(outgoing().querySelector('[role="alert"]')!.textContent).toMatch(/^Сервер не принял этот вебхук/));
  });
});
