import type { ComponentChildren } from 'preact';

interface ButtonProps {
  type?: 'button' | 'submit';
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  size?: 'normal' | 'small';
  busy?: boolean;
  disabled?: boolean;
  block?: boolean;
  onClick?: () => void;
  label?: string;
  controls?: string;
  expanded?: boolean;
  children: ComponentChildren;
}

/** A button; while `busy` it is disabled and marked aria-busy. */
export function Button(props: ButtonProps) {
  const classes = ['btn', `btn-${props.variant ?? 'primary'}`];
  if (props.size === 'small') classes.push('btn-small');
  if (props.block) classes.push('btn-block');
  return (
    <button
      type={props.type ?? 'button'}
      class={classes.join(' ')}
      disabled={props.disabled || props.busy}
      aria-busy={props.busy ? true : undefined}
      aria-label={props.label}
      aria-controls={props.controls}
      aria-expanded={props.expanded}
      onClick={props.onClick}
    >
      {props.busy && <span class="spinner spinner-inline" aria-hidden="true" />}
      {props.children}
    </button>
  );
}
