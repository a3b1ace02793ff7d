import type { ComponentChildren } from 'preact';

interface AlertProps {
  kind?: 'error' | 'success' | 'info';
  children: ComponentChildren;
}

/**
 * A message box. Errors use role="alert" (announced immediately), other kinds
 * role="status" (announced politely).
 */
export function Alert({ kind = 'error', children }: AlertProps) {
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
