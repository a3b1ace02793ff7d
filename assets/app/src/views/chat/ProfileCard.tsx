import { useContext, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, chatApi, type PersonView } from '../../api';
import { useChat } from '../../chat/client';
import { useStore } from '../../chat/store';
import { Alert } from '../../components/Alert';
import { BotTag } from '../../components/BotTag';
import { Button } from '../../components/Button';
import { Loading } from '../../components/Loading';
import { CallsContext } from '../../calls/context';
import { describeError } from '../../errors';
import { getLocale, t } from '../../i18n';
import { displayNameWithSite } from '../../links';
import { telHref } from '../../profile';
import { activeStatus, formatUntil, statusEmoji } from '../../status';
import { channelPath, navigate } from '../../router';
import { useSession } from '../../session';
import { Avatar } from './Avatar';
import { openDialog, openProfile, ui } from './ui';

/** The profile card someone opened (`openProfile`), if any. */
export function ProfileCardHost() {
  const open = useStore(ui, (s) => s.profile);
  if (!open) return null;
  return <ProfileCard key={open.userId} userId={open.userId} anchor={open.anchor} onClose={() => openProfile(null)} />;
}

/** The time now in a person's time zone ("14:05"), or null when they share none or it is unknown. */
export function localTime(timeZone: string | undefined, now: Date = new Date(), locale = getLocale()): string | null {
  if (!timeZone) return null;
  try {
    return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone }).format(now);
  } catch {
    return null;
  }
}

/** Space kept between the card and the window's edges, and the element it was opened from. */
const MARGIN = 8;
const GAP = 6;

/**
 * A person's profile: photo, names, job title, department, phone, about, presence, and a
 * "Message" button that opens the direct conversation. A modal <dialog> (so it also sits above
 * another dialog, such as a channel's members): beside the name or avatar it was opened from on
 * wide screens, in the middle of phone-sized ones. Escape and a click outside close it.
 */
