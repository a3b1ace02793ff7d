// The record a call leaves in its conversation: a message of kind "call" whose
// body is JSON `{"call_id","missed","duration_ms","participants"}`.

export interface CallRecord {
  callId: number;
  missed: boolean;
  durationMs: number;
  participants: number[];
}

/** Reads a call record's body; null when it is not one (then show nothing special). */
export function parseCallRecord(body: string): CallRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.call_id !== 'number') return null;
  const duration = typeof o.duration_ms === 'number' && o.duration_ms > 0 ? o.duration_ms : 0;
  return {
    callId: o.call_id,
    missed: o.missed === true,
    durationMs: duration,
    participants: Array.isArray(o.participants) ? o.participants.filter((p): p is number => typeof p === 'number') : [],
  };
}

/** A call's length as a clock: `0:05`, `2:14`, `1:02:03` (whole seconds, rounded down). */
export function formatCallDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
