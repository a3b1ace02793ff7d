import { useEffect, useRef } from 'preact/hooks';
import { hasNavigated } from '../router';

/**
 * The page's <h1>. It also sets the document title, and after an in-app
 * navigation takes the keyboard focus, so screen reader users hear where
 * they landed (as on a full page load).
 */
export function PageHeading({ title, docTitle }: { title: string; docTitle?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const fullTitle = docTitle ?? title;
  useEffect(() => {
    document.title = fullTitle === 'Outpost' ? fullTitle : `${fullTitle} · Outpost`;
  }, [fullTitle]);
  useEffect(() => {
    if (!hasNavigated()) return;
    // Deferred so that a form field that focuses itself (autoFocus) wins.
    const timer = setTimeout(() => {
      const heading = ref.current;
      const main = heading?.closest('main');
      if (heading && !(main && main.contains(document.activeElement) && document.activeElement !== main)) {
        heading.focus({ preventScroll: true });
      }
    }, 0);
    return () => clearTimeout(timer);
  }, []);
  return (
    <h1 ref={ref} class="page-title" tabIndex={-1}>
      {title}
    </h1>
  );
}
