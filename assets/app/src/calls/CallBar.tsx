import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Call, Person } from '../api';
import { useChat } from '../chat/client';
import { useStore } from '../chat/store';
import { Link } from '../components/Link';
import { t, type MessageKey } from '../i18n';
import { channelPath } from '../router';
import { Avatar, photoOf } from '../views/chat/Avatar';
import { useCalls } from './context';
import { DeviceSettings } from './DeviceSettings';
import { CameraIcon, GearIcon, HangUpIcon, MicIcon, ScreenIcon, VideoToggleIcon } from './icons';
import type { ActiveCall, MicState, Notice } from './manager';
import { conversationName, personLabel } from './names';
import { formatCallDuration } from './record';
import type { RemoteTrack } from './session';
import { pickFocus, streamOf, videoTiles, type Tile } from './stage';

/**
 * The call bar: stays at the top of the main area while this device is in a
 * call, whatever page is open. The conversation, the duration, who is in the
 * call (speaking, muted), the controls, the video and the remote audio.
 * Without a call it shows the last call notice (e.g. why a call ended).
 */
export function CallBar() {
  const calls = useCalls();
  const active = useStore(calls.store, (s) => s.active);
  const notice = useStore(calls.store, (s) => s.notice);
  if (!active) {
    return notice ? <NoticeLine notice={notice} onDismiss={() => calls.dismissNotice()} standalone /> : null;
  }
  return <ActiveBar active={active} notice={notice} />;
}

