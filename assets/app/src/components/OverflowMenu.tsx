// A "⋯ More" button with a menu of actions, for places too narrow for a row of buttons.
// The WAI-ARIA menu button pattern: the first item takes the focus when the menu opens, arrows,
// Home and End move between items, Escape closes it and gives the focus back to the button, as
// does choosing an item (else the focus would be lost with the item); the focus moving
// elsewhere closes it.

import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { menuFocusOut, menuKeyDown, useOutsidePress } from './menu';

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

  useOutsidePress(open, menu, button, close);
  const onKeyDown = (e: KeyboardEvent) => menuKeyDown(e, menu.current, close);

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
        <div
          ref={menu}
          id={id}
          class="popup-menu overflow-menu"
          role="menu"
          aria-label={menuLabel}
          onKeyDown={onKeyDown}
          onFocusOut={(e) => menuFocusOut(e, menu.current, button.current, close)}
        >
          {items.map((item) => (
            <button
              key={item.key}
              type="button"
              role="menuitem"
              tabIndex={-1}
              class={item.danger ? 'popup-menu-item overflow-item overflow-item-danger' : 'popup-menu-item overflow-item'}
              data-action={item.key}
              onClick={() => {
                // Back on the button first: what the item opens (a dialog, a panel) takes the
                // focus from there and gives it back there when it closes.
                close(true);
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
