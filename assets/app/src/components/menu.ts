// The behaviour every popup menu shares (the WAI-ARIA menu button pattern): a press outside the
// menu and its button closes it, and so does the focus moving elsewhere; arrows, Home and End
// move between items; Escape closes it and gives the focus back to the button; Tab leaves it;
// choosing an item gives the focus back to the button before the item acts.

import type { RefObject } from 'preact';
import { useEffect } from 'preact/hooks';

/** Closes the menu when a press lands outside it and its button. */
export function useOutsidePress(
  open: boolean,
  menu: RefObject<HTMLElement | null>,
  button: RefObject<HTMLElement | null>,
  close: (focusButton: boolean) => void,
): void {
  useEffect(() => {
    if (!open) return;
    const onDown = (e: Event) => {
      const target = e.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) close(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('touchstart', onDown);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('touchstart', onDown);
    };
  }, [open]);
}

/** The menu's keyboard: call from the menu element's `onKeyDown`. */
export function menuKeyDown(e: KeyboardEvent, menu: HTMLElement | null, close: (focusButton: boolean) => void): void {
  const list = [...(menu?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
  const at = list.indexOf(document.activeElement as HTMLElement);
  if (e.key === 'Escape') {
    e.preventDefault();
    // Only the menu closes, not the dialog or panel around it.
    e.stopPropagation();
    close(true);
  } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    const next = e.key === 'ArrowDown' ? (at + 1) % list.length : (at - 1 + list.length) % list.length;
    list[next]?.focus();
  } else if (e.key === 'Home' || e.key === 'End') {
    e.preventDefault();
    list[e.key === 'Home' ? 0 : list.length - 1]?.focus();
  } else if (e.key === 'Tab') {
    close(false);
  }
}

/**
 * The menu's `onFocusOut`: the focus moved to something outside the menu and its button (a
 * script, a click on another control), so the menu closes rather than stay open behind it.
 */
export function menuFocusOut(
  e: FocusEvent,
  menu: HTMLElement | null,
  button: HTMLElement | null,
  close: (focusButton: boolean) => void,
): void {
  const to = e.relatedTarget;
  // No new target: the window lost the focus, or a press on something that takes none. Safari
  // does not focus a button it clicks, so a press on an item lands here before its click: the
  // menu must stay for that click (a press outside is `useOutsidePress`'s).
  if (!(to instanceof Node)) return;
  if (menu?.contains(to) || button?.contains(to)) return;
  close(false);
}
