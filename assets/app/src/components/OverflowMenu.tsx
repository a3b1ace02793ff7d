// A "⋯ More" button with a menu of actions, for places too narrow for a row of buttons.
// The WAI-ARIA menu button pattern: the first item takes the focus when the menu opens, arrows,
// Home and End move between items, Escape closes it and gives the focus back to the button.

import { useEffect, useId, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface OverflowItem {
  key: string;
  label: string;
  onSelect: () => void;
  danger?: boolean;
}

export function OverflowMenu({ label, menuLabel, items }: { label: string; menuLabel: string; items: readonly OverflowItem[] }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const id = useId();

  const close = (focusButton: boolean) => {
    setOpen(false);
    if (focusButton) button.current?.focus();
  };

  useLayoutEffect(() => {
    if (open) menu.current?.querySelector<HTMLElement>('[role=menuitem]')?.focus();
  }, [open]);

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

  const onKeyDown = (e: KeyboardEvent) => {
    const list = [...(menu.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
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
  };

  if (!items.length) return null;
  return (
    <div class="overflow">
      <button
        ref={button}
        type="button"
        class="btn btn-ghost btn-small overflow-btn"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => (open ? close(true) : setOpen(true))}
        onKeyDown={(e) => {
          // As in a native menu button, the arrow keys open the menu too.
          if (!open && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <circle cx="3.5" cy="8" r="1.3" class="icon-fill" />
          <circle cx="8" cy="8" r="1.3" class="icon-fill" />
          <circle cx="12.5" cy="8" r="1.3" class="icon-fill" />
        </svg>
        <span>{label}</span>
      </button>
      {open && (
        <div ref={menu} id={id} class="overflow-menu" role="menu" aria-label={menuLabel} onKeyDown={onKeyDown}>
          {items.map((item) => (
            <button
              key={item.key}
              type="button"
              role="menuitem"
              tabIndex={-1}
              class={item.danger ? 'overflow-item overflow-item-danger' : 'overflow-item'}
              data-action={item.key}
              onClick={() => {
                close(false);
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
