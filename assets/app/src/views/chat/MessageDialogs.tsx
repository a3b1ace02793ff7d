// Dialogs of the message actions: forwarding a message, and a message's edit history.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { messagesApi, type EarlierVersion, type Message } from '../../api';
import { useChat } from '../../chat/client';
import { messageSummary } from '../../chat/files';
import { forwardTargets } from '../../chat/messages';
import { Markdown } from '../../chat/Markdown';
import { useStore } from '../../chat/store';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { Field } from '../../components/Field';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { t } from '../../i18n';
import { useSession } from '../../session';
import { loadedMessage } from './jump';
import { formatFull, senderName } from './MessageItem';
import { Modal } from './Modal';
import { ChannelIcon } from './Sidebar';
import { showToast } from './ui';

/** Forward a message: pick one of one's conversations (searchable), add a comment, Send. */
export function ForwardDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const client = useChat();
  const { user } = useSession();
  const channels = useStore(client.store, (s) => s.channels);
  const people = useStore(client.store, (s) => s.people);
  const [query, setQuery] = useState('');
  const [picked, setPicked] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const targets = useMemo(() => forwardTargets(channels.values(), query, user.id, people), [channels, query, user.id, people]);
  const pickedTarget = picked !== null ? forwardTargets([channels.get(picked)!].filter(Boolean), '', user.id, people)[0] : undefined;

  async function send() {
    if (picked === null || busy) return;
    setBusy(true);
    setError(null);
    try {
      const text = comment.trim();
      await messagesApi.forward(message.id, text ? { channel_id: picked, comment: text } : { channel_id: picked });
      onClose();
      showToast(t('forward.done', { name: pickedTarget?.label ?? '' }));
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  const preview = messageSummary(message);
  return (
    <Modal title={t('forward.title')} onClose={onClose}>
      <div class="forward">
        {error && <Alert>{error}</Alert>}
        <blockquote class="forward-preview">
          <span class="forward-preview-author">{senderName(people, message)}</span>
          <span class="forward-preview-text">{preview}</span>
        </blockquote>
        <Field label={t('forward.search')} value={query} onValue={setQuery} autoFocus />
        <ul class="forward-list" role="listbox" aria-label={t('forward.to')}>
          {targets.map(({ channel, label }) => (
            <li key={channel.id} role="presentation">
              <button
                type="button"
                role="option"
                aria-selected={picked === channel.id}
                class={picked === channel.id ? 'forward-target forward-target-picked' : 'forward-target'}
                data-channel-id={channel.id}
                onClick={() => setPicked(channel.id)}
              >
                <ChannelIcon channel={channel} />
                <span class="forward-target-name">{label}</span>
              </button>
            </li>
          ))}
          {targets.length === 0 && <li class="muted forward-empty">{t('forward.none')}</li>}
        </ul>
        <label class="field">
          <span class="field-label">{t('forward.comment')}</span>
          <textarea
            class="input forward-comment"
            rows={2}
            value={comment}
            maxLength={4000}
            onInput={(e) => setComment(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void send();
              }
            }}
          />
        </label>
        <div class="button-row">
          <Button busy={busy} disabled={picked === null} onClick={() => void send()}>
            {pickedTarget ? t('forward.sendTo', { name: pickedTarget.label }) : t('forward.send')}
          </Button>
          <Button variant="secondary" onClick={onClose}>
            {t('common.cancel')}
          </Button>
        </div>
      </div>
    </Modal>
  );
}

/** Earlier versions of an edited message, oldest first, then the current text. */
export function EditHistoryDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const client = useChat();
  // The current text as it shows on the page (it may have changed since the dialog opened).
  const current = useStore(client.store, () => loadedMessage(client, message.id)) ?? message;
  const [versions, setVersions] = useState<EarlierVersion[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    messagesApi.edits(message.id).then(setVersions, (err) => setError(describeError(err)));
  }, [message.id]);
  return (
    <Modal title={t('msg.editHistory')} onClose={onClose}>
      {error ? (
        <Alert>{error}</Alert>
      ) : !versions ? (
        <Loading />
      ) : (
        <EditHistoryList versions={versions} current={current} />
      )}
    </Modal>
  );
}

/**
 * The versions of a message: each earlier text with the time it was sent or last edited until
 * it was replaced, then the current one.
 */
export function EditHistoryList({ versions, current }: { versions: readonly EarlierVersion[]; current: Message }) {
  return (
    <ol class="edit-history">
      {versions.map((v, i) => {
        const from = i === 0 ? current.created_at : versions[i - 1]!.replaced_at;
        return (
          <li key={i} class="edit-version">
            <p class="edit-version-head">
              <span class="edit-version-label">{i === 0 ? t('msg.versionOriginal') : t('msg.versionN', { n: i + 1 })}</span>
              <time class="muted" dateTime={new Date(from).toISOString()}>
                {formatFull(from)}
              </time>
            </p>
            <div class="edit-version-body">
              <Markdown source={v.body} />
            </div>
          </li>
        );
      })}
      <li class="edit-version edit-version-current">
        <p class="edit-version-head">
          <span class="edit-version-label">{t('msg.versionCurrent')}</span>
          {current.edited_at !== null && (
            <time class="muted" dateTime={new Date(current.edited_at).toISOString()}>
              {formatFull(current.edited_at)}
            </time>
          )}
        </p>
        <div class="edit-version-body">
          <Markdown source={current.body} />
        </div>
      </li>
    </ol>
  );
}