export function ProfileCard({ userId, anchor, onClose }: { userId: number; anchor: HTMLElement | null; onClose: () => void }) {
  const client = useChat();
  const calls = useContext(CallsContext);
  const { user: me } = useSession();
  const person = useStore(client.store, (s) => s.people.get(userId));
  const [profile, setProfile] = useState<PersonView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(typeof document !== 'undefined' ? document.activeElement : null);

  useEffect(() => {
    let cancelled = false;
    api.user(userId).then(
      (u) => {
        if (!cancelled) setProfile(u);
      },
      (err) => {
        if (!cancelled) setError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [userId]);

  // Opened before it is placed (a closed dialog has no size to measure).
  useLayoutEffect(() => {
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

  // Beside the anchor: below it, or above when there is no room below (the height changes
  // once the profile has loaded, so on every render). Phone-sized screens centre it in CSS.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || !anchor?.isConnected || typeof window === 'undefined') return;
    const at = anchor.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    const left = Math.max(MARGIN, Math.min(at.left, window.innerWidth - box.width - MARGIN));
    let top = at.bottom + GAP;
    if (top + box.height > window.innerHeight - MARGIN) top = Math.max(MARGIN, at.top - GAP - box.height);
    el.style.setProperty('--card-left', `${Math.round(left)}px`);
    el.style.setProperty('--card-top', `${Math.round(top)}px`);
  });

  // The people list first: `user.updated` keeps it current while the card is open.
  const shown = person ?? profile;
  const name = shown ? shown.display_name || shown.username : '';
  const username = shown?.username ?? '';
  const photo = shown?.photo_url ?? null;
  const title = person?.title ?? profile?.title ?? '';
  const department = person?.department ?? profile?.department ?? '';
  const phone = person?.phone ?? profile?.phone ?? '';
  const about = person?.about ?? profile?.about ?? '';
  const isBot = person?.is_bot ?? profile?.is_bot ?? false;
  const deactivated = person?.deactivated ?? profile?.deactivated ?? false;
  const status = activeStatus(person ? person.status : profile?.status);
  const presence = deactivated ? undefined : person?.presence;
  // Known people, not oneself, not deactivated.
  const canMessage = userId !== me.id && !deactivated && (profile !== null || person !== undefined);

  const zone = (person as PersonView | undefined)?.time_zone || profile?.time_zone || '';
  const local = localTime(zone);

  /** Opens the direct conversation with this person, and with `call` rings them there. */
  async function message(call = false) {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const c = await chatApi.openDirect([userId]);
      client.addChannel(c);
      onClose();
      openDialog(null);
      navigate(channelPath(c.id));
      if (call && calls) void calls.startCall(c.id);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  const known = name !== '';
  return (
    <dialog
      ref={ref}
      class={anchor ? 'profile-card' : 'profile-card profile-card-center'}
      aria-labelledby={known ? 'profile-card-name' : undefined}
      aria-label={known ? undefined : t('app.loading')}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        }
      }}
      onClick={(e) => {
        // The backdrop (outside the card's box) belongs to the dialog itself.
        if (e.target === ref.current) onClose();
      }}
    >
      <div class="pc-box" data-user-id={userId}>
        <button type="button" class="icon-btn pc-close" aria-label={t('panel.close')} onClick={onClose}>
          <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
            <path d="M3 3l10 10M13 3L3 13" class="icon-stroke" />
          </svg>
        </button>
        {known && (
          <div class="pc-head">
            <Avatar id={userId} name={name} size="xl" photo={photo} />
            <div class="pc-names">
              <h2 id="profile-card-name" class="pc-name">
                {shown ? displayNameWithSite({ ...shown, site: person?.site ?? profile?.site }) : name}
                {isBot && <> <BotTag kind="bot" /></>}
              </h2>
              <p class="pc-username">@{username}</p>
              {presence && (
                <p class="pc-presence">
                  <span class={`presence-dot presence-${presence}`} aria-hidden="true" />
                  {t(`presence.${presence}`)}
                </p>
              )}
            </div>
          </div>
        )}
        {known && status && (
          <p class="pc-status">
            <span class="pc-status-emoji">{statusEmoji(status)}</span>
            {status.text && <span class="pc-status-text">{status.text}</span>}
            {status.expires_at !== null && <span class="pc-status-until">{formatUntil(status.expires_at)}</span>}
          </p>
        )}
        {known && local && !deactivated && (
          <p class="pc-local-time">{t('card.localTime', { time: local })}</p>
        )}
        {deactivated && <p class="pc-deactivated">{t('card.deactivated')}</p>}
        {error && <Alert>{error}</Alert>}
        {!profile && !error && <Loading />}
        {(title || department || phone || about) && (
          <dl class="pc-fields">
            {title && (
              <div class="pc-field">
                <dt>{t('field.jobTitle')}</dt>
                <dd class="pc-title">{title}</dd>
              </div>
            )}
            {department && (
              <div class="pc-field">
                <dt>{t('field.department')}</dt>
                <dd class="pc-department">{department}</dd>
              </div>
            )}
            {phone && (
              <div class="pc-field">
                <dt>{t('field.phone')}</dt>
                <dd>
                  <a class="pc-phone" href={telHref(phone)}>
                    {phone}
                  </a>
                </dd>
              </div>
            )}
            {about && (
              <div class="pc-field">
                <dt>{t('field.about')}</dt>
                <dd class="pc-about">{about}</dd>
              </div>
            )}
          </dl>
        )}
        {canMessage && (
          <div class="pc-actions">
            <Button busy={busy} onClick={() => void message()}>
              {t('card.message')}
            </Button>
            {calls && !isBot && (
              <Button variant="secondary" disabled={busy} onClick={() => void message(true)}>
                {t('card.call')}
              </Button>
            )}
          </div>
        )}
      </div>
    </dialog>
  );
}
