import { describe, expect, it } from 'vitest';
import { canonicalDecimal, canonicalTemporal, normalizerFor } from '../../src/main/engine/pipeline/normalize.js';
import { fitReason } from '../../src/main/engine/pipeline/typeFit.js';

describe('normalization for cross-engine comparison', () => {
  it('writes decimals one way', () => {
    expect(canonicalDecimal('0012.500')).toBe('12.5');
    expect(canonicalDecimal('-0.000')).toBe('0');
    expect(canonicalDecimal('+7')).toBe('7');
    expect(canonicalDecimal('123456789012345678901234567890.123456789')).toBe('123456789012345678901234567890.123456789');
  });

  it('writes timestamps one way', () => {
    expect(canonicalTemporal('2024-01-02T03:04:05.100000Z')).toBe('2024-01-02 03:04:05.1+00:00');
    expect(canonicalTemporal('2024-01-02 03:04:05+00')).toBe('2024-01-02 03:04:05+00:00');
    expect(canonicalTemporal('2024-01-02 03:04:05.000000')).toBe('2024-01-02 03:04:05');
    expect(canonicalTemporal('2024-01-02')).toBe('2024-01-02');
  });

  it('compares booleans, bytes, JSON and big integers by value', () => {
    expect(normalizerFor({ kind: 'boolean' })(1)).toBe(normalizerFor({ kind: 'boolean' })(true));
    expect(normalizerFor({ kind: 'binary' })(Buffer.from([0, 255]))).toBe('00ff');
    expect(normalizerFor({ kind: 'json' })('{"b":1, "a":[1,2]}')).toBe('{"a":[1,2],"b":1}');
    expect(normalizerFor({ kind: 'integer', bytes: 8 })(9223372036854775807n)).toBe('9223372036854775807');
    expect(normalizerFor({ kind: 'integer', bytes: 8 })(null)).toBeNull();
  });
});

describe('type fit', () => {
  it('flags what would lose values and passes what would not', () => {
    expect(fitReason({ kind: 'integer', bytes: 4 }, { kind: 'integer', bytes: 8 })).toBeUndefined();
    expect(fitReason({ kind: 'integer', bytes: 8 }, { kind: 'integer', bytes: 4 })).toMatch(/may not fit/);
    expect(fitReason({ kind: 'integer', bytes: 8, unsigned: true }, { kind: 'integer', bytes: 8 })).toMatch(/may not fit/);
    expect(fitReason({ kind: 'decimal', precision: 12, scale: 2 }, { kind: 'decimal', precision: 10, scale: 2 })).toMatch(/may not fit/);
    expect(fitReason({ kind: 'decimal', precision: 12, scale: 4 }, { kind: 'decimal', precision: 20, scale: 2 })).toMatch(/rounded/);
    expect(fitReason({ kind: 'text', maxLength: 40 }, { kind: 'text', maxLength: 20 })).toMatch(/longer/);
    expect(fitReason({ kind: 'timestamp', withTimeZone: true }, { kind: 'timestamp', withTimeZone: false })).toMatch(/time zone/);
    expect(fitReason({ kind: 'binary' }, { kind: 'integer', bytes: 8 })).toMatch(/cannot be stored/);
  });
});
