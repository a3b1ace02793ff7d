import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { CallManager } from './manager';

export const CallsContext = createContext<CallManager | null>(null);

export function useCalls(): CallManager {
  const c = useContext(CallsContext);
  if (!c) throw new Error('useCalls() outside of <CallsContext.Provider>');
  return c;
}
