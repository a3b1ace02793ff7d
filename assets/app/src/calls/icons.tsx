// Inline icons of the call UI (drawn on a 20×20 grid, stroked with the text color).

import type { ComponentChildren } from 'preact';

const svg = (size: number, children: ComponentChildren) => (
  <svg width={size} height={size} viewBox="0 0 20 20" aria-hidden="true" focusable="false">
    {children}
  </svg>
);

export const PhoneIcon = ({ size = 16 }: { size?: number }) =>
  svg(
    size,
    <path
      d="M5.5 2.5h2.2l1.1 4-1.6 1.2a9 9 0 0 0 5.1 5.1l1.2-1.6 4 1.1v2.2a2 2 0 0 1-2 2A14 14 0 0 1 3.5 4.5a2 2 0 0 1 2-2z"
      class="icon-stroke"
    />,
  );

export const HangUpIcon = ({ size = 16 }: { size?: number }) =>
  svg(
    size,
    <path
      d="M2.5 11.5c4.5-4 10.5-4 15 0l-1.5 2.5-3-1v-2.2a9 9 0 0 0-6 0V13l-3 1z"
      class="icon-stroke"
    />,
  );

export const MicIcon = ({ off = false, size = 18 }: { off?: boolean; size?: number }) =>
  svg(
    size,
    <>
      <rect x="7.5" y="2.5" width="5" height="9" rx="2.5" class="icon-stroke" />
      <path d="M4.5 9.5a5.5 5.5 0 0 0 11 0M10 15v2.5" class="icon-stroke" />
      {off && <path d="M3 3l14 14" class="icon-stroke" />}
    </>,
  );

export const CameraIcon = ({ off = false, size = 18 }: { off?: boolean; size?: number }) =>
  svg(
    size,
    <>
      <rect x="2.5" y="5.5" width="10.5" height="9" rx="1.5" class="icon-stroke" />
      <path d="M13 9l4.5-2.5v7L13 11" class="icon-stroke" />
      {off && <path d="M3 3l14 14" class="icon-stroke" />}
    </>,
  );

export const ScreenIcon = ({ size = 18 }: { size?: number }) =>
  svg(
    size,
    <>
      <rect x="2.5" y="3.5" width="15" height="10" rx="1.5" class="icon-stroke" />
      <path d="M7 17h6M10 13.5V17M10 11V6.5M7.8 8.5 10 6.3l2.2 2.2" class="icon-stroke" />
    </>,
  );

export const GearIcon = ({ size = 18 }: { size?: number }) =>
  svg(
    size,
    <>
      <circle cx="10" cy="10" r="2.5" class="icon-stroke" />
      <path
        d="M10 2.5v2M10 15.5v2M2.5 10h2M15.5 10h2M4.7 4.7l1.4 1.4M13.9 13.9l1.4 1.4M4.7 15.3l1.4-1.4M13.9 6.1l1.4-1.4"
        class="icon-stroke"
      />
    </>,
  );

export const VideoToggleIcon = ({ size = 18 }: { size?: number }) =>
  svg(
    size,
    <>
      <rect x="2.5" y="3.5" width="15" height="13" rx="1.5" class="icon-stroke" />
      <path d="M2.5 12.5h15" class="icon-stroke" />
    </>,
  );
