import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '../fixtures.test-util';
import {
  allowUserData,
  draftKey,
  eraseUserData,
  eraseUserKeys,
  keyOwner,
  lastChannelKey,
  outboxKey,
  positionKey,
  userStorage,
} from './userData';

let storage: MemoryStorage;

/** Everything a user leaves behind, and what belongs to the device. */
function fill(): void {
  for (const id of [7, 8]) {
    storage.setItem(outboxKey(id), '[{"client_id":"c1"}]');
    storage.setItem(positionKey(id), '1300');
    storage.setItem(lastChannelKey(id), '5');
    storage.setItem(draftKey(id, 5, null), 'half a sentence');
    storage.setItem(draftKey(id, 5, 77), 'a thread reply');
  }
  storage.setItem('outpost.language', 'ru');
  storage.setItem('outpost.callDevices', '{}');
  storage.setItem('outpost.logoutPending', '1');
}

beforeEach(() => {
  storage = new MemoryStorage();
  vi.stubGlobal('localStorage', storage);
});

afterEach(() => {
  allowUserData(7);
  allowUserData(8);
  vi.unstubAllGlobals();
});

describe('per-user keys', () => {
  it('name their owner; the device’s own keys name nobody', () => {
    expect(keyOwner(outboxKey(7))).toBe(7);
    expect(keyOwner(positionKey(12))).toBe(12);
    expect(keyOwner(lastChannelKey(3))).toBe(3);
    expect(keyOwner(draftKey(7, 5, null))).toBe(7);
    expect(keyOwner(draftKey(7, 5, 9))).toBe(7);
    for (const key of ['outpost.language', 'outpost.callDevices', 'outpost.voiceSpeed', 'outpost.offline.user', 'outpost.outbox.x']) {
      expect(keyOwner(key), key).toBeNull();
    }
  });

  it('erasing a user removes every key of theirs by prefix, and nobody else’s', () => {
    fill();
    eraseUserData(7);
    expect(storage.keys()).toEqual(
      [
        outboxKey(8),
        positionKey(8),
        lastChannelKey(8),
        draftKey(8, 5, null),
        draftKey(8, 5, 77),
        'outpost.language',
        'outpost.callDevices',
        'outpost.logoutPending',
      ].sort(),
    );
  });

  it('erasing by a rule returns whose keys went', () => {
    fill();
    expect(eraseUserKeys((id) => id !== 8).sort()).toEqual([7]);
    expect(storage.keys().filter((k) => keyOwner(k) !== null).every((k) => keyOwner(k) === 8)).toBe(true);
    expect(eraseUserKeys().sort()).toEqual([8]);
    expect(storage.keys()).toEqual(['outpost.callDevices', 'outpost.language', 'outpost.logoutPending']);
  });

  it('a late write of an erased user (a draft saved as the composer goes) does not bring it back', () => {
    const store = userStorage(7);
    store.setItem(draftKey(7, 5, null), 'before');
    eraseUserData(7);
    store.setItem(draftKey(7, 5, null), 'saved while unmounting');
    store.setItem(outboxKey(7), '[]');
    expect(storage.getItem(draftKey(7, 5, null))).toBeNull();
    expect(storage.getItem(outboxKey(7))).toBeNull();
    // Someone else's data is written as usual.
    userStorage(8).setItem(draftKey(8, 5, null), 'hello');
    expect(storage.getItem(draftKey(8, 5, null))).toBe('hello');
    // Signed in again: kept again.
    allowUserData(7);
    store.setItem(draftKey(7, 5, null), 'after');
    expect(storage.getItem(draftKey(7, 5, null))).toBe('after');
  });
});
