// UI state shared by the chat views: the side panel and the open dialog.

import { Store } from '../../chat/store';

export type Panel =
  | { type: 'thread'; rootId: number; channelId: number }
  | { type: 'search'; query: string }
  | { type: 'pins'; channelId: number }
  | { type: 'mentions' }
  | null;

export type Dialog =
  | 'create'
  | 'browse'
  | 'direct'
  | 'switcher'
  | 'status'
  | { type: 'details'; channelId: number }
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
}

export const ui = new Store<UiState>({ panel: null, dialog: null, profile: null, highlight: null });

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
