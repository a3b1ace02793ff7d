import { useEffect, useState } from 'preact/hooks';
import { ApiError, linksApi, type LinkInvite, type LinkView } from '../../api';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { CopyField } from '../../components/CopyField';
import { TextAreaField } from '../../components/Field';
import { Fingerprint, LinkStateTag } from '../../components/LinkState';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { getLocale, t } from '../../i18n';
import { decodeLinkCode, lastContactText, type LinkInvitation } from '../../links';
import { redirectIfSignedOut } from '../../session';
import { qrImageSrc } from '../../twoFactor';

type Result = { ok: boolean; text: string } | null;

/** How often the list asks for the links' states while it is shown. */
export const LINKS_REFRESH_MS = 15_000;

/** Choices offered for an invitation's lifetime, in hours (the server takes 1 to 720). */
export const LINK_INVITE_HOURS = [1, 24, 72, 168] as const;

function hoursLabel(hours: number): string {
  return hours % 24 === 0 && hours >= 48 ? t('admin.invite.days', { n: hours / 24 }) : t('admin.invite.hours', { n: hours });
}

/**
 * The "Linked sites" section (`/admin/links`): the links with their state, last contact and
 * backlog each way (pause, resume, remove), an invitation for another site, and accepting
 * another site's invitation after comparing its fingerprint.
 */
export function LinksSection() {
  // Accepting an invitation adds a link: the list loads again.
  const [version, setVersion] = useState(0);
  return (
    <>
      <LinksCard version={version} />
      <LinkInviteCard />
      <LinkAcceptCard onLinked={() => setVersion((n) => n + 1)} />
    </>
  );
}

