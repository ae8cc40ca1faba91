/** Checks of integer, decimal and floating-point values against the target column's range and precision. */
import type { Column, Value } from '../../types.js';
import type { TypeCheckContext, ValueCheck } from './check.js';
import { scanDecimal, scannedFracDigits, scannedIntDigits } from './decimal.js';
import { label, show } from './text.js';

export const INTEGER_TEXT = /^[+-]?\d+$/;

export function integerCheck(target: Column, t: { bytes: 1 | 2 | 3 | 4 | 8; unsigned?: boolean }): ValueCheck {
  const bits = BigInt(t.bytes * 8);
  const minBig = t.unsigned ? 0n : -(2n ** (bits - 1n));
  const maxBig = t.unsigned ? 2n ** bits - 1n : 2n ** (bits - 1n) - 1n;
  // Both bounds as doubles are exact: 0 or a power of two, and max + 1 is one too.
  const min = Number(minBig);
  const maxExclusive = Number(maxBig + 1n);
  const range = `${label(target)} holds ${minBig} to ${maxBig}`;
  const notInteger = (v: Value) => `${target.name}: ${show(v)} is not an integer; the target column ${label(target)} holds whole numbers`;
  const outOfRange = (v: Value) => `${target.name}: ${show(v)} is out of range; the target column ${range}`;
  const inRange = (big: bigint) => big >= minBig && big <= maxBig;
  return (v) => {
    if (typeof v === 'number') {
      if (v >= min && v < maxExclusive) return Number.isInteger(v) ? undefined : notInteger(v);
      return Number.isInteger(v) ? outOfRange(v) : notInteger(v);
    }
    if (typeof v === 'bigint') return inRange(v) ? undefined : outOfRange(v);
    if (typeof v === 'boolean') return undefined;
    if (typeof v === 'string') {
      if (!INTEGER_TEXT.test(v)) return notInteger(v);
      return inRange(BigInt(v)) ? undefined : outOfRange(v);
    }
    return notInteger(v);
  };
}

export function decimalCheck(target: Column, t: { precision?: number; scale?: number }, ctx: TypeCheckContext): ValueCheck {
  const scale = t.scale ?? 0;
  const intDigits = t.precision === undefined ? Infinity : t.precision - scale;
  const fracDigits = t.precision === undefined || ctx.lossAccepted ? Infinity : Math.max(0, scale);
  const what = label(target);
  const notNumber = (v: Value) => `${target.name}: ${show(v)} is not a number; the target column ${what} holds decimal numbers`;
  const fits = (v: Value, text: string): string | undefined => {
    if (!scanDecimal(text)) return notNumber(v);
    if (scannedIntDigits > intDigits) {
      return `${target.name}: ${show(v)} has ${scannedIntDigits} digits before the decimal point; the target column ${what} holds at most ${intDigits}`;
    }
    if (scannedFracDigits > fracDigits) return `${target.name}: ${show(v)} has more than ${fracDigits} decimal places (${what}); it would be rounded`;
    return undefined;
  };
  return (v) => {
    if (typeof v === 'string') return fits(v, v);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${target.name}: ${v} cannot be stored in the target column ${what}, which holds finite numbers only`;
      return fits(v, String(v));
    }
    if (typeof v === 'bigint') return fits(v, v.toString());
    if (typeof v === 'boolean') return undefined;
    return notNumber(v);
  };
}

const NON_FINITE_TEXT: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, inf: Infinity, '-inf': -Infinity };

export function floatCheck(target: Column, t: { bytes: 4 | 8 }, ctx: TypeCheckContext): ValueCheck {
  const what = label(target);
  const single = t.bytes === 4;
  const nonFinite = (v: Value, n: number) => {
    if (ctx.nonFiniteFloats === 'all' || (ctx.nonFiniteFloats === 'infinity' && !Number.isNaN(n))) return undefined;
    return `${target.name}: ${show(v)} cannot be stored in the target column ${what}, which holds ${ctx.nonFiniteFloats === 'infinity' ? 'finite numbers and ±Infinity (not NaN)' : 'finite numbers only'}`;
  };
  const number = (v: Value, n: number): string | undefined => {
    if (!Number.isFinite(n)) return nonFinite(v, n);
    if (single && n !== 0) {
      const s = Math.abs(n);
      // Beyond FLT_MAX by less than half a unit rounds to FLT_MAX ("3.4028235e+38" is how PostgreSQL prints it).
      if (!Number.isFinite(Math.fround(s))) return `${target.name}: ${show(v)} is out of range for the target column ${what} (single precision holds up to 3.4e38)`;
      if (Math.fround(s) === 0) return `${target.name}: ${show(v)} is too small for the target column ${what}: single precision would store 0`;
    }
    return undefined;
  };
  return (v) => {
    if (typeof v === 'number') return single || !Number.isFinite(v) ? number(v, v) : undefined;
    if (typeof v === 'string') {
      if (scanDecimal(v)) {
        const n = Number(v);
        return Number.isFinite(n) ? number(v, n) : `${target.name}: ${show(v)} is out of range for the target column ${what}`;
      }
      const special = NON_FINITE_TEXT[v];
      if (special !== undefined) return nonFinite(v, special);
      return `${target.name}: ${show(v)} is not a number; the target column ${what} holds floating-point numbers`;
    }
    if (typeof v === 'bigint') return number(v, Number(v));
    if (typeof v === 'boolean') return undefined;
    return `${target.name}: ${show(v)} is not a number; the target column ${what} holds floating-point numbers`;
  };
}
