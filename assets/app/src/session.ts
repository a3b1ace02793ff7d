// The signed-in user, shared by the views inside the app shell.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { User } from './api';
import { forgetSignedInUser } from './chat/offline';
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
