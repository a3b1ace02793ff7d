import type { ComponentChildren } from 'preact';
import { navigate, shouldInterceptClick } from '../router';

interface LinkProps {
  href: string;
  class?: string;
  current?: boolean;
  onNavigate?: () => void;
  label?: string;
  /** Rendered as data-* attributes (used by tests and styles). */
  data?: Record<string, string | number>;
  children: ComponentChildren;
}

/** An in-app link: a real <a href> (works with new tab / copy link) routed via pushState. */
export function Link({ href, class: className, current, onNavigate, label, data, children }: LinkProps) {
  const dataAttrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) dataAttrs[`data-${k}`] = String(v);
  return (
    <a
      href={href}
      class={className}
      aria-current={current ? 'page' : undefined}
      aria-label={label}
      {...dataAttrs}
      onClick={(event) => {
        if (!shouldInterceptClick(event)) return;
        event.preventDefault();
        navigate(href);
        onNavigate?.();
      }}
    >
      {children}
    </a>
  );
}