function NoticeLine({ notice, onDismiss, standalone }: { notice: Notice; onDismiss: () => void; standalone?: boolean }) {
  return (
    <div
      class={`call-notice call-notice-${notice.tone}${standalone ? ' call-notice-alone' : ''}`}
      role={notice.tone === 'error' ? 'alert' : 'status'}
      data-notice={notice.key}
    >
      <span>{t(notice.key, notice.params)}</span>
      <button type="button" class="call-notice-close" aria-label={t('call.dismiss')} title={t('call.dismiss')} onClick={onDismiss}>
        <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <path d="M4 4l8 8M12 4l-8 8" class="icon-stroke" />
        </svg>
      </button>
    </div>
  );
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function statusText(active: ActiveCall, me: number, now: number): string {
  switch (active.phase) {
    case 'starting':
      return t('call.phase.starting');
    case 'joining':
      return t('call.phase.joining');
    case 'connecting':
      return t('call.phase.connecting');
  }
  const call = active.call;
  const alone = call ? call.participants.every((p) => p.user_id === me) : false;
  if (alone) return call && call.ringing.length ? t('call.ringing') : t('call.waiting');
  return formatCallDuration(now - active.joinedAt);
}

const MIC_TEXT: Record<Exclude<MicState, 'ok' | 'pending'>, MessageKey> = {
  blocked: 'call.mic.blocked',
  absent: 'call.mic.absent',
  unavailable: 'call.mic.unavailable',
  error: 'call.mic.error',
};

function ActiveBar({ active, notice }: { active: ActiveCall; notice: Notice | null }) {
  const calls = useCalls();
  const client = useChat();
  const me = client.me.id;
  const people = useStore(client.store, (s) => s.people);
  const channel = useStore(client.store, (s) => s.channels.get(active.channelId));
  const speaker = useStore(calls.store, (s) => s.choice.speaker);
  const [settings, setSettings] = useState(false);
  const [videoHidden, setVideoHidden] = useState(false);
  const now = useNow(1000);
  const where = conversationName(channel, me, people);
  const tiles = useMemo(
    () => videoTiles(active.remote, active.localCamera, active.localScreen, me),
    [active.remote, active.localCamera, active.localScreen, me],
  );
  const audio = active.remote.filter((r) => r.track.kind === 'audio');
  const micProblem = active.mic !== 'ok' && active.mic !== 'pending' ? active.mic : null;
  const joined = active.phase === 'connecting' || active.phase === 'connected';

  return (
    <section
      class={`call-bar call-${active.phase}`}
      aria-label={t('call.bar.label')}
      data-phase={active.phase}
      data-call-id={active.callId ?? undefined}
    >
      <div class="call-bar-row">
        <div class="call-info">
          <span class="call-live-dot" aria-hidden="true" />
          <Link href={channelPath(active.channelId)} class="call-where">
            {where}
          </Link>
          <span class="call-status" role="timer" aria-live="off">
            {statusText(active, me, now)}
          </span>
        </div>
        <Participants call={active.call} people={people} me={me} />
        <div class="call-controls" role="toolbar" aria-label={t('call.controls')}>
          <button
            type="button"
            class={`call-ctl${active.muted ? ' call-ctl-off' : ''}`}
            aria-pressed={active.muted}
            aria-label={active.muted ? t('call.unmute') : t('call.mute')}
            title={active.muted ? t('call.unmute') : t('call.mute')}
            disabled={active.mic !== 'ok'}
            onClick={() => calls.toggleMute()}
          >
            <MicIcon off={active.muted || active.mic !== 'ok'} />
          </button>
          <button
            type="button"
            class={`call-ctl${active.camera ? ' call-ctl-on' : ''}`}
            aria-pressed={active.camera}
            aria-label={active.camera ? t('call.cameraOff') : t('call.cameraOn')}
            title={active.camera ? t('call.cameraOff') : t('call.cameraOn')}
            disabled={!joined}
            onClick={() => void calls.toggleCamera()}
          >
            <CameraIcon off={!active.camera} />
          </button>
          {calls.canShareScreen && (
            <button
              type="button"
              class={`call-ctl${active.screen ? ' call-ctl-on' : ''}`}
              aria-pressed={active.screen}
              aria-label={active.screen ? t('call.screenOff') : t('call.screenOn')}
              title={active.screen ? t('call.screenOff') : t('call.screenOn')}
              disabled={!joined}
              onClick={() => void calls.toggleScreen()}
            >
              <ScreenIcon />
            </button>
          )}
          {tiles.length > 0 && (
            <button
              type="button"
              class="call-ctl"
              aria-pressed={!videoHidden}
              aria-label={videoHidden ? t('call.showVideo') : t('call.hideVideo')}
              title={videoHidden ? t('call.showVideo') : t('call.hideVideo')}
              onClick={() => setVideoHidden(!videoHidden)}
            >
              <VideoToggleIcon />
            </button>
          )}
          <button
            type="button"
            class="call-ctl"
            aria-label={t('call.settings')}
            title={t('call.settings')}
            aria-haspopup="dialog"
            onClick={() => setSettings(true)}
          >
            <GearIcon />
          </button>
          <button type="button" class="btn btn-small call-leave-btn" aria-label={t('call.leaveLabel')} title={t('call.leaveLabel')} onClick={() => calls.leave()}>
            <HangUpIcon />
            <span>{t('call.leave')}</span>
          </button>
        </div>
      </div>
      {micProblem && (
        <div class="call-notice call-notice-error" role="alert" data-mic={micProblem}>
          <span>{t(MIC_TEXT[micProblem])}</span>
          {micProblem !== 'unavailable' && (
            <button type="button" class="btn btn-secondary btn-small" onClick={() => void calls.retryMic()}>
              {t('call.mic.retry')}
            </button>
          )}
        </div>
      )}
      {notice && <NoticeLine notice={notice} onDismiss={() => calls.dismissNotice()} />}
      {tiles.length > 0 && !videoHidden && <VideoStage tiles={tiles} call={active.call} people={people} me={me} />}
      <div class="call-audio" hidden>
        {audio.map((r) => (
          <RemoteAudio key={r.mid} remote={r} speaker={speaker} />
        ))}
      </div>
      {settings && <DeviceSettings onClose={() => setSettings(false)} />}
    </section>
  );
}

interface PersonInCall {
  userId: number;
  muted: boolean;
  speaking: boolean;
}

/** One entry per person (a person on two devices counts once). */
export function peopleInCall(call: Call | null): PersonInCall[] {
  const byUser = new Map<number, PersonInCall>();
  for (const p of call?.participants ?? []) {
    const cur = byUser.get(p.user_id);
    if (cur) {
      cur.muted = cur.muted && p.muted;
      cur.speaking = cur.speaking || p.speaking;
    } else {
      byUser.set(p.user_id, { userId: p.user_id, muted: p.muted, speaking: p.speaking });
    }
  }
  return [...byUser.values()];
}

function Participants({ call, people, me }: { call: Call | null; people: ReadonlyMap<number, Person>; me: number }) {
  const list = peopleInCall(call);
  return (
    <ul class="call-people" aria-label={t('call.participants')}>
      {list.map((p) => {
        const name = personLabel(people, p.userId);
        const shown = p.userId === me ? t('call.you', { name }) : name;
        const label = p.muted ? t('call.mutedLabel', { name: shown }) : p.speaking ? t('call.speakingLabel', { name: shown }) : shown;
        return (
          <li
            key={p.userId}
            class={`call-person${p.speaking ? ' call-person-speaking' : ''}${p.muted ? ' call-person-muted' : ''}`}
            data-user-id={p.userId}
            data-speaking={p.speaking ? 'true' : 'false'}
            data-muted={p.muted ? 'true' : 'false'}
            aria-label={label}
            title={label}
          >
            <Avatar id={p.userId} name={name} size="s" photo={photoOf(people, p.userId)} />
            <span class="call-person-name">{shown}</span>
            {p.muted && (
              <span class="call-person-mute">
                <MicIcon off size={14} />
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

type SinkableAudio = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };

/** Plays one remote audio track (one element per track), on the chosen speaker where the browser allows. */
function RemoteAudio({ remote, speaker }: { remote: RemoteTrack; speaker: string | null }) {
  const ref = useRef<SinkableAudio>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = streamOf(remote.track);
    void el.play?.()?.catch(() => {});
  }, [remote.track]);
  useEffect(() => {
    const el = ref.current;
    if (el && typeof el.setSinkId === 'function') void el.setSinkId(speaker ?? '').catch(() => {});
  }, [speaker, remote.track]);
  return <audio ref={ref} autoPlay data-user-id={remote.userId} data-mid={remote.mid} />;
}

function VideoStage({ tiles, call, people, me }: { tiles: Tile[]; call: Call | null; people: ReadonlyMap<number, Person>; me: number }) {
  const [pinned, setPinned] = useState<string | null>(null);
  const lastSpeaker = useRef<number | null>(null);
  const speaking = (call?.participants ?? []).filter((p) => p.speaking && p.user_id !== me).map((p) => p.user_id);
  if (speaking.length) lastSpeaker.current = speaking[0]!;
  const focus = pickFocus(tiles, pinned, lastSpeaker.current);
  const others = tiles.filter((x) => x.key !== focus?.key);
  const nameOf = (tile: Tile) => {
    const name = personLabel(people, tile.userId);
    const who = tile.self ? t('call.you', { name }) : name;
    return tile.source === 'screen' ? t('call.screenOf', { name: who }) : who;
  };
  return (
    <div class={`call-stage${others.length ? '' : ' call-stage-single'}`} role="group" aria-label={t('call.videoLabel')}>
      {focus && (
        <div class="call-focus">
          <VideoTile tile={focus} label={nameOf(focus)} focused speaking={speaking.includes(focus.userId)} />
        </div>
      )}
      {others.length > 0 && (
        <div class="call-tiles">
          {others.map((tile) => (
            <VideoTile
              key={tile.key}
              tile={tile}
              label={nameOf(tile)}
              speaking={speaking.includes(tile.userId)}
              onPick={() => setPinned(tile.key)}
            />
          ))}
        </div>
      )}
    </div>
  );
}

function VideoTile({
  tile,
  label,
  focused,
  speaking,
  onPick,
}: {
  tile: Tile;
  label: string;
  focused?: boolean;
  speaking: boolean;
  onPick?: () => void;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = tile.stream;
    void el.play?.()?.catch(() => {});
  }, [tile.stream]);
  const classes = ['call-tile'];
  if (focused) classes.push('call-tile-focus');
  if (speaking) classes.push('call-tile-speaking');
  if (tile.self && tile.source === 'cam') classes.push('call-tile-mirror');
  const video = <video ref={ref} autoPlay playsInline muted data-user-id={tile.userId} data-source={tile.source} />;
  return (
    <figure class={classes.join(' ')} data-key={tile.key}>
      {onPick ? (
        <button type="button" class="call-tile-pick" aria-label={label} title={label} onClick={onPick}>
          {video}
        </button>
      ) : (
        video
      )}
      <figcaption class="call-tile-name">{label}</figcaption>
    </figure>
  );
}
