import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, api, type ApiToken, type Bot, type CreatedApiToken, type TokenScope } from '../api';
import { Alert } from '../components/Alert';
import { BotTag } from '../components/BotTag';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { SecretOnce } from '../components/SecretOnce';
import { describeError, type ErrorMessages } from '../errors';
import { formatDateTime, t, type MessageKey } from '../i18n';
import { botCurl, checkUsername, newTokenProblem, SCOPES, toggleScope } from '../integrations';
import { redirectIfSignedOut } from '../session';

const CREATE_ERRORS: ErrorMessages = {
  conflict: 'bots.conflict',
  invalid: 'bots.invalid',
  409: 'bots.conflict',
};

const TOKEN_ERRORS: ErrorMessages = {
  invalid: 'bots.tokenInvalid',
  404: 'bots.gone',
};

const REVOKE_ERRORS: ErrorMessages = {
  404: 'bots.tokenGone',
};

/** The scopes with their names and what they allow. */
const SCOPE_TEXT = {
  read: { label: 'bots.scope.read', hint: 'bots.scope.readHint' },
  write: { label: 'bots.scope.write', hint: 'bots.scope.writeHint' },
  admin: { label: 'bots.scope.admin', hint: 'bots.scope.adminHint' },
} as const satisfies Record<TokenScope, { label: MessageKey; hint: MessageKey }>;

function scopeLabel(scope: string): string {
  return scope in SCOPE_TEXT ? t(SCOPE_TEXT[scope as TokenScope].label) : scope;
}

function usedText(token: Pick<ApiToken, 'last_used_at'>): string {
  return token.last_used_at
    ? t('integrations.lastUsed', { date: formatDateTime(token.last_used_at) })
    : t('integrations.neverUsed');
}

/**
 * Bot accounts (administrators): create one, give it API tokens with scopes (each secret
 * shown once, with a curl example), revoke them, disable or enable the bot. Bots are user
 * accounts too: `onChanged` tells the page (which reloads the users list), and a new
 * `version` reloads this list. Hidden when the server has no bots.
 */
export function BotsCard({ version, onChanged }: { version: number; onChanged: () => void }) {
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [usernameError, setUsernameError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  /** The bot just created: its token form opens by itself. */
  const [fresh, setFresh] = useState<number | null>(null);

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    api.bots().then(
      (list) => {
        if (!cancelled) setBots(list);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setLoadError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt, version]);

  async function onCreate(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    const name = checkUsername(username);
    if (name === null) {
      setUsernameError(t('bots.usernameInvalid'));
      return;
    }
    setUsernameError(null);
    setBusy(true);
    setResult(null);
    try {
      const display = displayName.trim();
      const user = await api.createBot(display ? { username: name, display_name: display } : { username: name });
      setBots((list) => [...(list ?? []).filter((b) => b.user.id !== user.id), { user, tokens: [] }]);
      setFresh(user.id);
      setUsername('');
      setDisplayName('');
      setResult({ ok: true, text: t('bots.createdDone', { username: user.username }) });
      onChanged();
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err, CREATE_ERRORS) });
    }
    setBusy(false);
  }

  const update = (bot: Bot) => setBots((list) => (list ?? []).map((b) => (b.user.id === bot.user.id ? bot : b)));

  if (missing) return null;
  let body;
  if (loadError) {
    body = (
      <>
        <Alert>{loadError}</Alert>
        <div class="form-actions">
          <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
            {t('common.retry')}
          </Button>
        </div>
      </>
    );
  } else if (!bots) {
    body = <Loading />;
  } else if (bots.length === 0) {
    body = <p class="muted">{t('bots.empty')}</p>;
  } else {
    body = (
      <ul class="bot-list" aria-label={t('bots.list')}>
        {bots.map((b) => (
          <BotItem key={b.user.id} bot={b} openForm={fresh === b.user.id} onUpdate={update} onChanged={onChanged} />
        ))}
      </ul>
    );
  }

  return (
    <section class="card" aria-labelledby="admin-bots">
      <h2 id="admin-bots" class="card-title">
        {t('bots.title')}
      </h2>
      <p class="card-meta">{t('bots.intro')}</p>
      <form class="form form-inline" onSubmit={onCreate} aria-busy={busy}>
        <Field
          label={t('bots.username')}
          value={username}
          onValue={setUsername}
          autoComplete="off"
          maxLength={32}
          error={usernameError}
        />
        <Field label={t('bots.displayName')} value={displayName} onValue={setDisplayName} autoComplete="off" maxLength={64} />
        <Button type="submit" busy={busy}>
          {busy ? t('bots.creating') : t('bots.create')}
        </Button>
      </form>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {body}
    </section>
  );
}

