// The saved messages panel: what this user saved, newest saved first, each with its
// conversation, time, Jump and Remove.

import { useEffect, useState } from 'preact/hooks';
import { messagesApi, type Channel, type Message, type Person, type SavedMessage } from '../../api';
import { useChat } from '../../chat/client';
import { messageSummary } from '../../chat/files';
import { channelTitle, isDirect } from '../../chat/logic';
import { useStore } from '../../chat/store';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { useSession } from '../../session';
import { showMessage } from './jump';
import { formatFull, senderName } from './MessageItem';

/** Where a saved message is: `#channel`, or the people of a direct conversation. */
export function savedWhere(channel: Channel | undefined, me: number, people: ReadonlyMap<number, Person>): string {
  if (!channel) return t('saved.unknownConversation');
  const title = channelTitle(channel, me, people);
  return isDirect(channel) ? title : `#${title}`;
}

export function SavedList({
  items,
  channels,
  people,
  me,
  busy,
  onJump,
  onRemove,
}: {
  items: readonly SavedMessage[];
  channels: ReadonlyMap<number, Channel>;
  people: ReadonlyMap<number, Person>;
  me: number;
  /** The message being removed. */
  busy?: number | null;
  onJump: (m: Message) => void;
  onRemove: (m: Message) => void;
}) {
  if (!items.length) return <p class="panel-note saved-empty">{t('saved.empty')}</p>;
  return (
    <ul class="results saved-list">
      {items.map(({ message: m }) => {
        const where = savedWhere(channels.get(m.channel_id), me, people);
        const text = m.deleted ? t('message.deleted') : messageSummary(m);
        return (
          <li key={m.id} class="saved-item" data-message-id={m.id}>
            <div class="result-meta">
              <span class="result-author">{senderName(people, m)}</span>
              <span class="result-where">{where}</span>
              <time class="result-time" dateTime={new Date(m.created_at).toISOString()}>
                {formatFull(m.created_at)}
              </time>
            </div>
            {m.forwarded && <p class="saved-forwarded">{t('msg.forwardedFrom', { name: m.forwarded.author_name })}</p>}
            <p class="result-text saved-text">{text}</p>
            <div class="saved-actions">
              <button
                type="button"
                class="btn btn-secondary btn-small saved-jump"
                aria-label={t('saved.jumpLabel', { where })}
                onClick={() => onJump(m)}
              >
                {t('saved.jump')}
              </button>
              <button
                type="button"
                class="btn btn-ghost btn-small saved-remove"
                aria-label={t('saved.removeLabel', { where })}
                disabled={busy === m.id}
                onClick={() => onRemove(m)}
              >
                {t('saved.removeShort')}
              </button>
            </div>
          </li>
        );
      })}
    </ul>
  );
}

export function SavedBody() {
  const client = useChat();
  const { user } = useSession();
  const channels = useStore(client.store, (s) => s.channels);
  const people = useStore(client.store, (s) => s.people);
  const savedIds = useStore(client.store, (s) => s.saved);
  const [list, setList] = useState<SavedMessage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  // Loaded when opened, and again when a message is saved or removed elsewhere on the page.
  useEffect(() => {
    messagesApi.saved().then(
      (items) => {
        setList(items);
        setError(null);
      },
      (err) => setError(describeError(err)),
    );
  }, [savedIds]);
  if (error) return <p class="alert alert-error">{error}</p>;
  if (!list) return <Loading />;
  return (
    <SavedList
      items={list}
      channels={channels}
      people={people}
      me={user.id}
      busy={busy}
      onJump={(m) => showMessage(m)}
      onRemove={async (m) => {
        setBusy(m.id);
        try {
          await client.setSaved(m.id, false);
          setList((l) => (l ?? []).filter((x) => x.message.id !== m.id));
        } catch (err) {
          setError(describeError(err));
        } finally {
          setBusy(null);
        }
      }}
    />
  );
}
