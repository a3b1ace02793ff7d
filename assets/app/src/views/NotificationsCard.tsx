import { useContext, useEffect, useId, useState } from 'preact/hooks';
import { ApiError, api, type Language, type Preferences, type PreferencesUpdate } from '../api';
import { ChatContext } from '../chat/client';
import { dndActive } from '../chat/notify';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Loading } from '../components/Loading';
import { describeError } from '../errors';
import { applyLanguage, t, type MessageKey } from '../i18n';
import { redirectIfSignedOut } from '../session';
import { formatUntil } from '../status';
import { browserTimeZone, effectiveZone, parseClock, timeZoneList, tomorrowAt } from '../timezone';

const MAX_KEYWORDS = 20;
const MAX_KEYWORD_CHARS = 40;

/** Choices made with a switch or a list: shown as chosen while saved (they would spring back). */
const SHOWN_WHILE_SAVING: readonly (keyof PreferencesUpdate)[] = ['read_receipts', 'time_zone', 'language'];

const DND_FOR: readonly { key: MessageKey; ms: number }[] = [
  { key: 'prefs.dnd30m', ms: 30 * 60_000 },
  { key: 'prefs.dnd1h', ms: 60 * 60_000 },
  { key: 'prefs.dnd2h', ms: 2 * 60 * 60_000 },
];

/** A keyword as the server keeps it: lower case, single spaces. */
export function cleanKeyword(word: string): string {
  return word.trim().toLowerCase().replace(/\s+/g, ' ');
}

/**
 * Keywords typed into the editor ("fuel, convoy"), added to the list: cleaned, without
 * duplicates; or what is wrong (too many, too long).
 */
export function addKeywords(list: readonly string[], typed: string): { keywords: string[] } | { problem: MessageKey } {
  const next = [...list];
  for (const part of typed.split(',')) {
    const word = cleanKeyword(part);
    if (!word || next.includes(word)) continue;
    if ([...word].length > MAX_KEYWORD_CHARS) return { problem: 'prefs.keywordTooLong' };
    next.push(word);
  }
  if (next.length > MAX_KEYWORDS) return { problem: 'prefs.keywordsTooMany' };
  return { keywords: next };
}

/**
 * Notification preferences, kept with the account: do not disturb for a while, a daily quiet
 * time, the time zone, keywords, read receipts, and the language (applied at once).
 */
