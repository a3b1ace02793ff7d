// A message's files: photos as thumbnails (space reserved from their size, a
// click opens the viewer), videos and audio in the browser's own players,
// anything else as a download card; voice messages in the voice player.

import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { FileView, Message } from '../../api';
import { ChatContext } from '../../chat/client';
import { fileTypeLabel, fitWithin } from '../../chat/files';
import { useSavedThumbnail } from '../../chat/offline';
import { Store, useStore } from '../../chat/store';
import { isVoice } from '../../chat/voice';
import { formatFileSize } from '../../format';
import { getLocale, t } from '../../i18n';
import { VoicePlayer } from './Voice';

/**
 * `message` (and `inThread`, when shown in its thread): the message the files belong to, so
 * a voice message that ends starts the next one below it.
 */
export function Attachments({ files, message, inThread }: { files: readonly FileView[]; message?: Message; inThread?: boolean }) {
  const [viewing, setViewing] = useState<FileView | null>(null);
  if (!files.length) return null;
  return (
    <div class="atts">
      {files.map((f) => {
        switch (f.kind) {
          case 'image':
            return <ImageThumb key={f.id} file={f} onOpen={() => setViewing(f)} />;
          case 'video':
            return <VideoPlayer key={f.id} file={f} />;
          case 'audio':
            return isVoice(f) ? (
              <VoicePlayer key={f.id} file={f} message={message} inThread={inThread} />
            ) : (
              <AudioPlayer key={f.id} file={f} />
            );
          default:
            return <FileCard key={f.id} file={f} />;
        }
      })}
      {viewing && <Lightbox file={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}

/** Stands in for the chat client where there is none (a view rendered on its own, in tests). */
const noChat = new Store({ cached: false });

function ImageThumb({ file, onOpen }: { file: FileView; onOpen: () => void }) {
  const box = fitWithin(file.width, file.height);
  // Without the server (the app shows its saved copy, or this image failed to load) the
  // thumbnail this device saved stands in.
  const client = useContext(ChatContext);
  const reading = useStore(client?.store ?? noChat, (s) => s.cached);
  const [failed, setFailed] = useState(false);
  const saved = useSavedThumbnail(file, reading || failed);
  const src = saved === undefined ? undefined : (saved ?? file.thumb_url ?? file.url);
  return (
    <button
      type="button"
      class="att-image"
      data-file-id={file.id}
      aria-label={t('file.open', { name: file.name })}
      title={file.name}
      onClick={onOpen}
    >
      <img
        class="att-img"
        src={src}
        alt={file.name}
        data-saved={saved ? '' : undefined}
        onError={() => setFailed(true)}
        width={box?.width}
        height={box?.height}
        loading="lazy"
        decoding="async"
      />
    </button>
  );
}

function VideoPlayer({ file }: { file: FileView }) {
  const box = fitWithin(file.width, file.height);
  return (
    <figure class="att-video-box" data-file-id={file.id}>
      <video
        class={box ? 'att-video' : 'att-video att-video-unsized'}
        src={file.url}
        poster={file.poster_url ?? undefined}
        controls
        preload="metadata"
        playsInline
        width={box?.width}
        height={box?.height}
        aria-label={t('file.video', { name: file.name })}
      />
      <Caption file={file} />
    </figure>
  );
}

function AudioPlayer({ file }: { file: FileView }) {
  return (
    <figure class="att-audio" data-file-id={file.id}>
      <Caption file={file} />
      <audio class="att-audio-player" src={file.url} controls preload="metadata" aria-label={t('file.audio', { name: file.name })} />
    </figure>
  );
}

/** The name, size and a download link under a player. */
function Caption({ file }: { file: FileView }) {
  return (
    <figcaption class="att-caption">
      <span class="att-name" title={file.name}>
        {file.name}
      </span>
      <span class="att-meta">{formatFileSize(file.size, getLocale())}</span>
      <a class="att-download" href={file.url} download={file.name} aria-label={t('file.downloadName', { name: file.name })}>
        {t('file.download')}
      </a>
    </figcaption>
  );
}

/** Types the server shows in the browser (`/view`): PDF in the browser's own viewer, text as text. */
export function readableInBrowser(mime: string): boolean {
  return mime === 'application/pdf' || mime === 'text/plain';
}

function FileCard({ file }: { file: FileView }) {
  if (!readableInBrowser(file.mime)) return <FileLink file={file} />;
  return (
    <span class="att-card-wrap" data-file-id={file.id}>
      <FileLink file={file} inWrap />
      <a class="btn btn-secondary btn-small att-view" href={`${file.url}/view`} target="_blank" rel="noopener">
        {t('file.read')}
      </a>
    </span>
  );
}

function FileLink({ file, inWrap = false }: { file: FileView; inWrap?: boolean }) {
  const type = fileTypeLabel(file.name, file.mime) ?? t('file.generic');
  return (
    <a
      class="att-card"
      data-file-id={inWrap ? undefined : file.id}
      href={file.url}
      download={file.name}
      aria-label={t('file.downloadName', { name: file.name })}
      title={file.name}
    >
      <FileIcon />
      <span class="att-card-text">
        <span class="att-name">{file.name}</span>
        <span class="att-meta">{t('file.meta', { size: formatFileSize(file.size, getLocale()), type })}</span>
      </span>
      <svg class="att-card-dl" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
        <path d="M8 2v8M4.5 7L8 10.5 11.5 7M3 13.5h10" class="icon-stroke" />
      </svg>
    </a>
  );
}

export function FileIcon() {
  return (
    <svg class="att-icon" width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d="M6 2.5h8l4.5 4.5v14.5H6z" class="icon-stroke" />
      <path d="M14 2.5V7h4.5M9 12h6M9 15.5h6" class="icon-stroke" />
    </svg>
  );
}

/** A photo over the page (native modal <dialog>: focus stays inside, Escape closes). */
export function Lightbox({ file, onClose }: { file: FileView; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(typeof document !== 'undefined' ? document.activeElement : null);
  useEffect(() => {
    const el = ref.current;
    if (el && !el.open) {
      if (typeof el.showModal === 'function') el.showModal();
      else el.setAttribute('open', '');
    }
    return () => {
      const prev = opener.current;
      if (prev instanceof HTMLElement && prev.isConnected) prev.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="lightbox"
      aria-label={t('file.viewer')}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onKeyDown={(e) => {
        // Handled here so the side panel under it does not close too.
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        }
      }}
      onClick={(e) => {
        if (e.target === ref.current || (e.target as Element).classList?.contains('lightbox-stage')) onClose();
      }}
    >
      <div class="lightbox-bar">
        <span class="lightbox-name">{file.name}</span>
        <a class="btn btn-secondary btn-small" href={file.url} download={file.name}>
          {t('file.download')}
        </a>
        <button type="button" class="icon-btn lightbox-close" aria-label={t('panel.close')} onClick={onClose}>
          <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d="M3 3l10 10M13 3L3 13" class="icon-stroke" />
          </svg>
        </button>
      </div>
      <div class="lightbox-stage">
        <img class="lightbox-img" src={file.preview_url ?? file.url} alt={file.name} />
      </div>
    </dialog>
  );
}
