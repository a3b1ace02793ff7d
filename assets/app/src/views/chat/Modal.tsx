import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../../i18n';

/** A modal dialog (native <dialog>: focus stays inside, Escape closes). */
export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
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
      class={wide ? 'modal modal-wide' : 'modal'}
      aria-labelledby="modal-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose();
      }}
    >
      <div class="modal-box">
        <header class="modal-head">
          <h2 id="modal-title" class="modal-title">
            {title}
          </h2>
          <button type="button" class="icon-btn" aria-label={t('panel.close')} onClick={onClose}>
            <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M3 3l10 10M13 3L3 13" class="icon-stroke" />
            </svg>
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}
