// A minimal observable store with a selector hook.

import { useEffect, useReducer, useRef } from 'preact/hooks';

export class Store<S> {
  private listeners = new Set<() => void>();
  constructor(private state: S) {}

  get(): S {
    return this.state;
  }

  set(patch: Partial<S> | ((s: S) => Partial<S>)): void {
    const p = typeof patch === 'function' ? patch(this.state) : patch;
    this.state = { ...this.state, ...p };
    for (const l of [...this.listeners]) l();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Re-renders the component when `select(state)` changes (by `Object.is`). */
export function useStore<S, T>(store: Store<S>, select: (s: S) => T): T {
  const [, force] = useReducer((n: number) => n + 1, 0);
  const selectRef = useRef(select);
  selectRef.current = select;
  const value = select(store.get());
  const valueRef = useRef(value);
  valueRef.current = value;
  useEffect(() => {
    const check = () => {
      const next = selectRef.current(store.get());
      if (!Object.is(next, valueRef.current)) force(0);
    };
    check();
    return store.subscribe(check);
  }, [store]);
  return value;
}
