// Showing one message: in its channel (`/c/ID?m=SEQ`, highlighted) or, for a reply that
// lives only in its thread, in the thread beside the channel.

import { ApiError, messagesApi, type Message } from '../../api';
import type { ChatClient } from '../../chat/client';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { channelPath, currentPath, navigate } from '../../router';
import { openPanel, showToast, ui } from './ui';

/** Shows a message the client knows in full. */
export function showMessage(m: Pick<Message, 'id' | 'channel_id' | 'seq' | 'thread_root' | 'also_in_channel'>): void {
  if (m.thread_root !== null && !m.also_in_channel) {
    navigate(channelPath(m.channel_id));
    openPanel({ type: 'thread', rootId: m.thread_root, channelId: m.channel_id });
    ui.set({ highlight: m.id });
    return;
  }
  const path = channelPath(m.channel_id, m.seq);
  if (currentPath() === path) ui.set({ jumpRequest: ui.get().jumpRequest + 1 });
  else navigate(path);
  if (window.matchMedia?.('(max-width: 1023px)').matches && ui.get().panel?.type !== 'thread') openPanel(null);
}

/** A message loaded on this page (a channel's history or an open thread), by id. */
export function loadedMessage(client: ChatClient, id: number): Message | null {
  const s = client.state;
  for (const h of s.histories.values()) {
    const m = h.items.find((x) => x.id === id);
    if (m) return m;
  }
  for (const th of s.threads.values()) {
    const m = th.items.find((x) => x.id === id);
    if (m) return m;
  }
  return null;
}

/**
 * Shows a message by id: from what is loaded, else asked from the server (members only).
 * `notFound` is the notice when the server says no (404).
 */
export async function openMessageById(client: ChatClient, id: number, notFound: string = t('msg.notFound')): Promise<void> {
  const loaded = loadedMessage(client, id);
  if (loaded) {
    showMessage(loaded);
    return;
  }
  try {
    showMessage(await messagesApi.get(id));
  } catch (err) {
    showToast(err instanceof ApiError && err.status === 404 ? notFound : describeError(err));
  }
}
