// The ringtone of an incoming call, made with WebAudio oscillators (no audio
// files): two mixed tones (400 + 450 Hz) in a double ring, 0.4 s on, 0.2 s
// off, 0.4 s on, 2 s off, as telephones ring in much of Europe.

const CYCLE_S = 3;
const LEVEL = 0.12;

/** Starts ringing; returns the function that stops it. Silent where WebAudio is missing or blocked. */
export function startRingtone(): () => void {
  const Ctx =
    typeof window === 'undefined'
      ? undefined
      : (window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext);
  if (!Ctx) return () => {};
  let ctx: AudioContext;
  try {
    ctx = new Ctx();
  } catch {
    return () => {};
  }
  void ctx.resume().catch(() => {});
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  const oscillators = [400, 450].map((hz) => {
    const o = ctx.createOscillator();
    o.type = 'sine';
    o.frequency.value = hz;
    o.connect(gain);
    o.start();
    return o;
  });
  // One cycle scheduled ahead at a time; a timer adds the next.
  let next = ctx.currentTime + 0.05;
  const burst = (at: number, length: number) => {
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(LEVEL, at + 0.02);
    gain.gain.setValueAtTime(LEVEL, at + length - 0.02);
    gain.gain.linearRampToValueAtTime(0, at + length);
  };
  const schedule = () => {
    while (next < ctx.currentTime + CYCLE_S) {
      burst(next, 0.4);
      burst(next + 0.6, 0.4);
      next += CYCLE_S;
    }
  };
  schedule();
  const timer = setInterval(schedule, 1000);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    for (const o of oscillators) {
      try {
        o.stop();
      } catch {
        // not started
      }
    }
    void ctx.close().catch(() => {});
  };
}
