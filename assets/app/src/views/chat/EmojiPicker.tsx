import { useEffect, useRef, useState } from 'preact/hooks';
import { searchEmoji } from '../../chat/emoji';
import { t } from '../../i18n';

/** A small emoji picker from the local list: type to filter, click or Enter to pick. */
export function EmojiPicker({ onPick, onClose, align = 'right' }: { onPick: (emoji: string) => void; onClose: () => void; align?: 'left' | 'right' }) {
  const [query, setQuery] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const list = searchEmoji(query);

  useEffect(() => {
    input.current?.focus();
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, []);

  return (
    <div
      ref={ref}
      class={`emoji-picker emoji-picker-${align}`}
      role="dialog"
      aria-label={t('emoji.title')}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <input
        ref={input}
        class="input emoji-search"
        type="search"
        placeholder={t('emoji.search')}
        aria-label={t('emoji.search')}
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && list[0]) {
            e.preventDefault();
            onPick(list[0]);
          }
        }}
      />
      <div class="emoji-grid">
        {list.map((e) => (
          <button key={e} type="button" class="emoji-btn" aria-label={e} onClick={() => onPick(e)}>
            {e}
          </button>
        ))}
        {list.length === 0 && <p class="muted">{t('emoji.none')}</p>}
      </div>
    </div>
  );
}
