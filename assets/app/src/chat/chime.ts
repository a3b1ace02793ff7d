// The in-app sound of a new message: a short two-note chime made with WebAudio (no audio
// files). It plays only where a notification is due (see `shouldNotify`), so do-not-disturb,
// mutes and "nothing" keep it quiet, and at most once every `GAP_MS` so a burst of messages
// does not become a burst of noise.

const GAP_MS = 2000;
const LEVEL = 0.08;
let last = 0;
let ctx: AudioContext | null = null;

/** Whether a chime may play now (not within `GAP_MS` of the previous one); notes the time. */
export function chimeDue(now: number): boolean {
  if (now - last < GAP_MS) return false;
  last = now;
  return true;
}

/** Plays the chime. Silent where WebAudio is missing or the browser has not allowed sound yet. */
export function playChime(now = Date.now()): void {
  if (!chimeDue(now)) return;
  const Ctx =
    typeof window === 'undefined'
      ? undefined
      : (window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext);
  if (!Ctx) return;
  try {
    ctx ??= new Ctx();
    void ctx.resume().catch(() => {});
    const start = ctx.currentTime + 0.01;
    [880, 1320].forEach((hz, i) => {
      const c = ctx!;
      const at = start + i * 0.12;
      const o = c.createOscillator();
      const g = c.createGain();
      o.type = 'sine';
      o.frequency.value = hz;
      g.gain.setValueAtTime(0, at);
      g.gain.linearRampToValueAtTime(LEVEL, at + 0.01);
      g.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
      o.connect(g);
      g.connect(c.destination);
      o.start(at);
      o.stop(at + 0.3);
    });
  } catch {
    // No sound is better than a broken page.
  }
}
