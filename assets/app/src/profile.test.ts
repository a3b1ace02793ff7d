import { describe, expect, it } from 'vitest';
import type { User } from './api';
import { isManaged, photoSrc, profileChanges, profileForm, profileProblems, telHref, validPhone } from './profile';

const user: User = {
  id: 7,
  username: 'ivanova',
  display_name: 'Anna Ivanova',
  is_admin: false,
  disabled: false,
  created_at: '2026-01-01T00:00:00Z',
  title: 'Engineer',
  department: 'Networks',
  phone: '+7 495 123-45-67',
  about: 'Line one\nLine two',
  photo_url: '/api/v1/users/7/photo?v=1733380000000',
  from_directory: true,
  managed_fields: ['display_name', 'phone'],
};

describe('photoSrc', () => {
  it('is the small photo as given, and adds size=large for the large one', () => {
    expect(photoSrc(user.photo_url!)).toBe('/api/v1/users/7/photo?v=1733380000000');
    expect(photoSrc(user.photo_url!, 'large')).toBe('/api/v1/users/7/photo?v=1733380000000&size=large');
    expect(photoSrc('/api/v1/users/7/photo', 'large')).toBe('/api/v1/users/7/photo?size=large');
  });
});

describe('profile form', () => {
  it('knows the fields the directory manages', () => {
    expect(isManaged(user, 'display_name')).toBe(true);
    expect(isManaged(user, 'title')).toBe(false);
    expect(isManaged({ managed_fields: undefined }, 'photo')).toBe(false);
  });

  it('starts from the user, with empty strings for a server without profiles', () => {
    expect(profileForm(user)).toEqual({
      display_name: 'Anna Ivanova',
      title: 'Engineer',
      department: 'Networks',
      phone: '+7 495 123-45-67',
      about: 'Line one\nLine two',
    });
    const old: User = { id: 1, username: 'a', display_name: 'A', is_admin: false, disabled: false, created_at: '' };
    expect(profileForm(old)).toEqual({ display_name: 'A', title: '', department: '', phone: '', about: '' });
  });

  it('sends only what changed, never a managed field', () => {
    const form = profileForm(user);
    expect(profileChanges(user, form)).toEqual({});
    expect(profileChanges(user, { ...form, title: '  Lead engineer ', display_name: 'Anya', phone: '1' })).toEqual({
      title: 'Lead engineer',
    });
    expect(profileChanges(user, { ...form, about: 'Line one\r\nLine two\n\n' })).toEqual({});
    expect(profileChanges(user, { ...form, about: 'Line one\r\nLine 2' })).toEqual({ about: 'Line one\nLine 2' });
    const local = { ...user, from_directory: false, managed_fields: [] };
    expect(profileChanges(local, { ...form, display_name: ' Anya ', department: '' })).toEqual({
      display_name: 'Anya',
      department: '',
    });
  });

  it('checks lengths and phone characters as the server does', () => {
    const form = profileForm(user);
    expect(profileProblems(form)).toEqual({});
    expect(profileProblems({ ...form, title: 'x'.repeat(101), about: 'я'.repeat(501) })).toEqual({
      title: 'profile.jobTitle.tooLong',
      about: 'profile.about.tooLong',
    });
    // Characters, not UTF-16 units.
    expect(profileProblems({ ...form, department: '😀'.repeat(100) })).toEqual({});
    expect(profileProblems({ ...form, phone: '+7 <495>' })).toEqual({ phone: 'profile.phone.invalid' });
    expect(profileProblems({ ...form, phone: '1'.repeat(41) })).toEqual({ phone: 'profile.phone.invalid' });
    expect(validPhone('+1 (555) 010-9999 ext. 12')).toBe(true);
    expect(validPhone('*99#/2')).toBe(true);
    expect(validPhone('555_0100')).toBe(false);
  });
});

describe('telHref', () => {
  it('keeps what a phone dials', () => {
    expect(telHref('+7 (495) 123-45-67')).toBe('tel:+74951234567');
    expect(telHref('*99# / 2')).toBe('tel:*99%232');
  });
});
