import { describe, expect, it } from 'vitest';
import { computeOffsets, indexAt, visibleRange } from './window';

describe('list windowing', () => {
  const keys = ['a', 'b', 'c', 'd', 'e'];
  const heights = new Map([
    ['a', 10],
    ['c', 30],
  ]);
  const offsets = computeOffsets(keys, heights, 20);

  it('computes offsets from measured heights and the estimate', () => {
    expect(offsets).toEqual([0, 10, 30, 60, 80, 100]);
  });

  it('finds the item at a position', () => {
    expect(indexAt(offsets, 0)).toBe(0);
    expect(indexAt(offsets, 9)).toBe(0);
    expect(indexAt(offsets, 10)).toBe(1);
    expect(indexAt(offsets, 59)).toBe(2);
    expect(indexAt(offsets, 1000)).toBe(4);
    expect(indexAt([0], 5)).toBe(0);
  });

  it('renders only what is near the viewport', () => {
    expect(visibleRange(offsets, 30, 20, 0)).toEqual({ start: 2, end: 3 });
    expect(visibleRange(offsets, 30, 35, 0)).toEqual({ start: 2, end: 4 });
    expect(visibleRange(offsets, 30, 20, 100)).toEqual({ start: 0, end: 5 });
    expect(visibleRange([0], 0, 100, 0)).toEqual({ start: 0, end: 0 });
  });

  it('stays cheap with 10,000 rows', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
    const start = performance.now();
    const o = computeOffsets(many, new Map(), 48);
    const r = visibleRange(o, 240_000, 800, 800);
    expect(r.end - r.start).toBeLessThan(60);
    expect(performance.now() - start).toBeLessThan(50);
  });
});
