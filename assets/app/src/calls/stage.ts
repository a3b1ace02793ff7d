// The video stage of a call: which videos there are, and which one is large.

import type { RemoteTrack, TrackSource } from './session';

export interface Tile {
  key: string;
  userId: number;
  source: TrackSource;
  stream: MediaStream;
  /** This device's own camera or screen. */
  self: boolean;
}

// One MediaStream per received track, so re-renders do not restart playback.
const streams = new WeakMap<MediaStreamTrack, MediaStream>();
export function streamOf(track: MediaStreamTrack): MediaStream {
  let s = streams.get(track);
  if (!s) {
    s = new MediaStream([track]);
    streams.set(track, s);
  }
  return s;
}

/** Every video: the others' cameras and screens, then my own. */
export function videoTiles(
  remote: readonly RemoteTrack[],
  localCamera: MediaStream | null,
  localScreen: MediaStream | null,
  me: number,
  wrap: (track: MediaStreamTrack) => MediaStream = streamOf,
): Tile[] {
  const tiles: Tile[] = remote
    .filter((r) => r.source !== 'mic' && r.track.kind === 'video')
    .map((r) => ({ key: `m${r.mid}`, userId: r.userId, source: r.source, stream: wrap(r.track), self: false }));
  if (localScreen) tiles.push({ key: 'local-screen', userId: me, source: 'screen', stream: localScreen, self: true });
  if (localCamera) tiles.push({ key: 'local-cam', userId: me, source: 'cam', stream: localCamera, self: true });
  return tiles;
}

/**
 * The large video: the one the user picked; else a shared screen (someone
 * else's first); else the camera of who spoke last; else the first other
 * camera; else my own.
 */
export function pickFocus(tiles: readonly Tile[], pinned: string | null, lastSpeaker: number | null): Tile | null {
  const byKey = pinned !== null ? tiles.find((x) => x.key === pinned) : undefined;
  if (byKey) return byKey;
  const screens = tiles.filter((x) => x.source === 'screen');
  const screen = screens.find((x) => !x.self) ?? screens[0];
  if (screen) return screen;
  const speaker = lastSpeaker !== null ? tiles.find((x) => x.userId === lastSpeaker && !x.self) : undefined;
  if (speaker) return speaker;
  return tiles.find((x) => !x.self) ?? tiles[0] ?? null;
}
