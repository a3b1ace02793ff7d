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

/** A presence dot with an accessible name. */
export function PresenceDot({ presence }: { presence: Presence }) {
  return (
    <span class={`presence-dot presence-${presence}`} role="img" aria-label={t(`presence.${presence}`)} />
  );
}
