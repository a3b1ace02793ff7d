// Pure helpers for attachments: display sizes, type labels, summaries.

import type { FileView, Message } from '../api';

/** The most attachments one message may carry (the server's limit). */
export const MAX_ATTACHMENTS = 10;

/** Largest side of an image or video shown in the message list, in CSS pixels. */
export const MEDIA_BOX = 360;

/**
 * `width`×`height` scaled down (never up) to fit in `max`×`max`, keeping the
 * aspect ratio, in whole pixels of at least 1. Null when a dimension is unknown.
 */
export function fitWithin(
  width: number | null | undefined,
  height: number | null | undefined,
  max: number = MEDIA_BOX,
): { width: number; height: number } | null {
  if (!width || !height || width <= 0 || height <= 0 || !Number.isFinite(width) || !Number.isFinite(height)) return null;
  const scale = Math.min(1, max / width, max / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A short type label for a download card: the extension ("PDF"), else the MIME subtype, else null. */
export function fileTypeLabel(name: string, mime: string): string | null {
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1];
  if (ext) return ext.toUpperCase();
  const sub = /^[a-z]+\/([a-z0-9.+-]+)$/i.exec(mime)?.[1];
  if (sub && sub !== 'octet-stream') return sub.replace(/^(x-|vnd\.)/, '').toUpperCase();
  return null;
}

/** The "conversation" an upload tray belongs to: a channel, or one thread in it. */
export function conversationKey(channelId: number, threadRoot: number | null): string {
  return `${channelId}:${threadRoot ?? ''}`;
}

/** Text that stands for a message in one line (notifications, pins): its body, else its files. */
export function messageSummary(m: Pick<Message, 'body' | 'files'>): string {
  if (m.body.trim()) return m.body;
  const names = (m.files ?? []).map((f) => f.name);
  return names.length ? `📎 ${names.join(', ')}` : '';
}

/** Whether a local file is an image this browser can show as a tray thumbnail. */
export function isPreviewableImage(file: { type: string; size: number }): boolean {
  return /^image\/(jpeg|png|gif|webp|avif|bmp)$/.test(file.type) && file.size <= 40 * 1024 * 1024;
}

/** Files a message shows (a deleted message shows none). */
export function visibleFiles(m: Pick<Message, 'deleted' | 'files'>): readonly FileView[] {
  return m.deleted ? [] : (m.files ?? []);
}
