// UI state shared by the chat views: the side panel and the open dialog.

import { Store } from '../../chat/store';

export type Panel =
  | { type: 'thread'; rootId: number; channelId: number }
  | { type: 'search'; query: string }
  | { type: 'pins'; channelId: number }
  | { type: 'mentions' }
  | null;

export type Dialog = 'create' | 'browse' | 'direct' | 'switcher' | { type: 'details'; channelId: number } | null;

export interface UiState {
  panel: Panel;
  dialog: Dialog;
  /** A message to highlight after a jump (its id). */
  highlight: number | null;
}

export const ui = new Store<UiState>({ panel: null, dialog: null, highlight: null });

export function openPanel(panel: Panel): void {
  ui.set({ panel });
}

export function openDialog(dialog: Dialog): void {
  ui.set({ dialog });
}