export function NotificationsCard() {
  const client = useContext(ChatContext);
  const [prefs, setPrefs] = useState<Preferences | null>(client?.state.preferences ?? null);
  const [hidden, setHidden] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);
  // Part of the change being saved (see SHOWN_WHILE_SAVING).
  const [pending, setPending] = useState<PreferencesUpdate | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(
    typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
  );
  const id = useId();

  useEffect(() => {
    let cancelled = false;
    setLoadError(null);
    api.preferences().then(
      (p) => {
        if (cancelled) return;
        setPrefs(p);
        client?.setPreferences(p);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        // A server without preferences: nothing to set here.
        if (err instanceof ApiError && err.status === 404) setHidden(true);
        else setLoadError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  async function save(body: PreferencesUpdate, key: string): Promise<boolean> {
    setBusy(key);
    setPending(Object.fromEntries(Object.entries(body).filter(([k]) => SHOWN_WHILE_SAVING.includes(k as keyof PreferencesUpdate))));
    setResult(null);
    try {
      const p = await api.updatePreferences(body);
      setPrefs(p);
      client?.setPreferences(p);
      setResult({ ok: true, text: t('prefs.saved') });
      setBusy(null);
      setPending(null);
      if (body.language !== undefined) applyLanguage(p.language);
      return true;
    } catch (err) {
      if (redirectIfSignedOut(err)) return false;
      setResult({ ok: false, text: describeError(err) });
      setBusy(null);
      setPending(null);
      return false;
    }
  }

  if (hidden) return null;

  let body;
  if (loadError) {
    body = (
      <>
        <p class="muted">{loadError}</p>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </>
    );
  } else if (!prefs) {
    body = <Loading />;
  } else {
    body = (
      <PreferencesForm
        key={attempt}
        prefs={pending ? { ...prefs, ...pending } : prefs}
        busy={busy}
        save={save}
        idBase={id}
        permission={permission}
        onEnableDesktop={async () => {
          if (client) {
            await client.requestNotifications();
            setPermission(client.state.notifications);
          } else if (typeof Notification !== 'undefined') {
            setPermission(await Notification.requestPermission());
          }
        }}
      />
    );
  }

  return (
    <section class="card prefs-card" aria-labelledby="profile-notifications">
      <h2 id="profile-notifications" class="card-title">
        {t('prefs.title')}
      </h2>
      <p class="card-meta">{t('prefs.intro')}</p>
      {body}
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
    </section>
  );
}

function PreferencesForm({
  prefs,
  busy,
  save,
  idBase: id,
  permission,
  onEnableDesktop,
}: {
  prefs: Preferences;
  busy: string | null;
  save: (body: PreferencesUpdate, key: string) => Promise<boolean>;
  idBase: string;
  permission: NotificationPermission | 'unsupported';
  onEnableDesktop: () => void;
}) {
  const browserZone = browserTimeZone();
  const zone = effectiveZone(prefs.time_zone, browserZone);
  const now = Date.now();
  const dndUntil = prefs.dnd_until !== null && prefs.dnd_until > now ? prefs.dnd_until : null;
  const quietNow = dndUntil === null && dndActive(prefs, now, browserZone);

  const [quietOn, setQuietOn] = useState(prefs.dnd_start !== null && prefs.dnd_end !== null);
  const [start, setStart] = useState(prefs.dnd_start ?? '22:00');
  const [end, setEnd] = useState(prefs.dnd_end ?? '08:00');
  const [quietProblem, setQuietProblem] = useState(false);
  const quietChanged = quietOn && (start !== prefs.dnd_start || end !== prefs.dnd_end);

  const [typed, setTyped] = useState('');
  const [keywordProblem, setKeywordProblem] = useState<MessageKey | null>(null);

  async function saveQuiet(on: boolean) {
    if (!on) {
      await save({ dnd_start: null, dnd_end: null }, 'quiet');
      return;
    }
    if (parseClock(start) === null || parseClock(end) === null || start === end) {
      setQuietProblem(true);
      return;
    }
    setQuietProblem(false);
    await save({ dnd_start: start, dnd_end: end }, 'quiet');
  }

  async function addTyped(text: string) {
    const added = addKeywords(prefs.keywords, text);
    if ('problem' in added) {
      setKeywordProblem(added.problem);
      return;
    }
    setKeywordProblem(null);
    setTyped('');
    if (added.keywords.length !== prefs.keywords.length) await save({ keywords: added.keywords }, 'keywords');
  }

  const zones = timeZoneList([browserZone, prefs.time_zone]);

  return (
    <div class="prefs">
      <section class="prefs-part" aria-labelledby={`${id}-dnd`}>
        <h3 id={`${id}-dnd`} class="details-heading">
          {t('prefs.dnd')}
        </h3>
        <p class="dnd-state" data-dnd={dndUntil !== null || quietNow ? 'on' : 'off'}>
          {dndUntil !== null
            ? t('prefs.dndOn', { until: formatUntil(dndUntil, now) })
            : quietNow
              ? t('prefs.dndQuiet')
              : t('prefs.dndOff')}
        </p>
        <div class="button-row" role="group" aria-label={t('prefs.dndFor')}>
          {DND_FOR.map((d) => (
            <Button
              key={d.key}
              variant="secondary"
              size="small"
              disabled={busy !== null}
              onClick={() => void save({ dnd_until: Date.now() + d.ms }, 'dnd')}
            >
              {t(d.key)}
            </Button>
          ))}
          <Button
            variant="secondary"
            size="small"
            disabled={busy !== null}
            onClick={() => void save({ dnd_until: tomorrowAt(Date.now(), 8, 0, zone) }, 'dnd')}
          >
            {t('prefs.dndTomorrow')}
          </Button>
          {dndUntil !== null && (
            <Button variant="danger" size="small" busy={busy === 'dnd'} onClick={() => void save({ dnd_until: null }, 'dnd')}>
              {t('prefs.dndEnd')}
            </Button>
          )}
        </div>
        {permission === 'default' && (
          <div class="form-actions">
            <Button variant="secondary" size="small" onClick={onEnableDesktop}>
              {t('sidebar.enableNotifications')}
            </Button>
          </div>
        )}
        {permission === 'denied' && <p class="field-hint">{t('prefs.desktopDenied')}</p>}
      </section>

      <section class="prefs-part" aria-labelledby={`${id}-quiet`}>
        <h3 id={`${id}-quiet`} class="details-heading">
          {t('prefs.quiet')}
        </h3>
        <label class="check">
          <input
            type="checkbox"
            checked={quietOn}
            disabled={busy !== null}
            onChange={(e) => {
              const on = e.currentTarget.checked;
              setQuietOn(on);
              void saveQuiet(on);
            }}
          />
          <span>{t('prefs.quietEnable')}</span>
        </label>
        <div class="quiet-row">
          <label class="quiet-time">
            <span class="field-label">{t('prefs.quietFrom')}</span>
            <input
              class="input"
              type="time"
              value={start}
              disabled={!quietOn}
              aria-invalid={quietProblem ? true : undefined}
              onInput={(e) => {
                setStart(e.currentTarget.value);
                setQuietProblem(false);
              }}
            />
          </label>
          <label class="quiet-time">
            <span class="field-label">{t('prefs.quietTo')}</span>
            <input
              class="input"
              type="time"
              value={end}
              disabled={!quietOn}
              aria-invalid={quietProblem ? true : undefined}
              onInput={(e) => {
                setEnd(e.currentTarget.value);
                setQuietProblem(false);
              }}
            />
          </label>
          {quietChanged && (
            <Button variant="secondary" busy={busy === 'quiet'} disabled={busy !== null && busy !== 'quiet'} onClick={() => void saveQuiet(true)}>
              {t('common.save')}
            </Button>
          )}
        </div>
        {quietProblem && <p class="field-error">{t('prefs.quietInvalid')}</p>}
        <p class="field-hint">{t('prefs.quietHint')}</p>
      </section>

      <div class="field">
        <label class="field-label" for={`${id}-zone`}>
          {t('prefs.timeZone')}
        </label>
        <select
          id={`${id}-zone`}
          class="input select"
          value={prefs.time_zone}
          disabled={busy !== null}
          aria-describedby={`${id}-zone-hint`}
          onChange={(e) => void save({ time_zone: e.currentTarget.value }, 'zone')}
        >
          <option value="">{t('prefs.timeZoneBrowser', { zone: browserZone })}</option>
          {zones.map((z) => (
            <option key={z} value={z}>
              {z.replace(/_/g, ' ')}
            </option>
          ))}
        </select>
        <p id={`${id}-zone-hint`} class="field-hint">
          {t('prefs.timeZoneHint')}
        </p>
      </div>

      <div class="field">
        <label class="field-label" for={`${id}-keywords`}>
          {t('prefs.keywords')}
        </label>
        {prefs.keywords.length > 0 && (
          <ul class="chips keyword-chips" aria-label={t('prefs.keywordsList')}>
            {prefs.keywords.map((k) => (
              <li key={k} class="chip">
                {k}
                <button
                  type="button"
                  class="chip-x"
                  aria-label={t('prefs.keywordRemove', { word: k })}
                  disabled={busy !== null}
                  onClick={() => void save({ keywords: prefs.keywords.filter((x) => x !== k) }, 'keywords')}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <input
          id={`${id}-keywords`}
          class="input"
          value={typed}
          autoComplete="off"
          aria-describedby={`${id}-keywords-hint${keywordProblem ? ` ${id}-keywords-problem` : ''}`}
          aria-invalid={keywordProblem ? true : undefined}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setKeywordProblem(null);
            // A comma ends a keyword (also when pasted).
            if (value.includes(',')) {
              const cut = value.lastIndexOf(',');
              setTyped(value.slice(cut + 1));
              void addTyped(value.slice(0, cut));
            } else {
              setTyped(value);
            }
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.isComposing) {
              e.preventDefault();
              void addTyped(typed);
            }
          }}
          onBlur={() => {
            if (typed.trim()) void addTyped(typed);
          }}
        />
        <p id={`${id}-keywords-hint`} class="field-hint">
          {t('prefs.keywordsHint')}
        </p>
        {keywordProblem && (
          <p id={`${id}-keywords-problem`} class="field-error">
            {t(keywordProblem)}
          </p>
        )}
      </div>

      <label class="check">
        <input
          type="checkbox"
          role="switch"
          checked={prefs.read_receipts}
          disabled={busy !== null}
          onChange={(e) => void save({ read_receipts: e.currentTarget.checked }, 'receipts')}
        />
        <span>
          <strong>{t('prefs.receipts')}</strong>
          <span class="field-hint">{t('prefs.receiptsHint')}</span>
        </span>
      </label>

      <div class="field">
        <label class="field-label" for={`${id}-language`}>
          {t('prefs.language')}
        </label>
        <select
          id={`${id}-language`}
          class="input select"
          value={prefs.language}
          disabled={busy !== null}
          onChange={(e) => void save({ language: e.currentTarget.value as Language }, 'language')}
        >
          <option value="">{t('prefs.languageBrowser')}</option>
          <option value="en" lang="en">
            {t('lang.en')}
          </option>
          <option value="ru" lang="ru">
            {t('lang.ru')}
          </option>
        </select>
      </div>
    </div>
  );
}
