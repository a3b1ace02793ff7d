import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, chatApi, type OutgoingWebhook } from '../../api';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { CopyField } from '../../components/CopyField';
import { Field } from '../../components/Field';
import { Loading } from '../../components/Loading';
import { describeError, type ErrorMessages } from '../../errors';
import { formatDateTime, t } from '../../i18n';
import { checkName, checkReceiverUrl, checkTriggerWords } from '../../integrations';
import { redirectIfSignedOut } from '../../session';

const LIST_ERRORS: ErrorMessages = {
  403: 'outgoing.forbidden',
};

const CREATE_ERRORS: ErrorMessages = {
  invalid: 'outgoing.invalid',
  403: 'outgoing.forbidden',
  404: 'outgoing.channelGone',
};

const DELETE_ERRORS: ErrorMessages = {
  403: 'outgoing.forbidden',
  404: 'outgoing.gone',
};

type Problems = { name?: boolean; words?: boolean; url?: boolean };

/**
 * A channel's outgoing webhooks, in the Webhooks part of its details, for administrators only
 * (they make Outpost call systems on the LAN): the list (trigger words, URL, the secret behind
 * "show"), a form for a new one, delete. Hidden when the server has none of them.
 */
export function OutgoingWebhooks({ channelId, channelName }: { channelId: number; channelName: string }) {
  const id = useId();
  const [hooks, setHooks] = useState<OutgoingWebhook[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [name, setName] = useState('');
  const [words, setWords] = useState('');
  const [url, setUrl] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  const [busy, setBusy] = useState(false);
  const [busyId, setBusyId] = useState<number | null>(null);
  /** Whose secret is shown. */
  const [shown, setShown] = useState<number | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const [refocus, setRefocus] = useState(false);

  // After a delete, keyboard users go on from the name of a new one.
  useEffect(() => {
    if (!refocus) return;
    setRefocus(false);
    nameRef.current?.focus();
  }, [refocus]);

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    chatApi.outgoingWebhooks().then(
      (list) => {
        if (!cancelled) setHooks(list.filter((h) => h.channel_id === channelId));
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setLoadError(describeError(err, LIST_ERRORS));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [channelId, attempt]);

  async function onCreate(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    const checkedName = checkName(name);
    const checkedWords = checkTriggerWords(words);
    const checkedUrl = checkReceiverUrl(url);
    const wrong: Problems = { name: checkedName === null, words: checkedWords === null, url: checkedUrl === null };
    setProblems(wrong);
    if (checkedName === null || checkedWords === null || checkedUrl === null) return;
    setBusy(true);
    setResult(null);
    try {
      const hook = await chatApi.createOutgoingWebhook(channelId, {
        name: checkedName,
        trigger_words: checkedWords,
        url: checkedUrl,
      });
      setHooks((list) => [...(list ?? []), hook]);
      setShown(hook.id);
      setName('');
      setWords('');
      setUrl('');
      setResult({ ok: true, text: t('outgoing.created', { name: hook.name }) });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err, CREATE_ERRORS) });
    }
    setBusy(false);
  }

  async function remove(hook: OutgoingWebhook) {
    if (!window.confirm(t('outgoing.confirmDelete', { name: hook.name }))) return;
    setBusyId(hook.id);
    setResult(null);
    const drop = () => setHooks((list) => (list ?? []).filter((h) => h.id !== hook.id));
    try {
      await chatApi.deleteOutgoingWebhook(hook.id);
      drop();
      setResult({ ok: true, text: t('outgoing.deleted', { name: hook.name }) });
      setRefocus(true);
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      if (err instanceof ApiError && err.status === 404) drop();
      setResult({ ok: false, text: describeError(err, DELETE_ERRORS) });
    }
    setBusyId(null);
  }

  if (missing) return null;
  let list;
  if (loadError) {
    list = (
      <>
        <Alert>{loadError}</Alert>
        <div class="button-row">
          <Button variant="secondary" size="small" onClick={() => setAttempt((n) => n + 1)}>
            {t('common.retry')}
          </Button>
        </div>
      </>
    );
  } else if (!hooks) {
    list = <Loading />;
  } else if (hooks.length === 0) {
    list = <p class="muted">{t('outgoing.empty')}</p>;
  } else {
    list = (
      <ul class="item-list" aria-label={t('outgoing.list', { name: channelName })}>
        {hooks.map((h) => {
          const secretId = `${id}-secret-${h.id}`;
          const open = shown === h.id;
          return (
            <li key={h.id} class="item-row outgoing-row" data-outgoing-id={h.id}>
              <div class="item-info">
                <span class="item-name">{h.name}</span>
                <span class="item-meta">
                  <span>{t('outgoing.triggersLabel')}</span>
                  <span class="badges">
                    {h.trigger_words.map((w) => (
                      <span key={w} class="badge badge-accent mono">
                        {w}
                      </span>
                    ))}
                  </span>
                </span>
                <span class="item-meta">
                  <span>{t('outgoing.urlLabel')}</span>
                  <span class="mono outgoing-url">{h.url}</span>
                </span>
                <span class="item-meta">
                  <span>{t('integrations.created', { date: formatDateTime(h.created_at) })}</span>
                </span>
              </div>
              <div class="bot-actions">
                <Button
                  variant="secondary"
                  size="small"
                  controls={secretId}
                  expanded={open}
                  label={t(open ? 'outgoing.hideSecretLabel' : 'outgoing.showSecretLabel', { name: h.name })}
                  onClick={() => setShown(open ? null : h.id)}
                >
                  {open ? t('outgoing.hideSecret') : t('outgoing.showSecret')}
                </Button>
                <Button
                  variant="danger"
                  size="small"
                  busy={busyId === h.id}
                  label={t('outgoing.deleteLabel', { name: h.name })}
                  onClick={() => void remove(h)}
                >
                  {t('outgoing.delete')}
                </Button>
              </div>
              <div id={secretId} class="outgoing-secret" hidden={!open}>
                {open && (
                  <>
                    <CopyField label={t('outgoing.secret')} value={h.secret} />
                    <p class="field-hint">{t('outgoing.secretHint')}</p>
                  </>
                )}
              </div>
            </li>
          );
        })}
      </ul>
    );
  }

  return (
    <div class="integrations outgoing-part" role="group" aria-labelledby="details-outgoing">
      <h4 id="details-outgoing" class="details-subheading">
        {t('outgoing.title')}
      </h4>
      <p class="muted integrations-intro">{t('outgoing.intro', { name: channelName })}</p>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {list}
      {!loadError && (
        <form class="form" onSubmit={onCreate} aria-busy={busy} aria-label={t('outgoing.form')}>
          <Field
            label={t('outgoing.name')}
            hint={t('outgoing.nameHint')}
            value={name}
            onValue={setName}
            maxLength={64}
            autoComplete="off"
            error={problems.name ? t('outgoing.nameInvalid') : null}
            inputRef={nameRef}
          />
          <Field
            label={t('outgoing.triggers')}
            hint={t('outgoing.triggersHint')}
            value={words}
            onValue={setWords}
            autoComplete="off"
            inputMode="text"
            placeholder={t('outgoing.triggersPlaceholder')}
            error={problems.words ? t('outgoing.triggersInvalid') : null}
          />
          <Field
            label={t('outgoing.url')}
            hint={t('outgoing.urlHint')}
            value={url}
            onValue={setUrl}
            autoComplete="off"
            inputMode="url"
            placeholder={t('outgoing.urlPlaceholder')}
            error={problems.url ? t('outgoing.urlInvalid') : null}
          />
          <div class="form-actions">
            <Button type="submit" variant="secondary" busy={busy}>
              {busy ? t('outgoing.creating') : t('outgoing.create')}
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}
