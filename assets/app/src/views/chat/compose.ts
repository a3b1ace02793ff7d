// What the composers are about to send besides their text: the message being answered (a
// quote reply), per conversation (`conversationKey`).

import type { Message } from '../../api';
import { Store } from '../../chat/store';

export interface ComposeState {
  /** The message each composer quotes. */
  quotes: ReadonlyMap<string, Message>;
  /** Bumped to move the focus to a conversation's composer. */
  focus: { conversation: string; n: number } | null;
}

export const compose = new Store<ComposeState>({ quotes: new Map(), focus: null });

/** Answers `message` from the composer of `conversation` (the preview shows there, focused). */
export function startQuote(conversation: string, message: Message): void {
  const quotes = new Map(compose.get().quotes);
  quotes.set(conversation, message);
  compose.set({ quotes, focus: { conversation, n: (compose.get().focus?.n ?? 0) + 1 } });
}

export function clearQuote(conversation: string): void {
  if (!compose.get().quotes.has(conversation)) return;
  const quotes = new Map(compose.get().quotes);
  quotes.delete(conversation);
  compose.set({ quotes });
}
