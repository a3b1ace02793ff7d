// The signed-in user, shared by the views inside the app shell.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { endServerSession, type User } from './api';
import { eraseOfflineData, forgetSignedInUser } from './chat/offline';
import { isUnauthorized } from './errors';
import { currentPath, loginPath, navigate } from './router';

export interface SessionContextValue {
  user: User;
  setUser: (user: User) => void;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession() outside of <SessionContext.Provider>');
  return value;
}

/**
 * If the error says the session is gone (401), erases the device's saved copy of it, sends
 * the user to the sign-in page (coming back here afterwards) and returns true.
 */
export function redirectIfSignedOut(err: unknown): boolean {
  if (!isUnauthorized(err)) return false;
  // The session ended: the conversations this device saved of it go too.
  void forgetSignedInUser();
  navigate(loginPath(currentPath()), { replace: true });
  return true;
}

/**
 * Signs `userId` out of this browser. What the device keeps of them goes first, whatever
 * happens next: the server may never answer. Then the server session ends, or, while the
 * server cannot be reached, the logout waits for the next start (the sign-in page says so).
 */
export async function signOutHere(userId: number): Promise<void> {
  await eraseOfflineData(userId);
  await endServerSession();
}
