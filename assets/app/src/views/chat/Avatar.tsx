import type { Presence } from '../../api';
import { initials } from '../../format';
import { t } from '../../i18n';

/** A generated avatar: initials on a color picked from the user id. */
export function Avatar({
  id,
  name,
  size = 'm',
  presence,
}: {
  id: number | null;
  name: string;
  size?: 's' | 'm' | 'l';
  presence?: Presence | null;
}) {
  const color = id === null ? 0 : Math.abs(id * 7) % 10;
  return (
    <span class={`av av-${size} av-c${color}`} aria-hidden="true">
      {initials(name)}
      {presence && <span class={`presence presence-${presence}`} title={t(`presence.${presence}`)} />}
    </span>
  );
}

/** The avatar of a sender who is not a person (a webhook): a generic robot, not initials. */
export function BotAvatar({ size = 'm' }: { size?: 's' | 'm' | 'l' }) {
  return (
    <span class={`av av-${size} av-bot`} aria-hidden="true">
      <svg class="av-bot-icon" viewBox="0 0 24 24" focusable="false">
        <path d="M12 3v3M8 21h8M6 7h12a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V9a2 2 0 0 1 2-2z" class="icon-stroke" />
        <circle cx="9" cy="12" r="1.5" class="icon-fill" />
        <circle cx="15" cy="12" r="1.5" class="icon-fill" />
      </svg>
    </span>
  );
}

/** A presence dot with an accessible name. */
export function PresenceDot({ presence }: { presence: Presence }) {
  return (
    <span class={`presence-dot presence-${presence}`} role="img" aria-label={t(`presence.${presence}`)} />
  );
}
