// The "More actions" menu of a message: quote reply, forward, save, copy link, edit history.

import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Message } from '../../api';
import { useChat } from '../../chat/client';
import { conversationKey } from '../../chat/files';
import { messageLink } from '../../chat/messages';
import { useStore } from '../../chat/store';
import { copyText } from '../../components/CopyField';
import { menuFocusOut, menuKeyDown, useOutsidePress } from '../../components/menu';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { startQuote } from './compose';
import { openDialog, showToast } from './ui';

/** The composer a quote reply goes to: the thread's when the message is shown in its thread. */
export function quoteConversation(m: Pick<Message, 'id' | 'channel_id' | 'thread_root'>, inThread: boolean): string {
  return conversationKey(m.channel_id, inThread ? (m.thread_root ?? m.id) : null);
}

/** Copies a link; where the Clipboard API is refused, through a selection of it. */
async function copyLink(link: string): Promise<boolean> {
  if (await copyText(link)) return true;
  const el = document.createElement('span');
  el.textContent = link;
  el.className = 'visually-hidden';
  document.body.append(el);
  try {
    return await copyText(link, el);
  } finally {
    el.remove();
  }
}

export function MessageMenu({ message: m, inThread, onOpenChange }: { message: Message; inThread: boolean; onOpenChange?: (open: boolean) => void }) {
  const client = useChat();
  const saved = useStore(client.store, (s) => s.saved?.has(m.id) ?? false);
  const [open, setOpenState] = useState(false);
  const [up, setUp] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  const setOpen = (value: boolean) => {
    setOpenState(value);
    onOpenChange?.(value);
  };
  const close = (focusButton = true) => {
    setOpen(false);
    if (focusButton) button.current?.focus();
  };

  // Opens downwards, or upwards when there is more room above (the last messages).
  useLayoutEffect(() => {
    if (!open) return;
    const el = menu.current;
    if (!el) return;
    const box = el.closest('.messages, .thread-list, .panel-body, .results') ?? document.documentElement;
    const area = box.getBoundingClientRect();
    const anchor = button.current!.getBoundingClientRect();
    const height = el.offsetHeight;
    const below = Math.min(area.bottom, window.innerHeight) - anchor.bottom;
    const above = anchor.top - Math.max(area.top, 0);
    setUp(below < height + 8 && above > below);
    el.querySelector<HTMLElement>('[role=menuitem]')?.focus();
  }, [open]);

  useOutsidePress(open, menu, button, close);

  const run = (fn: () => void | Promise<void>) => () => {
    // Back on the button first: the item's dialog returns the focus there, and an item that
    // opens nothing (copy the link) leaves it there rather than nowhere.
    close(true);
    void (async () => {
      try {
        await fn();
      } catch (err) {
        showToast(describeError(err));
      }
    })();
  };

  const items: { key: string; label: string; action: () => void }[] = [
    {
      key: 'quote',
      label: t('msg.quote'),
      action: run(() => startQuote(quoteConversation(m, inThread), m)),
    },
    { key: 'forward', label: t('msg.forward'), action: run(() => openDialog({ type: 'forward', message: m })) },
    {
      key: 'save',
      label: saved ? t('saved.remove') : t('saved.save'),
      action: run(async () => {
        await client.setSaved(m.id, !saved);
        showToast(saved ? t('saved.removed') : t('saved.added'));
      }),
    },
    {
      key: 'link',
      label: t('msg.copyLink'),
      action: run(async () => {
        const link = messageLink(location.origin, m);
        showToast((await copyLink(link)) ? t('msg.linkCopied') : t('msg.linkCopyFailed', { link }), 8000);
      }),
    },
  ];
  if (m.edited) {
    items.push({ key: 'edits', label: t('msg.editHistory'), action: run(() => openDialog({ type: 'edits', message: m })) });
  }

  const onKeyDown = (e: KeyboardEvent) => menuKeyDown(e, menu.current, close);


  return (
    <>
      <button
        ref={button}
        type="button"
        class="msg-act msg-more"
        aria-label={t('msg.more')}
        title={t('msg.more')}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => (open ? close() : setOpen(true))}
      >
        <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <circle cx="3.5" cy="8" r="1.3" class="icon-fill" />
          <circle cx="8" cy="8" r="1.3" class="icon-fill" />
          <circle cx="12.5" cy="8" r="1.3" class="icon-fill" />
        </svg>
      </button>
      {open && (
        <div ref={menu} class={up ? 'popup-menu msg-menu msg-menu-up' : 'popup-menu msg-menu'} role="menu" aria-label={t('msg.more')} onKeyDown={onKeyDown} onFocusOut={(e) => menuFocusOut(e, menu.current, button.current, close)}>
          {items.map((item) => (
            <button key={item.key} type="button" role="menuitem" class="popup-menu-item msg-menu-item" data-action={item.key} tabIndex={-1} onClick={item.action}>
              {item.label}
            </button>
          ))}
        </div>
      )}
    </>
  );
}
