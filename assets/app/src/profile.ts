// Profile helpers (pure): photo addresses, the fields the directory manages, what a profile
// form changes, and the checks the server makes.

import type { ProfileField, ProfileUpdate, User } from './api';
import type { MessageKey } from './i18n';

/** Longest values the server accepts, in characters. */
export const PROFILE_LIMITS = { title: 100, department: 100, phone: 40, about: 500 } as const;

/** The largest photo the server takes (10 MiB). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/**
 * A photo's address in the given size: `photo_url` is the small one (96×96), `large` adds
 * `size=large` (up to 512×512).
 */
export function photoSrc(url: string, size: 'small' | 'large' = 'small'): string {
  if (size === 'small') return url;
  return `${url}${url.includes('?') ? '&' : '?'}size=large`;
}

/** True when the directory sets this field of the user, so it cannot be changed here. */
export function isManaged(user: Pick<User, 'managed_fields'>, field: ProfileField): boolean {
  return !!user.managed_fields?.includes(field);
}

/** What the profile form holds. */
export interface ProfileForm {
  display_name: string;
  title: string;
  department: string;
  phone: string;
  about: string;
}

const FORM_FIELDS = ['display_name', 'title', 'department', 'phone', 'about'] as const;

/** The form's starting values from the user. */
export function profileForm(user: User): ProfileForm {
  return {
    display_name: user.display_name,
    title: user.title ?? '',
    department: user.department ?? '',
    phone: user.phone ?? '',
    about: user.about ?? '',
  };
}

/** Single-line fields lose surrounding spaces; `about` keeps its inner lines but not trailing blanks. */
function clean(field: keyof ProfileForm, value: string): string {
  return field === 'about' ? value.replace(/\r\n?/g, '\n').trim() : value.trim();
}

/**
 * The `PATCH /me` body: only the fields that changed and that the directory does not manage
 * (sending a managed field is refused even unchanged). Empty when nothing is to be saved.
 */
export function profileChanges(user: User, form: ProfileForm): ProfileUpdate {
  const before = profileForm(user);
  const out: ProfileUpdate = {};
  for (const field of FORM_FIELDS) {
    if (field !== 'about' && isManaged(user, field)) continue;
    const value = clean(field, form[field]);
    if (value !== clean(field, before[field])) out[field] = value;
  }
  return out;
}

/** Characters a phone number may hold (as the server checks them): digits, + - ( ) . # * / and spaces, letters for an extension. */
export function validPhone(phone: string): boolean {
  return /^[0-9 +\-().#*/\p{L}]*$/u.test(phone.trim());
}

/** Length in characters (code points), as the server counts. */
const chars = (value: string) => [...value].length;

/** Per-field problems found before sending (the server checks the same). */
export function profileProblems(form: ProfileForm): Partial<Record<keyof ProfileForm, MessageKey>> {
  const out: Partial<Record<keyof ProfileForm, MessageKey>> = {};
  if (chars(clean('title', form.title)) > PROFILE_LIMITS.title) out.title = 'profile.jobTitle.tooLong';
  if (chars(clean('department', form.department)) > PROFILE_LIMITS.department) out.department = 'profile.department.tooLong';
  const phone = clean('phone', form.phone);
  if (chars(phone) > PROFILE_LIMITS.phone || !validPhone(phone)) out.phone = 'profile.phone.invalid';
  if (chars(clean('about', form.about)) > PROFILE_LIMITS.about) out.about = 'profile.about.tooLong';
  return out;
}

/** A `tel:` link for a phone number as people write it ("+7 (495) 123-45-67 # 12"). */
export function telHref(phone: string): string {
  return `tel:${phone.replace(/[^0-9+*#]/g, '').replace(/#/g, '%23')}`;
}
