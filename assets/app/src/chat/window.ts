// Pure geometry of the windowed message list (unit tested).

/** Prefix offsets: `offsets[i]` is the top of item i, `offsets[n]` the total height. */
export function computeOffsets(keys: readonly string[], heights: ReadonlyMap<string, number>, estimate: number): number[] {
  const offsets = new Array<number>(keys.length + 1);
  let y = 0;
  for (let i = 0; i < keys.length; i++) {
    offsets[i] = y;
    y += heights.get(keys[i]!) ?? estimate;
  }
  offsets[keys.length] = y;
  return offsets;
}

/** Index of the item containing `y` (the last item whose top is <= y). */
export function indexAt(offsets: readonly number[], y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The items to render for a viewport, with `overscan` pixels above and below. */
export function visibleRange(
  offsets: readonly number[],
  scrollTop: number,
  viewport: number,
  overscan: number,
): { start: number; end: number } {
  const n = offsets.length - 1;
  if (n <= 0) return { start: 0, end: 0 };
  const start = indexAt(offsets, Math.max(0, scrollTop - overscan));
  const end = Math.min(n, indexAt(offsets, scrollTop + viewport + overscan) + 1);
  return { start, end };
}
