import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../fixtures.test-util';
import { isPermanentError, newClientId, Outbox } from './outbox';

describe('Outbox', () => {
  it('queues messages in order and persists them', () => {
    const store = new MemoryStorage();
    const box = new Outbox(store, 'ob');
    box.add({ channel_id: 1, body: 'one' }, 'c1', 1);
    box.add({ channel_id: 1, body: 'two', thread_root: 9 }, 'c2', 2);
    expect(box.sendable().map((i) => i.client_id)).toEqual(['c1', 'c2']);
    expect(box.forChannel(1).map((i) => i.body)).toEqual(['one']);
    expect(box.forChannel(1, 9).map((i) => i.body)).toEqual(['two']);
    const again = new Outbox(store, 'ob');
    expect(again.all().map((i) => [i.client_id, i.body, i.thread_root, i.state])).toEqual([
      ['c1', 'one', null, 'pending'],
      ['c2', 'two', 9, 'pending'],
    ]);
  });

  it('a reload turns in-flight items back into pending ones (resent with the same client id)', () => {
    const store = new MemoryStorage();
    const box = new Outbox(store, 'ob');
    box.add({ channel_id: 1, body: 'x' }, 'c1');
    box.markSending('c1');
    expect(box.sendable()).toHaveLength(0);
    expect(new Outbox(store, 'ob').sendable().map((i) => i.client_id)).toEqual(['c1']);
    box.resetSending();
    expect(box.sendable().map((i) => i.client_id)).toEqual(['c1']);
  });

  it('dedupes by client id: the ack or the event removes the item once', () => {
    const store = new MemoryStorage();
    const box = new Outbox(store, 'ob');
    box.add({ channel_id: 1, body: 'x' }, 'c1');
    box.add({ channel_id: 1, body: 'y' }, 'c2');
    expect(box.confirm({ client_id: 'c1' })).toBe(true);
    expect(box.confirm({ client_id: 'c1' })).toBe(false); // the event after the ack
    expect(box.confirm({ client_id: null })).toBe(false);
    expect(box.confirm({ client_id: 'other' })).toBe(false);
    expect(box.all().map((i) => i.client_id)).toEqual(['c2']);
    expect(new Outbox(store, 'ob').all().map((i) => i.client_id)).toEqual(['c2']);
    box.confirm({ client_id: 'c2' });
    expect(store.getItem('ob')).toBeNull();
  });

  it('keeps failed items until retried or discarded', () => {
    const box = new Outbox(new MemoryStorage(), 'ob');
    box.add({ channel_id: 1, body: 'x' }, 'c1');
    box.markSending('c1');
    box.markFailed('c1', 'archived');
    expect(box.get('c1')).toMatchObject({ state: 'failed', error: 'archived' });
    expect(box.sendable()).toHaveLength(0);
    box.resetSending();
    expect(box.get('c1')?.state).toBe('failed');
    box.retry('c1');
    expect(box.get('c1')).toEqual(expect.objectContaining({ state: 'pending' }));
    expect(box.get('c1')).not.toHaveProperty('error');
    box.remove('c1');
    expect(box.all()).toHaveLength(0);
  });

  it('ignores corrupt storage', () => {
    const store = new MemoryStorage();
    store.setItem('ob', '{not json');
    expect(new Outbox(store, 'ob').all()).toEqual([]);
    store.setItem('ob', JSON.stringify([{ client_id: 'bad id!', channel_id: 1, body: 'x', thread_root: null, created_at: 1 }, 5]));
    expect(new Outbox(store, 'ob').all()).toEqual([]);
  });

  it('picks up changes made by another tab', () => {
    const store = new MemoryStorage();
    const a = new Outbox(store, 'ob');
    const b = new Outbox(store, 'ob');
    a.add({ channel_id: 1, body: 'x' }, 'c1');
    b.reload();
    expect(b.all().map((i) => i.client_id)).toEqual(['c1']);
  });

  it('notifies subscribers', () => {
    const box = new Outbox(null, 'ob');
    let calls = 0;
    const off = box.subscribe(() => calls++);
    box.add({ channel_id: 1, body: 'x' }, 'c1');
    box.confirm({ client_id: 'c1' });
    off();
    box.add({ channel_id: 1, body: 'y' }, 'c2');
    expect(calls).toBe(2);
  });
});

describe('Outbox with attachments', () => {
  const file = { id: 'f1', name: 'a.pdf' } as import('../api').FileView;

  it('keeps the file ids across a reload; a text message has none', () => {
    const store = new MemoryStorage();
    const box = new Outbox(store, 'ob');
    box.add({ channel_id: 1, body: '', files: [file] }, 'c1', 1);
    box.add({ channel_id: 1, body: 'text', files: [] }, 'c2', 2);
    const again = new Outbox(store, 'ob');
    expect(again.get('c1')).toMatchObject({ body: '', attachments: ['f1'], files: [file] });
    expect(again.get('c2')).not.toHaveProperty('attachments');
  });

  it('drops stored items whose attachments are malformed', () => {
    const store = new MemoryStorage();
    const item = { client_id: 'c1', channel_id: 1, thread_root: null, body: '', created_at: 1, state: 'pending' };
    store.setItem('ob', JSON.stringify([{ ...item, attachments: [1] }, { ...item, client_id: 'c2', attachments: ['f'] }]));
    expect(new Outbox(store, 'ob').all().map((i) => i.client_id)).toEqual(['c2']);
  });
});

describe('client ids', () => {
  it('are valid for the server', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = newClientId();
      expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(200);
  });

  it('classifies permanent errors', () => {
    expect(isPermanentError('archived')).toBe(true);
    expect(isPermanentError('rate-limited')).toBe(false);
    expect(isPermanentError('too-many-pending')).toBe(false);
  });
});
