// Layout and input questions answered by CSS media queries, for the parts that JavaScript renders
// differently (a menu instead of a row of buttons, no keyboard hints on a touch screen).

import { useEffect, useState } from 'preact/hooks';

/** A device with a touch screen and no mouse or trackpad: nobody there presses Enter or Ctrl+K. */
export const TOUCH_ONLY = '(hover: none) and (pointer: coarse)';

/** Where a conversation's header folds its buttons into one "More" menu (phones). */
export const NARROW_HEADER = '(max-width: 640px)';

export function mediaMatches(query: string): boolean {
  return typeof window !== 'undefined' && typeof window.matchMedia === 'function' && window.matchMedia(query).matches;
}

/** Whether the query matches now; follows changes (a rotated phone, a keyboard attached to a tablet). */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => mediaMatches(query));
  useEffect(() => {
    if (typeof window === 'undefined' || typeof window.matchMedia !== 'function') return;
    const list = window.matchMedia(query);
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener?.('change', update);
    return () => list.removeEventListener?.('change', update);
  }, [query]);
  return matches;
}

/** Whether keyboard hints (shortcuts, "Enter to send") mean anything on this device. */
export function useKeyboardHints(): boolean {
  return !useMediaQuery(TOUCH_ONLY);
}
