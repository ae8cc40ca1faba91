import { describe, expect, it } from 'vitest';
import { formatCount } from '../../src/shared/numbers.js';

describe('formatCount', () => {
  it('prints what Intl.NumberFormat en-US prints, without loading it', () => {
    const intl = new Intl.NumberFormat('en-US');
    const values = [0, 1, 12, 999, 1000, 1001, 999_999, 1_000_000, 123_456_789, 2 ** 53 - 1, -1, -1000, -1234567.5, 0.5, 0.25, 1.125, 12.3456, 1234.0004, 160436.2, -0.0001, -0, 998_000, 1e15];
    for (let i = 0; i < 500; i++) values.push(Math.round(Math.random() * 10 ** (i % 12)), Math.round(Math.random() * 1e6) / 100);
    for (const x of values) expect(formatCount(x), String(x)).toBe(intl.format(x));
  });
});
