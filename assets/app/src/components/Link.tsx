import type { ComponentChildren } from 'preact';
import { navigate, shouldInterceptClick } from '../router';

interface LinkProps {
  href: string;
  class?: string;
  current?: boolean;
  onNavigate?: () => void;
  children: ComponentChildren;
}

/** An in-app link: a real <a href> (works with new tab / copy link) routed via pushState. */
export function Link({ href, class: className, current, onNavigate, children }: LinkProps) {
  return (
    <a
      href={href}
      class={className}
      aria-current={current ? 'page' : undefined}
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
