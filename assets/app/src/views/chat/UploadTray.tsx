// The files waiting in the composer: one row each with its name, size,
// progress and a cancel button; failures show why, with a retry. Plus the
// drag-and-drop zone for a conversation.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useChat } from '../../chat/client';
import { MAX_ATTACHMENTS } from '../../chat/files';
import { useStore } from '../../chat/store';
import type { PendingUpload } from '../../chat/uploads';
import { formatFileSize } from '../../format';
import { getLocale, t } from '../../i18n';
import { FileIcon } from './Attachments';

/** The uploads of one conversation (re-renders when they change). */
export function useUploads(conversation: string): PendingUpload[] {
  const client = useChat();
  const items = useStore(client.uploads.store, (s) => s.items);
  return useMemo(() => items.filter((u) => u.conversation === conversation), [items, conversation]);
}

export function UploadTray({ conversation }: { conversation: string }) {
  const client = useChat();
  const uploads = useUploads(conversation);
  const full = useStore(client.uploads.store, (s) => s.full.includes(conversation));
  if (!uploads.length && !full) return null;
  return (
    <div class="upload-tray">
      {full && (
        <p class="upload-notice" role="status">
          {t('upload.tooMany', { n: MAX_ATTACHMENTS })}
        </p>
      )}
      {uploads.length > 0 && (
        <ul class="upload-list" aria-label={t('upload.tray')}>
          {uploads.map((u) => (
            <UploadRow key={u.key} upload={u} />
          ))}
        </ul>
      )}
    </div>
  );
}

function statusText(u: PendingUpload, locale: string): string {
  switch (u.state) {
    case 'queued':
      return t('upload.queued');
    case 'preparing':
      return t('upload.preparing');
    case 'uploading':
      return t('upload.progress', { sent: formatFileSize(u.sent, locale), total: formatFileSize(u.size, locale) });
    case 'retrying':
      return t('upload.retrying');
    case 'finishing':
      return t('upload.finishing');
    case 'done':
      return t('upload.done');
    case 'failed':
      return u.error ?? '';
  }
}

function UploadRow({ upload: u }: { upload: PendingUpload }) {
  const client = useChat();
  const locale = getLocale();
  const active = u.state !== 'done' && u.state !== 'failed';
  return (
    <li class={`upload upload-${u.state}`} data-upload={u.key} data-state={u.state}>
      {u.preview ? <img class="upload-thumb" src={u.preview} alt="" /> : <FileIcon />}
      <div class="upload-main">
        <div class="upload-head">
          <span class="upload-name" title={u.name}>
            {u.voice ? t('voice.message') : u.name}
          </span>
          <span class="upload-size">{formatFileSize(u.size, locale)}</span>
        </div>
        {active &&
          (u.state === 'queued' || u.state === 'preparing' ? (
            <progress key="wait" class="upload-progress" aria-label={u.name} />
          ) : (
            <progress key="bytes" class="upload-progress" max={u.size} value={u.sent} aria-label={u.name} />
          ))}
        <span class="upload-status" role={u.state === 'failed' ? 'alert' : undefined}>
          {statusText(u, locale)}
        </span>
      </div>
      {u.state === 'failed' && (
        <button
          type="button"
          class="btn btn-secondary btn-small"
          aria-label={t('upload.retry', { name: u.name })}
          onClick={() => client.uploads.retry(u.key)}
        >
          {t('common.retry')}
        </button>
      )}
      <button
        type="button"
        class="icon-btn upload-cancel"
        aria-label={active ? t('upload.cancel', { name: u.name }) : t('upload.remove', { name: u.name })}
        title={active ? t('upload.cancel', { name: u.name }) : t('upload.remove', { name: u.name })}
        onClick={() => client.uploads.cancel(u.key)}
      >
        <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <path d="M3 3l10 10M13 3L3 13" class="icon-stroke" />
        </svg>
      </button>
    </li>
  );
}

function draggingFiles(e: DragEvent): boolean {
  const types = e.dataTransfer?.types;
  return !!types && Array.from(types).includes('Files');
}

/**
 * Drag and drop of files onto an element: spread `props` on it, show an
 * overlay while `over`. While mounted, a file dropped anywhere else on the
 * page is ignored rather than opened by the browser (leaving the app).
 */
export function useFileDrop(onFiles: (files: File[]) => void, enabled = true) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const latest = useRef(onFiles);
  latest.current = onFiles;
  useEffect(() => {
    if (!enabled) return;
    const block = (e: DragEvent) => {
      if (draggingFiles(e)) e.preventDefault();
    };
    window.addEventListener('dragover', block);
    window.addEventListener('drop', block);
    return () => {
      window.removeEventListener('dragover', block);
      window.removeEventListener('drop', block);
    };
  }, [enabled]);
  const props = {
    onDragEnter: (e: DragEvent) => {
      if (!enabled || !draggingFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setOver(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!enabled || !draggingFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: (e: DragEvent) => {
      if (!enabled || !draggingFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    },
    onDrop: (e: DragEvent) => {
      if (!enabled || !draggingFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      depth.current = 0;
      setOver(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length) latest.current(files);
    },
  };
  return { over: enabled && over, props };
}

export function DropOverlay() {
  return (
    <div class="drop-overlay" aria-hidden="true">
      <p class="drop-label">{t('upload.drop')}</p>
    </div>
  );
}
