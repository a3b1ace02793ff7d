import type { Channel } from '../../api';
import { useChat } from '../../chat/client';
import { attentionCount, channelTitle, isDirect, mutedNow } from '../../chat/logic';
import { useStore } from '../../chat/store';
import { Link } from '../../components/Link';
import { t } from '../../i18n';
import { useKeyboardHints } from '../../media';
import { channelPath, type Route } from '../../router';
import { useSession } from '../../session';
import { activeStatus } from '../../status';
import { PresenceDot, StatusEmoji } from './Avatar';
import { openDialog, openPanel } from './ui';

function sortChannels(list: Channel[], title: (c: Channel) => string): Channel[] {
  return list.sort((a, b) => title(a).localeCompare(title(b)));
}

export function ChannelIcon({ channel }: { channel: Pick<Channel, 'kind'> }) {
  if (channel.kind === 'private') {
    return (
      <svg class="ch-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
        <path d="M4 7V5a4 4 0 1 1 8 0v2h1v8H3V7zm2 0h4V5a2 2 0 1 0-4 0z" class="icon-fill" />
      </svg>
    );
  }
  if (channel.kind === 'public') return <span class="ch-icon ch-hash" aria-hidden="true">#</span>;
  return null;
}

/** A bell with a line through it: the conversation is muted. */
export function MutedIcon({ title }: { title?: string }) {
  return (
    <svg class="muted-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      {title && <title>{title}</title>}
      <path d="M4 11V7a4 4 0 0 1 6.5-3.1M12 7v4l1.5 1.5h-11M6.5 14h3M2 2l12 12" class="icon-stroke" />
    </svg>
  );
}

