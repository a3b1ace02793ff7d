import { useEffect, useId, useMemo, useState } from 'preact/hooks';
import { useChat } from '../chat/client';
import { useStore } from '../chat/store';
import { BotTag } from '../components/BotTag';
import { Loading } from '../components/Loading';
import { PageHeading } from '../components/PageHeading';
import { getLocale, t } from '../i18n';
import { jobLine, searchPeople } from '../people';
import { useSession } from '../session';
import { Avatar, DeactivatedTag, StatusEmoji } from './chat/Avatar';
import { openProfile } from './chat/ui';

/**
 * The people directory: everyone (deactivated accounts last), searchable by name, user name,
 * job title and department. A person opens their profile card.
 */
export function PeopleView() {
  const client = useChat();
  const { user } = useSession();
  const ready = useStore(client.store, (s) => s.ready);
  const people = useStore(client.store, (s) => s.people);
  const [query, setQuery] = useState('');
  const id = useId();

  // Everyone's presence shows here.
  useEffect(() => {
    client.watchAllPresence(true);
    return () => client.watchAllPresence(false);
  }, [client]);

  const shown = useMemo(() => searchPeople(people.values(), query, getLocale()), [people, query]);
  const q = query.trim();

  return (
    <div class="page people-page">
      <PageHeading title={t('people.title')} />
      <div class="field people-search" role="search">
        <label class="field-label" for={`${id}-q`}>
          {t('people.search')}
        </label>
        <input
          id={`${id}-q`}
          class="input"
          type="search"
          autoComplete="off"
          aria-describedby={`${id}-hint ${id}-count`}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <p id={`${id}-hint`} class="field-hint">
          {t('people.searchHint')}
        </p>
      </div>
      {!ready ? (
        <Loading />
      ) : (
        <>
          <p id={`${id}-count`} class="muted people-count" aria-live="polite">
            {shown.length === 0
              ? q
                ? t('people.none', { query: q })
                : t('people.empty')
              : t('people.count', { n: shown.length })}
          </p>
          {shown.length > 0 && (
            <ul class="directory">
              {shown.map((p) => {
                const name = p.display_name || p.username;
                const job = jobLine(p);
                return (
                  <li key={p.id} class={p.deactivated ? 'dir-item dir-deactivated' : 'dir-item'} data-user-id={p.id}>
                    <button
                      type="button"
                      class="dir-person"
                      aria-haspopup="dialog"
                      title={t('card.open', { name })}
                      onClick={(e) => openProfile(p.id, e.currentTarget)}
                    >
                      <Avatar id={p.id} name={name} photo={p.photo_url} presence={p.deactivated ? null : p.presence} />
                      <span class="dir-text">
                        <span class="dir-line">
                          <span class="dir-name">{name}</span>
                          {p.id === user.id && <span class="muted dir-you">({t('people.you')})</span>}
                          <StatusEmoji status={p.status} />
                          {p.is_bot && <BotTag kind="bot" />}
                          {p.deactivated && <DeactivatedTag />}
                        </span>
                        <span class="dir-meta">
                          <span class="dir-username">@{p.username}</span>
                          {job && <span class="dir-job"> · {job}</span>}
                        </span>
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
        </>
      )}
    </div>
  );
}