function BotItem({
  bot,
  openForm,
  onUpdate,
  onChanged,
}: {
  bot: Bot;
  openForm: boolean;
  onUpdate: (bot: Bot) => void;
  onChanged: () => void;
}) {
  const u = bot.user;
  const id = useId();
  const formId = `${id}-form`;
  const itemRef = useRef<HTMLLIElement>(null);
  const [formOpen, setFormOpen] = useState(openForm);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<TokenScope[]>(['read']);
  const [problem, setProblem] = useState<'name' | 'scopes' | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [refocus, setRefocus] = useState(false);

  // Back to "New token" when its form or the shown token closes (keyboard users keep their place).
  useEffect(() => {
    if (!refocus) return;
    setRefocus(false);
    itemRef.current?.querySelector<HTMLButtonElement>(`[aria-controls="${formId}"]`)?.focus();
  }, [refocus]);

  function closeForm() {
    setFormOpen(false);
    setProblem(null);
    setRefocus(true);
  }

  async function onCreateToken(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    const wrong = newTokenProblem(name, scopes);
    setProblem(wrong);
    if (wrong) return;
    setBusy('token');
    setResult(null);
    try {
      const token = await api.createToken(u.id, { name: name.trim(), scopes });
      const shown: ApiToken = {
        id: token.id,
        name: token.name,
        scopes: token.scopes,
        created_at: token.created_at,
        last_used_at: token.last_used_at,
      };
      onUpdate({ ...bot, tokens: [...bot.tokens, shown] });
      setCreated(token);
      setFormOpen(false);
      setName('');
      setScopes(['read']);
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err, TOKEN_ERRORS) });
    }
    setBusy(null);
  }

  async function revoke(token: ApiToken) {
    if (!window.confirm(t('bots.confirmRevoke', { name: token.name, username: u.username }))) return;
    setBusy(`t${token.id}`);
    setResult(null);
    const drop = () => onUpdate({ ...bot, tokens: bot.tokens.filter((x) => x.id !== token.id) });
    try {
      await api.revokeToken(token.id);
      drop();
      setResult({ ok: true, text: t('bots.revoked', { name: token.name }) });
      setRefocus(true);
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      if (err instanceof ApiError && err.status === 404) drop();
      setResult({ ok: false, text: describeError(err, REVOKE_ERRORS) });
    }
    setBusy(null);
  }

  async function setDisabled(disabled: boolean) {
    if (disabled && !window.confirm(t('bots.confirmDisable', { username: u.username }))) return;
    setBusy('user');
    setResult(null);
    try {
      await (disabled ? api.disableUser(u.id) : api.enableUser(u.id));
      onUpdate({ ...bot, user: { ...u, disabled } });
      setResult({ ok: true, text: t(disabled ? 'bots.disabledDone' : 'bots.enabledDone', { username: u.username }) });
      onChanged();
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(null);
  }

  const scopesErrorId = `${id}-scopes-error`;
  return (
    <li ref={itemRef} class={u.disabled ? 'bot-item row-disabled' : 'bot-item'} data-bot-id={u.id}>
      <div class="bot-head">
        <div class="bot-title">
          <h3 class="bot-name">{u.display_name || u.username}</h3>
          <span class="muted mono">@{u.username}</span>
          <span class="badges">
            <BotTag kind="bot" />
            {u.is_admin && <span class="badge badge-accent">{t('admin.users.admin')}</span>}
            <span class={u.disabled ? 'badge badge-danger' : 'badge badge-ok'}>
              {u.disabled ? t('admin.users.disabled') : t('admin.users.active')}
            </span>
          </span>
        </div>
        <div class="bot-actions">
          <Button
            variant="secondary"
            size="small"
            controls={formId}
            expanded={formOpen}
            label={t('bots.newTokenLabel', { username: u.username })}
            onClick={() => (formOpen ? closeForm() : setFormOpen(true))}
          >
            {t('bots.newToken')}
          </Button>
          {u.disabled ? (
            <Button
              variant="secondary"
              size="small"
              busy={busy === 'user'}
              label={t('admin.users.enableLabel', { username: u.username })}
              onClick={() => void setDisabled(false)}
            >
              {t('admin.users.enable')}
            </Button>
          ) : (
            <Button
              variant="danger"
              size="small"
              busy={busy === 'user'}
              label={t('admin.users.disableLabel', { username: u.username })}
              onClick={() => void setDisabled(true)}
            >
              {t('admin.users.disable')}
            </Button>
          )}
        </div>
      </div>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {created && (
        <SecretOnce
          key={created.id}
          title={t('bots.secretTitle')}
          intro={t('bots.secretIntro', { username: u.username })}
          label={t('bots.token')}
          secret={created.token}
          example={botCurl(location.origin, created.token)}
          onDone={() => {
            setCreated(null);
            setRefocus(true);
          }}
        />
      )}
      {formOpen && (
        <form id={formId} class="form token-form" onSubmit={onCreateToken} aria-busy={busy === 'token'}>
          <Field
            label={t('bots.tokenName')}
            hint={t('bots.tokenNameHint')}
            value={name}
            onValue={setName}
            maxLength={64}
            autoComplete="off"
            autoFocus
            error={problem === 'name' ? t('bots.tokenNameInvalid') : null}
          />
          <fieldset class="choices" aria-describedby={problem === 'scopes' ? scopesErrorId : undefined}>
            <legend class="field-label">{t('bots.scopes')}</legend>
            {SCOPES.map((s) => (
              <label key={s} class="check">
                <input
                  type="checkbox"
                  name="scopes"
                  value={s}
                  checked={scopes.includes(s)}
                  onChange={(event) => setScopes(toggleScope(scopes, s, event.currentTarget.checked))}
                />
                <span>
                  <strong>{t(SCOPE_TEXT[s].label)}</strong>
                  <span class="field-hint">{t(SCOPE_TEXT[s].hint, { username: u.username })}</span>
                  {s === 'admin' && !u.is_admin && scopes.includes('admin') && (
                    <span class="field-hint">{t('bots.scope.adminNotYet')}</span>
                  )}
                </span>
              </label>
            ))}
            {problem === 'scopes' && (
              <p id={scopesErrorId} class="field-error">
                {t('bots.scopesNone')}
              </p>
            )}
          </fieldset>
          <div class="form-actions">
            <Button type="submit" busy={busy === 'token'}>
              {busy === 'token' ? t('bots.creatingToken') : t('bots.createToken')}
            </Button>
            <Button variant="secondary" onClick={closeForm}>
              {t('common.cancel')}
            </Button>
          </div>
        </form>
      )}
      {bot.tokens.length === 0 ? (
        <p class="muted">{t('bots.noTokens')}</p>
      ) : (
        <ul class="item-list" aria-label={t('bots.tokens', { username: u.username })}>
          {bot.tokens.map((token) => (
            <li key={token.id} class="item-row" data-token-id={token.id}>
              <div class="item-info">
                <span class="item-name">
                  {token.name}{' '}
                  <span class="badges">
                    {token.scopes.map((s) => (
                      <span key={s} class="badge badge-accent">
                        {scopeLabel(s)}
                      </span>
                    ))}
                  </span>
                </span>
                <span class="item-meta">
                  <span>{t('integrations.created', { date: formatDateTime(token.created_at) })}</span>
                  <span>{usedText(token)}</span>
                </span>
              </div>
              <Button
                variant="danger"
                size="small"
                busy={busy === `t${token.id}`}
                label={t('bots.revokeLabel', { name: token.name, username: u.username })}
                onClick={() => void revoke(token)}
              >
                {t('bots.revoke')}
              </Button>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
