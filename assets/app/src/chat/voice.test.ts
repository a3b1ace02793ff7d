import { describe, expect, it } from 'vitest';
import type { FileView, Message } from '../api';
import {
  CANCEL_SLIDE_PX,
  computeWaveform,
  displayWaveform,
  formatClock,
  levelOf,
  nextSpeed,
  nextVoiceFile,
  pickRecordingType,
  recordingName,
  releaseAction,
  speedLabel,
  WAVEFORM_BARS,
} from './voice';

describe('computeWaveform', () => {
  it('takes the peak of each stretch, scaled so the loudest is 255', () => {
    // Four stretches of 4 samples: peaks 0.1, 0.5 (negative), 0.25, 0.
    const samples = Float32Array.from([0, 0.1, -0.05, 0.02, 0.2, -0.5, 0.1, 0, 0.25, 0.1, 0, 0, 0, 0, 0, 0]);
    expect(computeWaveform(samples, 4)).toEqual([51, 255, 128, 0]);
  });

  it('gives 64 whole numbers of 0-255 by default', () => {
    const samples = new Float32Array(48000);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.sin(i / 10) * (i / samples.length);
    const w = computeWaveform(samples);
    expect(w).toHaveLength(WAVEFORM_BARS);
    expect(w.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    expect(w[w.length - 1]).toBe(255);
    expect(w[0]).toBeLessThan(10); // it grows louder
  });

  it('takes the loudest channel of a stereo recording', () => {
    const left = Float32Array.from([0.1, 0.1, 0.1, 0.1]);
    const right = Float32Array.from([0, 0, 0.8, 0.8]);
    expect(computeWaveform([left, right], 2)).toEqual([32, 255]);
  });

  it('keeps near-silence low instead of blowing it up', () => {
    const hiss = Float32Array.from([0.01, -0.01, 0.005, 0.01]);
    expect(Math.max(...computeWaveform(hiss, 4))).toBeLessThanOrEqual(51);
  });

  it('is all zeros for an empty recording, and fills bars when there are fewer samples than bars', () => {
    expect(computeWaveform(new Float32Array(0), 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const w = computeWaveform(Float32Array.from([0.5, 1]), 4);
    expect(w).toHaveLength(4);
    expect(w).toContain(255);
  });

  it('ignores values that are not numbers', () => {
    expect(computeWaveform(Float32Array.from([NaN, 0.5]), 1)).toEqual([255]);
  });
});

describe('displayWaveform', () => {
  it('clamps values and groups long waveforms by their loudest value', () => {
    expect(displayWaveform([300, -4, 12.4], 8)).toEqual([255, 0, 12]);
    expect(displayWaveform([1, 9, 2, 8], 2)).toEqual([9, 8]);
    expect(displayWaveform(undefined, 3)).toEqual([0, 0, 0]);
  });
});

describe('recording helpers', () => {
  it('prefers Opus in WebM and falls back in order', () => {
    expect(pickRecordingType(() => true)).toBe('audio/webm;codecs=opus');
    expect(pickRecordingType((t) => t === 'audio/mp4')).toBe('audio/mp4');
    expect(pickRecordingType(() => false)).toBe('');
    expect(
      pickRecordingType(() => {
        throw new Error('old browser');
      }),
    ).toBe('');
  });

  it('names a recording after its time and container', () => {
    const at = new Date(2026, 0, 31, 14, 5, 9).getTime();
    expect(recordingName('audio/webm', at)).toBe('voice-2026-01-31-14-05-09.webm');
    expect(recordingName('audio/ogg', at)).toMatch(/\.ogg$/);
    expect(recordingName('audio/mp4', at)).toMatch(/\.m4a$/);
  });

  it('measures the microphone level from time-domain bytes', () => {
    expect(levelOf(new Uint8Array([128, 128, 128]))).toBe(0);
    expect(levelOf(new Uint8Array([255, 0, 255, 0]))).toBe(1);
    expect(levelOf(new Uint8Array(0))).toBe(0);
  });

  it('decides what letting go of the button does', () => {
    expect(releaseAction(-(CANCEL_SLIDE_PX + 1), 3000)).toBe('cancel');
    expect(releaseAction(-CANCEL_SLIDE_PX, 3000)).toBe('send');
    expect(releaseAction(0, 1000)).toBe('send');
    expect(releaseAction(0, 150)).toBe('lock');
    expect(releaseAction(-200, 150)).toBe('cancel');
    expect(releaseAction(0, -Infinity)).toBe('lock'); // let go before the microphone was ready
  });
});

describe('player', () => {
  it('toggles 1× → 1.5× → 2× → 1×', () => {
    expect(nextSpeed(1)).toBe(1.5);
    expect(nextSpeed(1.5)).toBe(2);
    expect(nextSpeed(2)).toBe(1);
    expect(nextSpeed(3)).toBe(1);
    expect(speedLabel(1.5)).toBe('1.5×');
  });

  it('formats times', () => {
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(7_900)).toBe('0:07');
    expect(formatClock(750_000)).toBe('12:30');
    expect(formatClock(3_723_000)).toBe('1:02:03');
    expect(formatClock(null)).toBe('0:00');
    expect(formatClock(NaN)).toBe('0:00');
  });

  const voice = (id: string, extra: Partial<FileView> = {}): FileView => ({
    id,
    name: `${id}.webm`,
    size: 1,
    mime: 'audio/webm',
    kind: 'audio',
    width: null,
    height: null,
    duration_ms: 2000,
    url: `/api/v1/files/${id}`,
    thumb_url: null,
    preview_url: null,
    poster_url: null,
    voice: true,
    waveform: [1, 2],
    ...extra,
  });
  const msg = (id: number, files: FileView[], extra: Partial<Message> = {}): Pick<Message, 'id' | 'deleted' | 'files'> => ({
    id,
    deleted: false,
    files,
    ...extra,
  });

  it('plays the next voice message below, skipping other files and deleted messages', () => {
    const list = [
      msg(1, [voice('a')]),
      msg(2, []),
      msg(3, [voice('song', { voice: undefined })]), // a music file, not a voice message
      msg(4, [voice('gone')], { deleted: true }),
      msg(5, [voice('b')]),
      msg(6, [voice('c')]),
    ];
    expect(nextVoiceFile(list, 1, 'a')).toEqual({ messageId: 5, file: list[4]!.files![0] });
    expect(nextVoiceFile(list, 5, 'b')?.file.id).toBe('c');
    expect(nextVoiceFile(list, 6, 'c')).toBeNull();
    expect(nextVoiceFile(list, 99, 'x')).toBeNull();
  });

  it('plays the next voice file of the same message first', () => {
    const list = [msg(1, [voice('a'), voice('b')]), msg(2, [voice('c')])];
    expect(nextVoiceFile(list, 1, 'a')?.file.id).toBe('b');
    expect(nextVoiceFile(list, 1, 'b')?.file.id).toBe('c');
  });
});
