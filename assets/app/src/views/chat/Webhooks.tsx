import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, chatApi, type CreatedWebhook, type Webhook } from '../../api';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { Field } from '../../components/Field';
import { Loading } from '../../components/Loading';
import { SecretOnce } from '../../components/SecretOnce';
import { describeError, type ErrorMessages } from '../../errors';
import { formatDateTime, t } from '../../i18n';
import { checkName, webhookCurl, webhookUrl } from '../../integrations';
import { redirectIfSignedOut } from '../../session';
import { OutgoingWebhooks } from './OutgoingWebhooks';

/** Listing or creating: the server hides a channel's webhooks from everyone but its managers. */
const MANAGE_ERRORS: ErrorMessages = {
  invalid: 'webhooks.invalid',
  403: 'webhooks.forbidden',
  404: 'webhooks.forbidden',
};

const DELETE_ERRORS: ErrorMessages = {
  403: 'webhooks.forbidden',
  404: 'webhooks.gone',
};

/**
 * A channel's incoming webhooks, in its details for its owners and administrators: the list
 * (created, last used, delete), and a form for a new one, whose secret URL is shown once.
 * With `outgoing` (administrators), a second part: the channel's outgoing webhooks.
 */
export function WebhooksSection({
  channelId,
  channelName,
  outgoing = false,
}: {
  channelId: number;
  channelName: string;
  outgoing?: boolean;
}) {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const [refocus, setRefocus] = useState(false);

  // Keyboard users keep their place when the button they pressed goes away (the URL is
  // hidden, a webhook is deleted): back to the name of a new one.
  useEffect(() => {
    if (!refocus) return;
    setRefocus(false);
    nameRef.current?.focus();
  }, [refocus]);

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    chatApi.webhooks(channelId).then(
      (list) => {
        if (!cancelled) setHooks(list);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        setLoadError(describeError(err, MANAGE_ERRORS));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [channelId, attempt]);

  async function onCreate(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    const checked = checkName(name);
    if (checked === null) {
      setNameError(t('webhooks.nameInvalid'));
      return;
    }
    setNameError(null);
    setBusy(true);
    setResult(null);
    try {
      const answer = await chatApi.createWebhook(channelId, { name: checked });
      setHooks((list) => [...(list ?? []), answer.webhook]);
      setCreated(answer);
      setName('');
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err, MANAGE_ERRORS) });
    }
    setBusy(false);
  }

  async function remove(hook: Webhook) {
    if (!window.confirm(t('webhooks.confirmDelete', { name: hook.name }))) return;
    setBusyId(hook.id);
    setResult(null);
    const drop = () => {
      setHooks((list) => (list ?? []).filter((h) => h.id !== hook.id));
      setCreated((c) => (c?.webhook.id === hook.id ? null : c));
    };
    try {
      await chatApi.deleteWebhook(hook.id);
      drop();
      setResult({ ok: true, text: t('webhooks.deleted', { name: hook.name }) });
      setRefocus(true);
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      if (err instanceof ApiError && err.status === 404) drop();
      setResult({ ok: false, text: describeError(err, DELETE_ERRORS) });
    }
    setBusyId(null);
  }

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
    list = <p class="muted">{t('webhooks.empty')}</p>;
  } else {
    list = (
      <ul class="item-list" aria-label={t('webhooks.list', { name: channelName })}>
        {hooks.map((h) => (
          <li key={h.id} class="item-row" data-webhook-id={h.id}>
            <div class="item-info">
              <span class="item-name">{h.name}</span>
              <span class="item-meta">
                <span>{t('integrations.created', { date: formatDateTime(h.created_at) })}</span>
                <span>
                  {h.last_used_at
                    ? t('integrations.lastUsed', { date: formatDateTime(h.last_used_at) })
                    : t('integrations.neverUsed')}
                </span>
              </span>
            </div>
            <Button
              variant="danger"
              size="small"
              busy={busyId === h.id}
              label={t('webhooks.deleteLabel', { name: h.name })}
              onClick={() => void remove(h)}
            >
              {t('webhooks.delete')}
            </Button>
          </li>
        ))}
      </ul>
    );
  }

  const url = created ? webhookUrl(created, location.origin) : '';
  return (
    <section class="integrations" aria-labelledby="details-webhooks">
      <h3 id="details-webhooks" class="details-heading">
        {t('webhooks.title')}
      </h3>
      {outgoing && <h4 class="details-subheading">{t('webhooks.incoming')}</h4>}
      <p class="muted integrations-intro">{t('webhooks.intro', { name: channelName })}</p>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {list}
      {created ? (
        <SecretOnce
          key={created.webhook.id}
          title={t('webhooks.secretTitle')}
          intro={t('webhooks.secretIntro', { name: channelName })}
          label={t('webhooks.url')}
          secret={url}
          example={webhookCurl(url)}
          onDone={() => {
            setCreated(null);
            setRefocus(true);
          }}
        />
      ) : (
        !loadError && (
          <form class="form form-inline" onSubmit={onCreate} aria-busy={busy}>
            <Field
              label={t('webhooks.name')}
              value={name}
              onValue={setName}
              maxLength={64}
              error={nameError}
              inputRef={nameRef}
            />
            <Button type="submit" variant="secondary" busy={busy}>
              {busy ? t('webhooks.creating') : t('webhooks.create')}
            </Button>
          </form>
        )
      )}
      {outgoing && <OutgoingWebhooks channelId={channelId} channelName={channelName} />}
    </section>
  );
}