/** Every link (administrators), asked again every 15 seconds while shown. */
function LinksCard({ version }: { version: number }) {
  const [list, setList] = useState<LinkView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Result>(null);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // One request at a time: the next is scheduled once the last one answered.
    const load = (first: boolean) => {
      timer = null;
      linksApi.list().then(
        (links) => {
          if (cancelled) return;
          setList(links);
          setError(null);
          setNow(Date.now());
          timer = setTimeout(() => load(false), LINKS_REFRESH_MS);
        },
        (err) => {
          if (cancelled || redirectIfSignedOut(err)) return;
          // A refresh that failed keeps what is shown and tries again later.
          if (first) setError(describeError(err));
          else timer = setTimeout(() => load(false), LINKS_REFRESH_MS);
        },
      );
    };
    setError(null);
    load(true);
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [attempt, version]);

  const replace = (link: LinkView) => setList((l) => (l ?? []).map((x) => (x.id === link.id ? link : x)));
  const drop = (id: number) => setList((l) => (l ?? []).filter((x) => x.id !== id));

  async function run(link: LinkView, action: () => Promise<string>) {
    setBusyId(link.id);
    setResult(null);
    try {
      setResult({ ok: true, text: await action() });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      if (err instanceof ApiError && err.status === 404) drop(link.id);
      setResult({ ok: false, text: describeError(err) });
    }
    setBusyId(null);
  }

  const setPaused = (link: LinkView, paused: boolean) =>
    run(link, async () => {
      replace(await (paused ? linksApi.pause(link.id) : linksApi.resume(link.id)));
      return t(paused ? 'links.pausedDone' : 'links.resumedDone', { name: link.name });
    });

  const remove = (link: LinkView) => {
    if (!window.confirm(t('links.confirmRemove', { name: link.name }))) return;
    void run(link, async () => {
      await linksApi.remove(link.id);
      drop(link.id);
      return t('links.removedDone', { name: link.name });
    });
  };

  let body;
  if (error) {
    body = (
      <>
        <Alert>{error}</Alert>
        <Button variant="secondary" onClick={() => setAttempt((n) => n + 1)}>
          {t('common.retry')}
        </Button>
      </>
    );
  } else if (!list) {
    body = <Loading />;
  } else if (!list.length) {
    body = <p class="muted">{t('links.empty')}</p>;
  } else {
    const locale = getLocale();
    const sorted = [...list].sort((a, b) => a.name.localeCompare(b.name, locale));
    body = (
      <div class="table-wrap admin-table-wrap">
        <table class="table admin-table admin-link-table">
          <thead>
            <tr>
              <th scope="col">{t('links.site')}</th>
              <th scope="col">{t('links.state')}</th>
              <th scope="col">{t('links.lastContact')}</th>
              <th scope="col">{t('links.backlogOut')}</th>
              <th scope="col">{t('links.backlogIn')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('admin.users.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((link) => {
              const busy = busyId === link.id;
              const paused = link.state === 'paused';
              return (
                <tr key={link.id} data-link-id={link.id} data-state={link.state}>
                  <th scope="row">
                    <span class="link-cell">
                      <span class="link-name">{link.name}</span>
                      <span class="link-meta">
                        <span class="visually-hidden">{t('admin.server.fingerprint')}: </span>
                        <span class="mono">{link.fingerprint}</span>
                      </span>
                      {link.addresses.length > 0 && (
                        <span class="link-meta">
                          <span class="visually-hidden">{t('links.addresses')}: </span>
                          <span class="mono">{link.addresses.join(', ')}</span>
                        </span>
                      )}
                      {link.last_error && <span class="link-error">{t('links.lastError', { error: link.last_error })}</span>}
                    </span>
                  </th>
                  <td data-label={t('links.state')}>
                    <LinkStateTag state={link.state} />
                  </td>
                  <td data-label={t('links.lastContact')} class="nowrap">
                    {link.last_contact_at === null ? (
                      <span class="muted">{lastContactText(null, now, locale)}</span>
                    ) : (
                      <time dateTime={new Date(link.last_contact_at).toISOString()} title={new Date(link.last_contact_at).toLocaleString(locale)}>
                        {lastContactText(link.last_contact_at, now, locale)}
                      </time>
                    )}
                  </td>
                  <td data-label={t('links.backlogOut')} class="link-backlog">
                    {link.backlog_out}
                  </td>
                  <td data-label={t('links.backlogIn')} class="link-backlog">
                    {link.backlog_in}
                  </td>
                  <td class="cell-actions">
                    <div class="row-actions">
                      <Button
                        variant="secondary"
                        size="small"
                        busy={busy}
                        label={t(paused ? 'links.resumeLabel' : 'links.pauseLabel', { name: link.name })}
                        onClick={() => void setPaused(link, !paused)}
                      >
                        {paused ? t('links.resume') : t('links.pause')}
                      </Button>
                      <Button variant="danger" size="small" busy={busy} label={t('links.removeLabel', { name: link.name })} onClick={() => remove(link)}>
                        {t('links.remove')}
                      </Button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <section class="card admin-links" aria-labelledby="admin-links">
      <h2 id="admin-links" class="card-title">
        {t('links.title')}
      </h2>
      <p class="card-meta">{t('links.intro')}</p>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {body}
    </section>
  );
}

/** A one-time invitation for another site: its code (to copy, or as a QR code), this site's fingerprint and addresses. */
function LinkInviteCard() {
  const [hours, setHours] = useState<number>(24);
  const [busy, setBusy] = useState(false);
  const [invite, setInvite] = useState<(LinkInvite & { hours: number }) | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      setInvite({ ...(await linksApi.invite({ hours })), hours });
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setError(describeError(err));
    }
    setBusy(false);
  }

  return (
    <section class="card" aria-labelledby="admin-link-invite">
      <h2 id="admin-link-invite" class="card-title">
        {t('links.invite.title')}
      </h2>
      <p class="card-meta">{t('links.invite.intro')}</p>
      <form class="form form-inline" onSubmit={onSubmit} aria-busy={busy}>
        <div class="field">
          <label class="field-label" for="link-invite-hours">
            {t('links.invite.validFor')}
          </label>
          <select
            id="link-invite-hours"
            class="input select"
            value={String(hours)}
            onChange={(event) => setHours(Number(event.currentTarget.value))}
          >
            {LINK_INVITE_HOURS.map((h) => (
              <option key={h} value={String(h)}>
                {hoursLabel(h)}
              </option>
            ))}
          </select>
        </div>
        <Button type="submit" busy={busy}>
          {busy ? t('links.invite.creating') : t('links.invite.create')}
        </Button>
      </form>
      {error && <Alert>{error}</Alert>}
      {invite && (
        <div class="invite-result link-invite">
          <CopyField key={invite.code} label={t('links.invite.code')} value={invite.code} />
          <div class="qr-block">
            {/* The server's SVG as an image: nothing in it can run. */}
            <img class="qr-image" src={qrImageSrc(invite.qr_svg)} alt={t('links.invite.qrAlt')} width={160} height={160} />
            <dl class="server-facts qr-text">
              <dt>{t('links.invite.site')}</dt>
              <dd>{invite.site_name}</dd>
              <dt>{t('admin.server.fingerprint')}</dt>
              <dd>
                <Fingerprint value={invite.fingerprint} />
              </dd>
              <dt>{t('links.addresses')}</dt>
              <dd class="mono">{invite.addresses.join(', ')}</dd>
            </dl>
          </div>
          <p class="card-meta">{t('links.invite.once', { time: hoursLabel(invite.hours) })}</p>
        </div>
      )}
    </section>
  );
}

/**
 * Accepting another site's invitation, in two steps: the code is read here first, and the site's
 * name and fingerprint are shown to compare with what its administrator reads out; only then is
 * it sent, with the fingerprint the administrator confirmed.
 */
function LinkAcceptCard({ onLinked }: { onLinked: () => void }) {
  const [code, setCode] = useState('');
  const [invalid, setInvalid] = useState(false);
  const [decoded, setDecoded] = useState<LinkInvitation | null>(null);
  const [match, setMatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result>(null);

  function onCheck(event: SubmitEvent) {
    event.preventDefault();
    setResult(null);
    const invitation = decodeLinkCode(code);
    if (!invitation) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    setMatch(false);
    setDecoded(invitation);
  }

  async function onLink(event: SubmitEvent) {
    event.preventDefault();
    if (busy || !decoded || !match) return;
    setBusy(true);
    setResult(null);
    try {
      const link = await linksApi.accept({ code: decoded.code, fingerprint: decoded.fingerprint });
      setResult({ ok: true, text: t('links.accept.done', { name: link.name || decoded.name }) });
      setDecoded(null);
      setCode('');
      onLinked();
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(false);
  }

  return (
    <section class="card" aria-labelledby="admin-link-accept">
      <h2 id="admin-link-accept" class="card-title">
        {t('links.accept.title')}
      </h2>
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {decoded ? (
        <form class="form link-confirm" onSubmit={onLink} aria-busy={busy}>
          <h3 class="details-heading">{t('links.accept.confirmTitle')}</h3>
          <p class="card-meta">{t('links.accept.confirmIntro', { name: decoded.name })}</p>
          <dl class="server-facts">
            <dt>{t('links.site')}</dt>
            <dd class="link-confirm-name">{decoded.name}</dd>
            <dt>{t('admin.server.fingerprint')}</dt>
            <dd class="link-confirm-fingerprint">
              <Fingerprint value={decoded.fingerprint} />
            </dd>
            <dt>{t('links.addresses')}</dt>
            <dd class="mono">{decoded.addresses.join(', ')}</dd>
          </dl>
          <label class="check">
            <input type="checkbox" checked={match} onChange={(e) => setMatch(e.currentTarget.checked)} />
            <span>{t('links.accept.match')}</span>
          </label>
          <div class="form-actions">
            <Button type="submit" busy={busy} disabled={!match}>
              {busy ? t('links.accept.linking') : t('links.accept.link')}
            </Button>
            <Button variant="secondary" disabled={busy} onClick={() => setDecoded(null)}>
              {t('links.accept.back')}
            </Button>
          </div>
        </form>
      ) : (
        <form class="form" onSubmit={onCheck}>
          <p class="card-meta">{t('links.accept.intro')}</p>
          <TextAreaField
            label={t('links.invite.code')}
            value={code}
            rows={3}
            maxLength={4096}
            error={invalid ? t('links.accept.invalid') : null}
            onValue={(v) => {
              setCode(v);
              setInvalid(false);
            }}
          />
          <div class="form-actions">
            <Button type="submit" disabled={!code.trim()}>
              {t('links.accept.continue')}
            </Button>
          </div>
        </form>
      )}
    </section>
  );
}
