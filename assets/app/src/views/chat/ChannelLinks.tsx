import { useEffect, useState } from 'preact/hooks';
import { ApiError, linksApi, type ChannelLink, type LinkView } from '../../api';
import { Alert } from '../../components/Alert';
import { Button } from '../../components/Button';
import { Link } from '../../components/Link';
import { LinkStateTag } from '../../components/LinkState';
import { Loading } from '../../components/Loading';
import { describeError } from '../../errors';
import { getLocale, t } from '../../i18n';
import { backlogText, lastContactText, linksSummary, shareableLinks, withLinkStates } from '../../links';
import { adminPath } from '../../router';
import { redirectIfSignedOut } from '../../session';
import { openDialog } from './ui';

/** How often an open channel asks which linked sites carry it, and in what state. */
export const CHANNEL_LINKS_REFRESH_MS = 15_000;

const shareListeners = new Set<(channelId: number) => void>();

/** Tells whoever shows a channel's links that its shares changed here: they ask again at once. */
export function sharesChanged(channelId: number): void {
  for (const listener of [...shareListeners]) listener(channelId);
}

/**
 * The linked sites that carry a channel, asked when it opens and then every 15 seconds (one
 * request at a time; none while the tab is hidden) until unmounted. Null until the first answer;
 * empty when none carries it, or when the server has no linked sites (a 404: not asked again).
 */
export function useChannelLinks(channelId: number, enabled = true): ChannelLink[] | null {
  const [links, setLinks] = useState<ChannelLink[] | null>(null);
  useEffect(() => {
    setLinks(null);
    if (!enabled) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let asking = false;
    let again = false;
    const schedule = () => {
      if (!cancelled) timer = setTimeout(load, CHANNEL_LINKS_REFRESH_MS);
    };
    const finished = () => {
      asking = false;
      if (again) {
        again = false;
        load();
      } else {
        schedule();
      }
    };
    function load() {
      timer = null;
      if (cancelled) return;
      if (asking) {
        again = true;
        return;
      }
      // A hidden tab does not ask; it catches up on the next round once shown.
      if (typeof document !== 'undefined' && document.visibilityState === 'hidden') {
        schedule();
        return;
      }
      asking = true;
      linksApi.channel(channelId).then(
        (list) => {
          if (cancelled) return;
          setLinks(list);
          finished();
        },
        (err) => {
          if (cancelled) return;
          // Not a member (any more), or a server without linked sites: nothing to show or ask.
          if (err instanceof ApiError && (err.status === 404 || err.status === 403 || err.status === 401)) {
            asking = false;
            setLinks([]);
            return;
          }
          finished();
        },
      );
    }
    const onChanged = (id: number) => {
      if (id !== channelId || cancelled) return;
      if (timer) clearTimeout(timer);
      load();
    };
    shareListeners.add(onChanged);
    load();
    return () => {
      cancelled = true;
      shareListeners.delete(onChanged);
      if (timer) clearTimeout(timer);
    };
  }, [channelId, enabled]);
  return links;
}

function LinkIcon() {
  return (
    <svg class="link-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      <path d="M6.5 9.5l3-3M7 4.5l1-1a2.8 2.8 0 0 1 4 4l-1 1M9 11.5l-1 1a2.8 2.8 0 0 1-4-4l1-1" class="icon-stroke" />
    </svg>
  );
}

/**
 * In a channel's header: "Shared with HQ" / "Shared from HQ" while linked sites carry it, with a
 * warning ("link down", "link paused") while one of those links is not connected; each site's
 * state and last contact in the tooltip. Opens the channel's details.
 */
export function ChannelLinkIndicator({ channelId }: { channelId: number }) {
  const links = useChannelLinks(channelId);
  const summary = links ? linksSummary(links, Date.now(), getLocale()) : null;
  if (!summary) return null;
  const warning = summary.look === 'down' ? t('links.down') : summary.look === 'paused' ? t('links.pausedShort') : null;
  return (
    <button
      type="button"
      class={`link-indicator link-indicator-${summary.look}`}
      data-look={summary.look}
      title={summary.title}
      aria-label={warning ? `${summary.text} · ${warning}` : summary.text}
      onClick={() => openDialog({ type: 'details', channelId })}
    >
      <LinkIcon />
      <span class="link-indicator-text">{summary.text}</span>
      {warning && <span class="link-indicator-warn">{warning}</span>}
    </button>
  );
}

type Result = { ok: boolean; text: string } | null;

/**
 * A channel's linked sites, in its details: each site with its state, last contact and how far
 * behind it is. Its owners and administrators stop sharing with a site; administrators (who
 * alone may list the links) share it with another. Members see it only while a site carries it.
 */
