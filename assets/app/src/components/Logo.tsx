/** The Outpost mark: a simple flag on a pole. Decorative. */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg
      class="logo"
      width={size}
      height={size}
      viewBox="0 0 32 32"
      aria-hidden="true"
      focusable="false"
    >
      <rect width="32" height="32" rx="8" class="logo-bg" />
      <path d="M11 7v18" class="logo-pole" />
      <path d="M12 8h10l-2.5 4 2.5 4H12z" class="logo-flag" />
    </svg>
  );
}