export function Sidebar({ route, onNavigate, onSignOut }: { route: Route; onNavigate: () => void; onSignOut: () => void }) {
  const client = useChat();
  const { user } = useSession();
  const channels = useStore(client.store, (s) => s.channels);
  const people = useStore(client.store, (s) => s.people);
  const ready = useStore(client.store, (s) => s.ready);
  const notifications = useStore(client.store, (s) => s.notifications);
  const current = route.name === 'channel' ? route.id : null;
  const keyboardHints = useKeyboardHints();

  const all = [...channels.values()].filter((c) => !c.archived || c.id === current);
  const title = (c: Channel) => channelTitle(c, user.id, people);
  const rooms = sortChannels(all.filter((c) => !isDirect(c)), title);
  const directs = all
    .filter(isDirect)
    .sort((a, b) => b.last_seq - a.last_seq || title(a).localeCompare(title(b)));

  const now = Date.now();
  const item = (c: Channel) => {
    const name = title(c);
    const count = attentionCount(c, now);
    const muted = mutedNow(c, now);
    // A muted conversation stands out only for mentions.
    const unread = c.unread > 0 && c.id !== current && (!muted || c.mentions > 0);
    const other = c.kind === 'dm' ? c.member_ids.find((id) => id !== user.id) : undefined;
    const otherPerson = other !== undefined ? people.get(other) : undefined;
    const presence = otherPerson?.presence;
    const label = [
      c.kind === 'private' ? t('sidebar.privateChannel', { name }) : name,
      muted ? t('sidebar.mutedLabel') : '',
      count > 0 && c.id !== current ? t('sidebar.mentionsLabel', { n: count }) : unread ? t('sidebar.unreadLabel') : '',
    ]
      .filter(Boolean)
      .join(', ');
    return (
      <li key={c.id}>
        <Link
          href={channelPath(c.id)}
          class={`ch-link${unread ? ' ch-unread' : ''}${muted ? ' ch-muted' : ''}`}
          current={c.id === current}
          onNavigate={onNavigate}
          label={label}
          data={{ channel: c.id }}
        >
          {isDirect(c) ? (
            c.kind === 'dm' && presence ? (
              <PresenceDot presence={presence} />
            ) : (
              <span class="ch-icon ch-group" aria-hidden="true">
                {c.member_ids.length - 1}
              </span>
            )
          ) : (
            <ChannelIcon channel={c} />
          )}
          <span class="ch-name">{name}</span>
          {otherPerson && <StatusEmoji status={otherPerson.status} />}
          {muted && <MutedIcon />}
          {count > 0 && c.id !== current && (
            <span class="ch-badge" aria-hidden="true">
              {count}
            </span>
          )}
        </Link>
      </li>
    );
  };

  return (
    <nav id="sidebar" class="sidebar" aria-label={t('shell.navigation')}>
      <ul class="nav-list">
        <li>
          <button
            type="button"
            class="nav-link nav-btn"
            title={keyboardHints ? t('shell.keyboardHint') : undefined}
            onClick={() => openDialog('switcher')}
          >
            {t('sidebar.jump')}
            {keyboardHints && <kbd class="kbd kbd-hint">{t('sidebar.jumpKey')}</kbd>}
          </button>
        </li>
        <li>
          <button
            type="button"
            class="nav-link nav-btn"
            onClick={() => {
              openPanel({ type: 'mentions' });
              onNavigate();
            }}
          >
            {t('sidebar.mentions')}
          </button>
        </li>
        <li>
          <button
            type="button"
            class="nav-link nav-btn"
            data-nav="saved"
            onClick={() => {
              openPanel({ type: 'saved' });
              onNavigate();
            }}
          >
            {t('saved.title')}
          </button>
        </li>
        <li>
          <Link href="/people" class="nav-link" current={route.name === 'people'} onNavigate={onNavigate}>
            {t('shell.people')}
          </Link>
        </li>
      </ul>

      <section class="sidebar-section" aria-labelledby="sidebar-channels">
        <div class="sidebar-head">
          <h2 id="sidebar-channels" class="sidebar-heading">
            {t('shell.channels')}
          </h2>
          <button
            type="button"
            class="sb-action"
            aria-label={t('sidebar.browse')}
            title={t('sidebar.browse')}
            onClick={() => openDialog('browse')}
          >
            <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <circle cx="7" cy="7" r="4.5" class="icon-stroke" />
              <path d="M10.5 10.5L14 14" class="icon-stroke" />
            </svg>
          </button>
          <button
            type="button"
            class="sb-action"
            aria-label={t('sidebar.create')}
            title={t('sidebar.create')}
            onClick={() => openDialog('create')}
          >
            <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M8 2v12M2 8h12" class="icon-stroke" />
            </svg>
          </button>
        </div>
        {!ready ? null : rooms.length ? (
          <ul class="ch-list">{rooms.map(item)}</ul>
        ) : (
          <p class="sidebar-empty">{t('sidebar.noChannels')}</p>
        )}
      </section>

      <section class="sidebar-section" aria-labelledby="sidebar-directs">
        <div class="sidebar-head">
          <h2 id="sidebar-directs" class="sidebar-heading">
            {t('sidebar.directs')}
          </h2>
          <button
            type="button"
            class="sb-action"
            aria-label={t('sidebar.newDirect')}
            title={t('sidebar.newDirect')}
            onClick={() => openDialog('direct')}
          >
            <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
              <path d="M8 2v12M2 8h12" class="icon-stroke" />
            </svg>
          </button>
        </div>
        {ready && directs.length > 0 && <ul class="ch-list">{directs.map(item)}</ul>}
      </section>

      <ul class="nav-list sidebar-foot">
        <li>
          <Link href="/profile" class="nav-link" current={route.name === 'profile'} onNavigate={onNavigate}>
            {t('shell.profile')}
          </Link>
        </li>
        {user.is_admin && (
          <li>
            <Link href="/admin" class="nav-link" current={route.name === 'admin'} onNavigate={onNavigate}>
              {t('shell.admin')}
            </Link>
          </li>
        )}
        <li class="phone-only">
          <button
            type="button"
            class="nav-link nav-btn"
            onClick={() => {
              openDialog('status');
              onNavigate();
            }}
          >
            {activeStatus(user.status) ? t('status.edit') : t('status.set')}
          </button>
        </li>
        <li class="phone-only">
          <button type="button" class="nav-link nav-btn" onClick={onSignOut}>
            {t('shell.signOut')}
          </button>
        </li>
        {notifications === 'default' && (
          <li>
            <button type="button" class="nav-link nav-btn" onClick={() => void client.requestNotifications()}>
              {t('sidebar.enableNotifications')}
            </button>
          </li>
        )}
      </ul>
    </nav>
  );
}
