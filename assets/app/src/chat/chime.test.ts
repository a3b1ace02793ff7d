import { describe, expect, it } from 'vitest';
import { chimeDue } from './chime';

describe('message chime', () => {
  it('sounds at most once every two seconds', () => {
    expect(chimeDue(10_000)).toBe(true);
    expect(chimeDue(10_500)).toBe(false);
    expect(chimeDue(11_999)).toBe(false);
    expect(chimeDue(12_000)).toBe(true);
  });
});