export function ChannelLinksSection({
  channelId,
  channelName,
  manage,
  isAdmin,
}: {
  channelId: number;
  /** Without "#". */
  channelName: string;
  manage: boolean;
  isAdmin: boolean;
}) {
  const [links, setLinks] = useState<ChannelLink[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [all, setAll] = useState<LinkView[] | null>(null);
  const [choice, setChoice] = useState<number | null>(null);
  const [busy, setBusy] = useState<number | 'share' | null>(null);
  const [result, setResult] = useState<Result>(null);
  const [attempt, setAttempt] = useState(0);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    linksApi.channel(channelId).then(
      (list) => {
        if (!cancelled) setLinks(list);
      },
      (err) => {
        if (cancelled || redirectIfSignedOut(err)) return;
        // A server without linked sites.
        if (err instanceof ApiError && err.status === 404) setMissing(true);
        else setError(describeError(err));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [channelId, attempt]);

  const canShare = manage && isAdmin;
  useEffect(() => {
    if (!canShare) return;
    let cancelled = false;
    linksApi.list().then(
      (list) => {
        if (!cancelled) setAll(list);
      },
      () => {
        if (!cancelled) setAll([]);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [canShare, attempt]);

  if (missing) return null;
  // Members who cannot change anything see the part only while a site carries the channel.
  if (!manage && !error && !links?.length) return null;

  const locale = getLocale();
  const now = Date.now();
  const home = links?.find((l) => l.home);

  async function run(what: number | 'share', action: () => Promise<string>) {
    setBusy(what);
    setResult(null);
    try {
      setResult({ ok: true, text: await action() });
      sharesChanged(channelId);
    } catch (err) {
      if (redirectIfSignedOut(err)) return;
      setResult({ ok: false, text: describeError(err) });
    }
    setBusy(null);
  }

  const candidates = all && links ? shareableLinks(all, links, locale) : [];
  const chosen = candidates.find((l) => l.id === choice) ?? candidates[0];

  const share = () => {
    if (!chosen) return;
    const target = chosen;
    void run('share', async () => {
      const shares = await linksApi.share(channelId, target.id);
      setLinks((cur) => withLinkStates(shares, cur ?? [], all ?? []));
      setChoice(null);
      return t('links.channel.shared', { channel: channelName, name: target.name });
    });
  };

  const stop = (link: ChannelLink) => {
    if (!window.confirm(t('links.channel.confirmStop', { channel: channelName, name: link.site_name }))) return;
    void run(link.link_id, async () => {
      const shares = await linksApi.unshare(channelId, link.link_id);
      setLinks((cur) => withLinkStates(shares, cur ?? [], all ?? []));
      return t('links.channel.stopped', { channel: channelName, name: link.site_name });
    });
  };

  let list;
  if (error) {
    list = (
      <>
        <Alert>{error}</Alert>
        <div class="button-row">
          <Button variant="secondary" size="small" onClick={() => setAttempt((n) => n + 1)}>
            {t('common.retry')}
          </Button>
        </div>
      </>
    );
  } else if (!links) {
    list = <Loading />;
  } else if (!links.length) {
    list = <p class="muted">{t('links.channel.none')}</p>;
  } else {
    list = (
      <ul class="item-list" aria-label={t('links.channel.list', { name: `#${channelName}` })}>
        {links.map((l) => (
          <li key={l.link_id} class="item-row channel-link-row" data-link-id={l.link_id} data-state={l.state}>
            <div class="item-info">
              <span class="item-name">
                {l.site_name} {l.home && <span class="badge badge-accent">{t('links.channel.home')}</span>}
              </span>
              <span class="item-meta">
                <LinkStateTag state={l.state} />
                <span>
                  {l.last_contact_at === null
                    ? t('links.noContact')
                    : t('links.contact', { time: lastContactText(l.last_contact_at, now, locale) })}
                </span>
                <span class="channel-link-backlog">{backlogText(l.backlog_out, l.backlog_in)}</span>
              </span>
            </div>
            {manage && !l.home && (
              <Button
                variant="secondary"
                size="small"
                busy={busy === l.link_id}
                disabled={busy !== null}
                label={t('links.channel.stopLabel', { name: l.site_name })}
                onClick={() => stop(l)}
              >
                {t('links.channel.stop')}
              </Button>
            )}
          </li>
        ))}
      </ul>
    );
  }

  let sharing = null;
  if (manage && links && !home && !error) {
    if (!isAdmin) {
      sharing = <p class="field-hint">{t('links.channel.askAdmin')}</p>;
    } else if (!all) {
      sharing = <Loading />;
    } else if (!all.length) {
      sharing = (
        <p class="field-hint">
          {t('links.channel.noLinks')}{' '}
          <Link href={adminPath('links')} onNavigate={() => openDialog(null)}>
            {t('links.channel.manage')}
          </Link>
        </p>
      );
    } else if (!candidates.length) {
      sharing = <p class="field-hint">{t('links.channel.allShared')}</p>;
    } else {
      sharing = (
        <form
          class="form form-inline"
          onSubmit={(e) => {
            e.preventDefault();
            share();
          }}
        >
          <div class="field">
            <label class="field-label" for={`share-link-${channelId}`}>
              {t('links.channel.share')}
            </label>
            <select
              id={`share-link-${channelId}`}
              class="input select"
              value={chosen ? String(chosen.id) : ''}
              disabled={busy !== null}
              onChange={(e) => setChoice(Number(e.currentTarget.value))}
            >
              {candidates.map((l) => (
                <option key={l.id} value={String(l.id)}>
                  {l.name}
                </option>
              ))}
            </select>
          </div>
          <Button type="submit" variant="secondary" busy={busy === 'share'} disabled={busy !== null}>
            {t('links.channel.shareButton')}
          </Button>
        </form>
      );
    }
  }

  return (
    <section class="integrations channel-links" aria-labelledby={`details-links-${channelId}`}>
      <h3 id={`details-links-${channelId}`} class="details-heading">
        {t('links.channel.title')}
      </h3>
      {links && links.length > 0 && (
        <p class="muted integrations-intro">
          {home ? t('links.channel.homeIntro', { name: home.site_name }) : t('links.channel.intro')}
        </p>
      )}
      {result && <Alert kind={result.ok ? 'success' : 'error'}>{result.text}</Alert>}
      {list}
      {sharing}
    </section>
  );
}
