// What the app keeps in localStorage for one signed-in person: the outbox, the drafts, the
// resume position of the event stream, the last conversation open. All of it names the user
// in its key, so signing out (or the session ending, or someone else signing in) can remove it
// by prefix without knowing every conversation it touched. Settings of the device itself (the
// language, the call devices, the voice speed) are not anyone's and stay.

import type { KeyValueStore } from './logic';

export const outboxKey = (userId: number): string => `outpost.outbox.${userId}`;
export const positionKey = (userId: number): string => `outpost.pos.${userId}`;
export const lastChannelKey = (userId: number): string => `outpost.lastChannel.${userId}`;
export function draftKey(userId: number, channelId: number, threadRoot: number | null): string {
  return `outpost.draft.${userId}.${channelId}${threadRoot !== null ? `.${threadRoot}` : ''}`;
}

/** Keys made by the functions above; the first group is the user's id. */
const USER_KEY = /^outpost\.(?:outbox|pos|lastChannel)\.(\d+)$|^outpost\.draft\.(\d+)\./;

/** The user a key of this app belongs to, or null for a key that is nobody's. */
export function keyOwner(key: string): number | null {
  const m = USER_KEY.exec(key);
  const id = m ? Number(m[1] ?? m[2]) : NaN;
  return Number.isSafeInteger(id) ? id : null;
}

function localStore(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

/**
 * Users whose data this page erased. A component still on screen may write once more while it
 * goes (the composer saves its draft when it unmounts, the chat client may note a position
 * while it stops): those late writes are dropped, else they would bring the data back.
 */
const erased = new Set<number>();

/** The server confirmed `userId` is signed in here again: their data may be kept again. */
export function allowUserData(userId: number): void {
  erased.delete(userId);
}

/**
 * Removes the keys of the users `whose` picks (of everyone when omitted) and returns their ids.
 * Later writes of theirs from this page are dropped until `allowUserData`.
 */
export function eraseUserKeys(whose: (userId: number) => boolean = () => true, store: Storage | null = localStore()): number[] {
  const owners = new Set<number>();
  if (!store) return [];
  try {
    const keys: string[] = [];
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (key !== null) keys.push(key);
    }
    // Collected first: removing while walking the indexes would skip keys.
    for (const key of keys) {
      const owner = keyOwner(key);
      if (owner === null || !whose(owner)) continue;
      owners.add(owner);
      store.removeItem(key);
    }
  } catch {
    // Storage unavailable: nothing was kept there either.
  }
  for (const id of owners) erased.add(id);
  return [...owners];
}

/** Removes every key of `userId`, and drops their late writes from this page. */
export function eraseUserData(userId: number, store: Storage | null = localStore()): void {
  eraseUserKeys((id) => id === userId, store);
  erased.add(userId);
}

/**
 * localStorage for `userId`'s own keys: reads as usual, writes nothing once their data was
 * erased here. Resolved on each call, so it follows a storage replaced in tests.
 */
export function userStorage(userId: number): KeyValueStore {
  return {
    getItem: (key) => localStore()?.getItem(key) ?? null,
    setItem: (key, value) => {
      if (!erased.has(userId)) localStore()?.setItem(key, value);
    },
    removeItem: (key) => localStore()?.removeItem(key),
  };
}
