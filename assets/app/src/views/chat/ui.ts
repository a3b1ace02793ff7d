// UI state shared by the chat views: the side panel and the open dialog.

import type { Message } from '../../api';
import { Store } from '../../chat/store';

export type Panel =
  /** `seq`: a reply to show (opened from a link). */
  | { type: 'thread'; rootId: number; channelId: number; seq?: number }
  | { type: 'search'; query: string }
  | { type: 'pins'; channelId: number }
  | { type: 'mentions' }
  | { type: 'saved' }
  | null;

export type Dialog =
  | 'create'
  | 'browse'
  | 'direct'
  | 'switcher'
  | 'status'
  | { type: 'details'; channelId: number }
  | { type: 'forward'; message: Message }
  | { type: 'edits'; message: Message }
  | null;

/** The profile card open over the page: whose, and the element it was opened from (it sits beside it). */
export interface ProfileCardState {
  userId: number;
  anchor: HTMLElement | null;
}

export interface UiState {
  panel: Panel;
  dialog: Dialog;
  profile: ProfileCardState | null;
  /** A message to highlight after a jump (its id). */
  highlight: number | null;
  /** Bumped to show the message of the `?m=` route again (a jump to where the page already is). */
  jumpRequest: number;
  /** A short notice at the bottom of the screen ("Link copied"), until it times out. */
  toast: { text: string; id: number } | null;
}

export const ui = new Store<UiState>({
  panel: null,
  dialog: null,
  profile: null,
  highlight: null,
  jumpRequest: 0,
  toast: null,
});

export function openPanel(panel: Panel): void {
  ui.set({ panel });
}

export function openDialog(dialog: Dialog): void {
  ui.set({ dialog });
}

/** Opens a person's profile card beside `anchor` (or closes it with null). */
export function openProfile(userId: number | null, anchor: HTMLElement | null = null): void {
  ui.set({ profile: userId === null ? null : { userId, anchor } });
}

let toastTimer: ReturnType<typeof setTimeout> | null = null;

/** Shows a short notice for a few seconds. */
export function showToast(text: string, ms = 4000): void {
  const id = (ui.get().toast?.id ?? 0) + 1;
  ui.set({ toast: { text, id } });
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toastTimer = null;
    if (ui.get().toast?.id === id) ui.set({ toast: null });
  }, ms);
}
