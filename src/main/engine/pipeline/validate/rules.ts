/** The spec's `rules` for a column: notNull, min/max, maxLength, pattern, oneOf. */
import type { ColumnRule } from '../../../../shared/jobSpec.js';
import type { LogicalType, Value } from '../../types.js';
import type { ValueCheck } from './check.js';
import { compareDecimal, parseDecimal, plainText, scanDecimal, scannedFracDigits, scannedIntDigits, type Decimal } from './decimal.js';
import { characterLength, show } from './text.js';

/** The spec's patterns are matched with Unicode semantics when they parse that way. */
export function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    try {
      return new RegExp(pattern);
    } catch (err) {
      throw new Error(`${JSON.stringify(pattern)} is not a regular expression (${(err as Error).message})`);
    }
  }
}

export function ruleChecks(name: string, ruleName: string, rule: ColumnRule, type: LogicalType): ValueCheck[] {
  const checks: ValueCheck[] = [];
  const where = `rules.${ruleName}`;
  if (rule.notNull) checks.push((v) => (v === null ? `${name}: is NULL; ${where}.notNull requires a value` : undefined));
  if (rule.min !== undefined || rule.max !== undefined) checks.push(rangeCheck(name, where, rule, type));
  if (rule.maxLength !== undefined) {
    const max = rule.maxLength;
    checks.push((v) => {
      if (v === null) return undefined;
      if (v instanceof Uint8Array) return v.byteLength > max ? `${name}: ${show(v)} is more than ${where}.maxLength (${max} bytes)` : undefined;
      const s = typeof v === 'string' ? v : String(v);
      if (s.length <= max) return undefined;
      const chars = characterLength(s);
      return chars > max ? `${name}: ${show(v)} is ${chars} characters; ${where}.maxLength allows at most ${max}` : undefined;
    });
  }
  if (rule.pattern !== undefined) {
    const re = compilePattern(rule.pattern);
    checks.push((v) => {
      if (v === null) return undefined;
      if (v instanceof Uint8Array) return `${name}: ${show(v)} is binary; ${where}.pattern applies to text`;
      return re.test(typeof v === 'string' ? v : String(v)) ? undefined : `${name}: ${show(v)} does not match ${where}.pattern ${rule.pattern}`;
    });
  }
  if (rule.oneOf !== undefined) checks.push(oneOfCheck(name, `${where}.oneOf`, rule.oneOf));
  return checks;
}

function oneOfCheck(name: string, where: string, members: Array<string | number | boolean>): ValueCheck {
  const strings = new Set<string>();
  const numbers = new Set<string>();
  const booleans = new Set<boolean>();
  for (const m of members) {
    if (typeof m === 'string') {
      strings.add(m);
      const d = parseDecimal(m);
      if (d) numbers.add(plainText(d));
    } else if (typeof m === 'number') numbers.add(plainText(parseDecimal(String(m))!));
    else booleans.add(m);
  }
  const listed = members.slice(0, 8).map((m) => JSON.stringify(m)).join(', ') + (members.length > 8 ? ', …' : '');
  return (v) => {
    if (v === null) return undefined;
    if (typeof v === 'string') {
      if (strings.has(v)) return undefined;
    } else if (typeof v === 'boolean') {
      if (booleans.has(v)) return undefined;
    }
    // Numbers compare by value whatever their spelling: 12.5, "12.50" and 25n/2 are not confused.
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') {
      const d = numbers.size ? parseDecimal(String(v)) : undefined;
      if (d && numbers.has(plainText(d))) return undefined;
    }
    return `${name}: ${show(v)} is not one of ${listed} (${where})`;
  };
}

const NUMERIC_KINDS = new Set<LogicalType['kind']>(['integer', 'decimal', 'float', 'boolean', 'any']);

interface Bound {
  side: 'min' | 'max';
  where: string;
  text: string;
  /** Compared as a number (else as text). */
  numeric: boolean;
  exact?: Decimal;
  asNumber: number;
  /** The bound as a double is exactly the bound. */
  numberIsExact: boolean;
  /** Decimals of at most 15 significant digits are distinct, ordered doubles (DBL_DIG): compare those as doubles. */
  numberFastPath: boolean;
  asBigInt?: bigint;
}

function compileBound(side: 'min' | 'max', where: string, bound: number | string, type: LogicalType): Bound {
  const exact = parseDecimal(String(bound));
  const numeric = exact !== undefined && (typeof bound === 'number' || NUMERIC_KINDS.has(type.kind));
  const asNumber = Number(bound);
  const numberIsExact = numeric && Number.isFinite(asNumber) && compareDecimal(parseDecimal(String(asNumber))!, exact!) === 0;
  return {
    side,
    where: `${where}.${side}`,
    text: String(bound),
    numeric,
    exact,
    asNumber,
    numberIsExact,
    numberFastPath: numberIsExact && exact!.int.length + exact!.frac.length <= 15,
    asBigInt: numeric && exact!.frac === '' ? BigInt(plainText(exact!)) : undefined,
  };
}

function sign(a: number | bigint | string, b: number | bigint | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * min/max. Numbers compare exactly: two JS numbers as numbers, everything
 * else (big integers, decimal text, a bound beyond 2^53) digit by digit.
 * A text bound that is not a number (a date, a name) compares as text,
 * character by character: "2024-01-01" ≤ "2024-01-01 10:00:00".
 */
function rangeCheck(name: string, where: string, rule: ColumnRule, type: LogicalType): ValueCheck {
  const bounds: Bound[] = [];
  if (rule.min !== undefined) bounds.push(compileBound('min', where, rule.min, type));
  if (rule.max !== undefined) bounds.push(compileBound('max', where, rule.max, type));
  const fail = (v: Value, b: Bound) => `${name}: ${show(v)} is ${b.side === 'min' ? 'below the minimum' : 'above the maximum'} ${b.text} (${b.where})`;
  const notNumber = (v: Value, b: Bound) => `${name}: ${show(v)} is not a number, so it cannot be compared with ${b.where} ${b.text}`;

  /** How v compares with b, or undefined when it cannot. The value's converted forms are computed once for both bounds. */
  let fast = NaN;
  let decimal: Decimal | undefined;
  let converted = false;
  const compare = (v: Exclude<Value, null>, b: Bound): number | undefined => {
    if (!b.numeric) {
      if (v instanceof Uint8Array) return undefined;
      return sign(typeof v === 'string' ? v : String(v), b.text);
    }
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return undefined;
      if (b.numberIsExact || !Number.isFinite(v)) return sign(v, b.asNumber);
    } else if (typeof v === 'bigint' && b.asBigInt !== undefined) return sign(v, b.asBigInt);
    if (!converted) {
      converted = true;
      if (typeof v === 'string' && scanDecimal(v) && scannedIntDigits + scannedFracDigits <= 15) fast = Number(v);
      else decimal = v instanceof Uint8Array ? undefined : parseDecimal(typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
    if (fast === fast) {
      if (b.numberFastPath) return sign(fast, b.asNumber);
      decimal ??= parseDecimal(v as string);
    }
    return decimal ? compareDecimal(decimal, b.exact!) : undefined;
  };
  return (v) => {
    if (v === null) return undefined;
    converted = false;
    fast = NaN;
    decimal = undefined;
    for (const b of bounds) {
      const cmp = compare(v, b);
      if (cmp === undefined) return b.numeric ? notNumber(v, b) : `${name}: ${show(v)} cannot be compared with ${b.where} ${JSON.stringify(b.text)}`;
      if (b.side === 'min' ? cmp < 0 : cmp > 0) return fail(v, b);
    }
    return undefined;
  };
}
