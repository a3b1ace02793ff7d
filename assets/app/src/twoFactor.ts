// Two-step sign-in (TOTP authenticator apps, RFC 6238): small pure helpers for the views.

import type { TwoFactorPolicy, User } from './api';

/** What the code field takes: the 6 digits an authenticator app shows, or a recovery code. */
export type CodeKind = 'app' | 'recovery';

/** The file the recovery codes download as. */
export const RECOVERY_CODES_FILE = 'outpost-recovery-codes.txt';

/** The base32 key in groups of four for typing it into an app: "JBSW Y3DP EHPK 3PXP". */
export function groupSecret(secret: string): string {
  const plain = secret.replace(/[\s=]+/g, '').toUpperCase();
  return (plain.match(/.{1,4}/g) ?? []).join(' ');
}

/**
 * The code as the server wants it, or null when it cannot be one of `kind`:
 * app codes are exactly 6 digits (spaces, as in "123 456", are dropped); recovery codes
 * are 8 letters or digits, written `xxxx-xxxx` in lower case (spaces dropped, the dash optional).
 */
export function normalizeCode(input: string, kind: CodeKind): string | null {
  const compact = input.replace(/\s+/g, '');
  if (kind === 'app') return /^\d{6}$/.test(compact) ? compact : null;
  const plain = compact.replace(/-/g, '').toLowerCase();
  return /^[a-z0-9]{8}$/.test(plain) ? `${plain.slice(0, 4)}-${plain.slice(4)}` : null;
}

/** `<img src>` for the server's QR code SVG (the CSP allows data: images, nothing else inline). */
export function qrImageSrc(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** The text of the recovery codes file: the given header lines, a blank line, one code a line. */
export function recoveryCodesText(codes: readonly string[], header: readonly string[]): string {
  return [...header, '', ...codes, ''].join('\n');
}

/** Whether the site's policy requires two-step sign-in of `user`. */
export function policyApplies(policy: TwoFactorPolicy, user: Pick<User, 'is_admin'>): boolean {
  return policy === 'everyone' || (policy === 'admins' && user.is_admin);
}
