// A windowed list for chat: renders only the rows near the viewport, measures
// their real heights, sticks to the bottom while the reader is there, and
// keeps the row under the reader's eyes in place when rows are added above
// (older history) or change height.

import type { ComponentChildren, Ref } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { computeOffsets, indexAt, visibleRange } from '../chat/window';

export interface VirtualListHandle {
  scrollToBottom: () => void;
}

interface Props<T> {
  items: readonly T[];
  getKey: (item: T) => string;
  render: (item: T, index: number) => ComponentChildren;
  estimate?: number;
  overscan?: number;
  /** Key of a row to bring into view (with a changing `scrollNonce` to repeat). */
  scrollToKey?: string | null;
  scrollNonce?: number;
  onNearTop?: () => void;
  onNearBottom?: () => void;
  onAtBottomChange?: (atBottom: boolean) => void;
  class?: string;
  label?: string;
  handle?: Ref<VirtualListHandle | null>;
  header?: ComponentChildren;
  footer?: ComponentChildren;
}

const NEAR = 400;

export function VirtualList<T>(props: Props<T>) {
  const { items, getKey, estimate = 56, overscan = 800 } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const rowsRef = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [, setTick] = useState(0);
  const [view, setView] = useState({ top: 0, height: 800 });
  const atBottom = useRef(true);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const headerRef = useRef<HTMLDivElement>(null);
  const passes = useRef(0);

  const keys = useMemo(() => items.map(getKey), [items, getKey]);
  const offsets = computeOffsets(keys, heights.current, estimate);
  const headerH = headerRef.current?.offsetHeight ?? 0;
  const { start, end } = visibleRange(offsets, Math.max(0, view.top - headerH), view.height, overscan);

  const latest = useRef({ keys, offsets, headerH });
  latest.current = { keys, offsets, headerH };

  const recordAnchor = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const { keys: k, offsets: o, headerH: h } = latest.current;
    if (!k.length) {
      anchor.current = null;
      return;
    }
    const y = el.scrollTop - h;
    const i = indexAt(o, Math.max(0, y));
    anchor.current = { key: k[i]!, delta: o[i]! - y };
  }, []);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (bottom !== atBottom.current) {
      atBottom.current = bottom;
      props.onAtBottomChange?.(bottom);
    }
    recordAnchor();
    setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
    if (el.scrollTop < NEAR) props.onNearTop?.();
    if (el.scrollHeight - el.scrollTop - el.clientHeight < NEAR) props.onNearBottom?.();
  }, [props.onNearTop, props.onNearBottom, props.onAtBottomChange]);

  // Measure rendered rows; re-render when a height differs from what we assumed.
  useLayoutEffect(() => {
    // A safety net against layout feedback loops: at most 40 corrections per frame.
    if (++passes.current > 40) return;
    if (passes.current === 1) setTimeout(() => (passes.current = 0), 0);
    const el = scroller.current;
    const rows = rowsRef.current;
    if (!el || !rows) return;
    let changed = false;
    for (const child of Array.from(rows.children) as HTMLElement[]) {
      const key = child.dataset.key;
      if (!key) continue;
      const h = child.offsetHeight;
      if (heights.current.get(key) !== h) {
        heights.current.set(key, h);
        changed = true;
      }
    }
    if (changed) {
      setTick((n) => n + 1);
      return;
    }
    // Positions are final for this render: keep the reader's place.
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const i = keys.indexOf(anchor.current.key);
      if (i >= 0) {
        const desired = Math.round(offsets[i]! + headerH - anchor.current.delta);
        if (Math.abs(el.scrollTop - desired) > 1) el.scrollTop = desired;
      }
    }
    if (el.scrollTop !== view.top || el.clientHeight !== view.height) {
      setView({ top: el.scrollTop, height: el.clientHeight });
    }
    // Content shorter than the viewport cannot be scrolled: ask for more right away.
    if (keys.length && el.scrollHeight <= el.clientHeight + 1) {
      props.onNearTop?.();
      props.onNearBottom?.();
    }
  });

  // Bring a row into view (search result, "jump to").
  useEffect(() => {
    const key = props.scrollToKey;
    const el = scroller.current;
    if (!key || !el) return;
    atBottom.current = false;
    props.onAtBottomChange?.(false);
    anchor.current = { key, delta: Math.round(el.clientHeight / 3) };
    setTick((n) => n + 1);
  }, [props.scrollToKey, props.scrollNonce]);

  // Window and panel resizes change the viewport and the rows' heights.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    let lastWidth = el.clientWidth;
    const ro = new ResizeObserver(() => {
      if (el.clientWidth !== lastWidth) {
        lastWidth = el.clientWidth;
        heights.current.clear();
      }
      setView({ top: el.scrollTop, height: el.clientHeight });
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const handle = props.handle;
  useEffect(() => {
    if (!handle) return;
    const value: VirtualListHandle = {
      scrollToBottom: () => {
        const el = scroller.current;
        if (!el) return;
        atBottom.current = true;
        props.onAtBottomChange?.(true);
        el.scrollTop = el.scrollHeight;
        setTick((n) => n + 1);
      },
    };
    if (typeof handle === 'function') handle(value);
    else handle.current = value;
  });

  const topPad = offsets[start] ?? 0;
  const bottomPad = (offsets[keys.length] ?? 0) - (offsets[end] ?? 0);

  return (
    <div
      ref={scroller}
      class={props.class}
      onScroll={onScroll}
      role="log"
      aria-label={props.label}
      tabIndex={0}
      onKeyDown={(e) => {
        // Up/Down move the focus between items marked [data-item] (their actions appear on focus).
        if ((e.key !== 'ArrowUp' && e.key !== 'ArrowDown') || e.altKey || e.ctrlKey || e.metaKey) return;
        const target = e.target as HTMLElement;
        if (target !== scroller.current && !target.matches('[data-item]')) return;
        const all = [...(scroller.current?.querySelectorAll<HTMLElement>('[data-item]') ?? [])];
        if (!all.length) return;
        e.preventDefault();
        let i = all.indexOf(target);
        if (i < 0) i = e.key === 'ArrowUp' ? all.length : -1;
        const next = all[Math.max(0, Math.min(all.length - 1, i + (e.key === 'ArrowUp' ? -1 : 1)))]!;
        next.focus({ preventScroll: true });
        next.scrollIntoView({ block: 'nearest' });
      }}
    >
      <div ref={headerRef} class="vl-rows">
        {props.header}
      </div>
      <div style={{ height: `${topPad}px` }} aria-hidden="true" />
      <div ref={rowsRef} class="vl-rows">
        {items.slice(start, end).map((item, i) => (
          <div key={keys[start + i]} data-key={keys[start + i]} class="vl-row">
            {props.render(item, start + i)}
          </div>
        ))}
      </div>
      <div style={{ height: `${bottomPad}px` }} aria-hidden="true" />
      {props.footer}
    </div>
  );
}
