import { describe, expect, it } from 'vitest';
import { groupSecret, normalizeCode, policyApplies, qrImageSrc, recoveryCodesText } from './twoFactor';

describe('groupSecret', () => {
  it('groups the base32 key in fours', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
    expect(groupSecret('JBSWY3DPEHPK3PXPAB')).toBe('JBSW Y3DP EHPK 3PXP AB');
  });

  it('drops padding and spaces and upper-cases', () => {
    expect(groupSecret(' jbsw y3dp=== ')).toBe('JBSW Y3DP');
    expect(groupSecret('')).toBe('');
  });
});

describe('normalizeCode', () => {
  it('takes six digits from the app, with spaces', () => {
    expect(normalizeCode('123456', 'app')).toBe('123456');
    expect(normalizeCode(' 123 456 ', 'app')).toBe('123456');
  });

  it('rejects app codes of the wrong shape', () => {
    for (const code of ['', '12345', '1234567', '12345a', 'abcd-efgh', '１２３４５６']) {
      expect(normalizeCode(code, 'app'), code).toBeNull();
    }
  });

  it('writes recovery codes as xxxx-xxxx in lower case', () => {
    expect(normalizeCode('abcd-ef23', 'recovery')).toBe('abcd-ef23');
    expect(normalizeCode('ABCDEF23', 'recovery')).toBe('abcd-ef23');
    expect(normalizeCode(' abcd ef23 ', 'recovery')).toBe('abcd-ef23');
  });

  it('rejects recovery codes of the wrong shape', () => {
    for (const code of ['', 'abcd-efg', 'abcd-efgh2', 'abcd_efgh', '123456']) {
      expect(normalizeCode(code, 'recovery'), code).toBeNull();
    }
  });
});

describe('qrImageSrc', () => {
  it('makes a percent-encoded data: URL of the SVG', () => {
    const src = qrImageSrc('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0h1"/></svg>');
    expect(src.startsWith('data:image/svg+xml;charset=utf-8,%3Csvg%20')).toBe(true);
    expect(src).not.toMatch(/[<>"# ]/);
    expect(decodeURIComponent(src.slice(src.indexOf(',') + 1))).toContain('<path d="M0 0h1"/>');
  });
});

describe('recoveryCodesText', () => {
  it('puts the header, a blank line and one code a line', () => {
    expect(recoveryCodesText(['aaaa-bbbb', 'cccc-dddd'], ['Title', 'Hint'])).toBe(
      'Title\nHint\n\naaaa-bbbb\ncccc-dddd\n',
    );
  });
});

describe('policyApplies', () => {
  it('follows the site policy', () => {
    const admin = { is_admin: true };
    const member = { is_admin: false };
    expect(policyApplies('off', admin)).toBe(false);
    expect(policyApplies('admins', admin)).toBe(true);
    expect(policyApplies('admins', member)).toBe(false);
    expect(policyApplies('everyone', member)).toBe(true);
  });
});
