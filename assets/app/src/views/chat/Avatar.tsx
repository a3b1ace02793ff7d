import { useState } from 'preact/hooks';
import type { Person, Presence, Status } from '../../api';
import { initials } from '../../format';
import { t } from '../../i18n';
import { photoSrc } from '../../profile';
import { activeStatus, formatUntil, statusEmoji } from '../../status';

/** The small photo of a person from the people list, or null (then initials). */
export function photoOf(people: ReadonlyMap<number, Person>, id: number | null): string | null {
  return id === null ? null : (people.get(id)?.photo_url ?? null);
}

/**
 * A person's avatar: their photo when they have one (`photo`, the small `photo_url`), else
 * initials on a color picked from the user id. Decorative: the name is always given next to it.
 * Size `xl` (profile card and page) shows the large photo.
 */
export function Avatar({
  id,
  name,
  size = 'm',
  presence,
  photo,
}: {
  id: number | null;
  name: string;
  size?: 's' | 'm' | 'l' | 'xl';
  presence?: Presence | null;
  photo?: string | null;
}) {
  // A photo that does not load (removed meanwhile, offline) gives way to the initials.
  const [failed, setFailed] = useState<string | null>(null);
  const src = photo ? photoSrc(photo, size === 'xl' ? 'large' : 'small') : null;
  const showPhoto = src !== null && failed !== src;
  const color = id === null ? 0 : Math.abs(id * 7) % 10;
  return (
    <span class={`av av-${size} ${showPhoto ? 'av-photo' : `av-c${color}`}`} aria-hidden="true">
      {showPhoto ? (
        <img class="av-img" src={src} alt="" loading="lazy" decoding="async" onError={() => setFailed(src)} />
      ) : (
        initials(name)
      )}
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

/**
 * A person's status emoji after their name (nothing without a status, or once it has
 * expired); its text, and until when, as the tooltip.
 */
export function StatusEmoji({ status }: { status: Status | null | undefined }) {
  const s = activeStatus(status);
  if (!s) return null;
  const emoji = statusEmoji(s);
  const text = s.text || emoji;
  const title = s.expires_at !== null ? `${text} (${formatUntil(s.expires_at)})` : text;
  return (
    <span class="status-emoji" role="img" aria-label={t('status.label', { text })} title={title}>
      {emoji}
    </span>
  );
}

/** The subtle tag after the name of someone whose account is deactivated. */
export function DeactivatedTag() {
  return (
    <span class="deactivated-tag" title={t('card.deactivated')}>
      {t('message.deactivated')}
    </span>
  );
}
