/**
 * Row validation before write: would the target take this row unchanged?
 *
 * A validator is compiled once per table from the TARGET columns (logical
 * type, native type, nullability), the key, and the spec's `rules`; the row
 * holds canonical values of the SOURCE (types.ts). Each column becomes one or
 * more closures in a flat array, so checking a row is a loop of calls with no
 * allocation when the row is valid (the same frozen empty array comes back).
 *
 * Zod parses the options at the boundary, as everywhere else. The per-value
 * checks are hand-written closures rather than zod schemas: zod allocates a
 * result per parse and its messages do not say what the target expects; the
 * test file's benchmark measures both.
 *
 * What an accepted lossy mapping relaxes: when the plan flagged a column's
 * mapping as lossy and the spec accepted it (`allowLossy`, or a `types`
 * override), values the target ROUNDS are let through (decimal places,
 * fractions of a second, the time of a timestamp written to a date): the user
 * accepted exactly that loss. Values the target cannot hold at all (out of
 * range, too long, not a number) are refused whatever was accepted.
 */
import { z } from 'zod';
import type { ColumnRule } from '../../../shared/jobSpec.js';
import type { Engine } from '../../../shared/connectionUrl.js';
import { FerryError } from '../errors.js';
import type { Column, LogicalType, Row, Value } from '../types.js';
import type { TablePlan } from './plan.js';
import { describeType, fitReason } from './typeFit.js';

export interface RowValidator {
  /**
   * Reasons the row would be refused, each naming the column; empty (the same
   * frozen array every time) when valid. With key tracking on, a valid row's
   * key is remembered: call once per row.
   */
  check(row: Row): readonly string[];
  /** Forget the keys seen (the table is staged again from its first row). */
  resetKeys(): void;
  /** Keys remembered so far; 0 when tracking is off or the table has no key. */
  readonly keysSeen: number;
}

/** What the target engine stores; see validatorOptionsFor for each engine's values. */
export const validatorOptionsSchema = z.strictObject({
  /** PostgreSQL text cannot hold NUL (\0). */
  rejectNulInText: z.boolean().default(false),
  /** The declared column types bind (false for SQLite, which stores any value in any column). */
  typedColumns: z.boolean().default(true),
  /** PostgreSQL dates and timestamps hold 'infinity' and '-infinity'. */
  infiniteDates: z.boolean().default(false),
  /** MySQL/MariaDB store 0000-00-00 and dates with a zero month or day. */
  allowZeroDates: z.boolean().default(false),
  /** MySQL's TIME is a duration, -838:59:59 to 838:59:59, not a time of day. */
  timeIsDuration: z.boolean().default(false),
  /** Non-finite floats the target stores: PostgreSQL all, SQLite ±Infinity only (NaN becomes NULL), MySQL none. */
  nonFiniteFloats: z.enum(['all', 'infinity', 'none']).default('all'),
  /**
   * Refuse a key seen earlier in the run. Memory grows with the table (see
   * KeyTracker); switch it off for huge tables, and the target's unique index
   * still refuses duplicates at apply time.
   */
  trackKeys: z.boolean().default(true),
});

export type ValidatorOptions = z.input<typeof validatorOptionsSchema>;
type Options = z.output<typeof validatorOptionsSchema>;

const ENGINE_OPTIONS: Record<Engine, ValidatorOptions> = {
  postgres: { rejectNulInText: true, allowZeroDates: false, timeIsDuration: false, nonFiniteFloats: 'all', infiniteDates: true },
  mysql: { rejectNulInText: false, allowZeroDates: true, timeIsDuration: true, nonFiniteFloats: 'none' },
  sqlite: { rejectNulInText: false, allowZeroDates: false, timeIsDuration: false, nonFiniteFloats: 'infinity', typedColumns: false },
};

/** The options that describe what a target engine stores. */
export function validatorOptionsFor(engine: Engine, extra: Pick<ValidatorOptions, 'trackKeys'> = {}): ValidatorOptions {
  return { ...ENGINE_OPTIONS[engine], ...extra };
}

type ValidatorPlan = Pick<TablePlan, 'columns' | 'targetColumns' | 'key' | 'spec'>;

/** A check of one value; returns the full reason (naming the column) or undefined. */
type ValueCheck = (v: Value) => string | undefined;

const VALID: readonly string[] = Object.freeze([]);

/**
 * Problems with the spec's `rules` for this table (a rule on a column that is
 * not copied, a pattern that is not a regular expression), for the preflight.
 */
export function ruleProblems(plan: Pick<TablePlan, 'columns' | 'spec'>): string[] {
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(plan.spec.rules ?? {})) {
    if (!findColumnIndex(plan.columns, name).length) {
      problems.push(`rules.${name}: no copied column "${name}"; the columns are ${plan.columns.map((c) => c.name).join(', ')}`);
    }
    if (rule.pattern !== undefined) {
      try {
        compilePattern(rule.pattern);
      } catch (err) {
        problems.push(`rules.${name}.pattern: ${(err as Error).message}`);
      }
    }
    for (const [field, bound] of [['min', rule.min], ['max', rule.max]] as const) {
      if (typeof bound === 'number' && !Number.isFinite(bound)) problems.push(`rules.${name}.${field}: must be a finite number`);
    }
  }
  return problems;
}

export function compileValidator(plan: ValidatorPlan, options: ValidatorOptions = {}): RowValidator {
  const opts = validatorOptionsSchema.parse(options);
  const problems = ruleProblems(plan);
  if (problems.length) throw new FerryError('spec', `the rules of table ${plan.spec.source} do not fit it:\n  - ${problems.join('\n  - ')}`);

  const keyIndexes = plan.key.map((k) => {
    const i = findColumnIndex(plan.targetColumns, k)[0];
    if (i === undefined) throw new FerryError('internal', `key column "${k}" is not among the target columns`);
    return i;
  });
  const columnIndexes: number[] = [];
  const checks: ValueCheck[] = [];
  const stops: boolean[] = [];
  const add = (index: number, check: ValueCheck | undefined, stop: boolean) => {
    if (!check) return;
    columnIndexes.push(index);
    checks.push(check);
    stops.push(stop);
  };

  plan.targetColumns.forEach((target, i) => {
    const source = plan.columns[i];
    const inKey = keyIndexes.includes(i);
    const lossAccepted = source !== undefined && fitReason(source.type, target.type) !== undefined && (plan.spec.allowLossy === true || plan.spec.types?.[source.name] !== undefined);
    add(i, withPresence(target, inKey, typeCheck(target, { ...opts, lossAccepted })), true);
    const ruleName = Object.keys(plan.spec.rules ?? {}).find((r) => findColumnIndex([source ?? target], r).length);
    const rule = ruleName !== undefined ? plan.spec.rules![ruleName] : undefined;
    if (rule) for (const check of ruleChecks(target.name, ruleName!, rule, target.type)) add(i, check, false);
  });

  const keys = opts.trackKeys && keyIndexes.length ? new KeyTracker(keyIndexes.map((i) => plan.targetColumns[i].type)) : undefined;
  const keyValues: Value[] = new Array(keyIndexes.length);
  const keyNames = keyIndexes.map((i) => plan.targetColumns[i].name);
  const n = checks.length;

  return {
    check(row: Row): readonly string[] {
      let reasons: string[] | undefined;
      let skip = -1;
      for (let k = 0; k < n; k++) {
        const col = columnIndexes[k];
        if (col === skip) continue;
        const reason = checks[k](row[col]);
        if (reason !== undefined) {
          (reasons ??= []).push(reason);
          if (stops[k]) skip = col;
        }
      }
      if (reasons) return reasons;
      if (keys) {
        for (let k = 0; k < keyIndexes.length; k++) keyValues[k] = row[keyIndexes[k]];
        if (!keys.add(keyValues)) return [duplicateKeyReason(keyNames, keyValues)];
      }
      return VALID;
    },
    resetKeys: () => keys?.clear(),
    get keysSeen() {
      return keys?.size ?? 0;
    },
  };
}

function findColumnIndex(columns: Column[], name: string): number[] {
  let i = columns.findIndex((c) => c.name === name);
  if (i < 0) i = columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
  return i < 0 ? [] : [i];
}

/** The type check, after NULL is refused where the column or the key cannot hold it. */
function withPresence(target: Column, inKey: boolean, check: ValueCheck | undefined): ValueCheck | undefined {
  if (!inKey && target.nullable) return check && ((v) => (v === null ? undefined : check(v)));
  const refused = inKey ? `${target.name}: is NULL, but it is part of the key, which cannot be NULL` : `${target.name}: is NULL, but the target column is NOT NULL`;
  return check ? (v) => (v === null ? refused : check(v)) : (v) => (v === null ? refused : undefined);
}

function duplicateKeyReason(names: string[], values: Value[]): string {
  if (names.length === 1) return `${names[0]} ${show(values[0])} appears twice in the source`;
  return `key (${names.join(', ')}) = (${values.map(show).join(', ')}) appears twice in the source`;
}

// -- how values read in a message --------------------------------------------------

const SHOWN_CHARACTERS = 12;

/** A value as a user would write it: strings quoted and cut short, bytes counted. */
export function show(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') {
    if (v.length <= SHOWN_CHARACTERS + 1) return JSON.stringify(v);
    // 4 units a character is more than enough to find the first ones, whatever their width.
    const chars = Array.from(v.length > 4 * SHOWN_CHARACTERS ? v.slice(0, 4 * SHOWN_CHARACTERS) : v);
    if (chars.length <= SHOWN_CHARACTERS + 1 && v.length <= 4 * SHOWN_CHARACTERS) return JSON.stringify(v);
    return JSON.stringify(chars.slice(0, SHOWN_CHARACTERS).join('') + '…');
  }
  if (v instanceof Uint8Array) return `${v.byteLength} bytes of binary data`;
  return String(v);
}

function label(col: Column): string {
  return col.nativeType || describeType(col.type);
}

// -- type checks ------------------------------------------------------------------------

interface TypeCheckContext extends Options {
  lossAccepted: boolean;
}

function typeCheck(target: Column, ctx: TypeCheckContext): ValueCheck | undefined {
  // SQLite keeps any value in any column exactly as given: its declared types are no contract.
  if (!ctx.typedColumns) return undefined;
  const t = target.type;
  switch (t.kind) {
    case 'integer':
      return integerCheck(target, t);
    case 'decimal':
      return decimalCheck(target, t, ctx);
    case 'float':
      return floatCheck(target, t, ctx);
    case 'boolean':
      return booleanCheck(target);
    case 'text':
      return textCheck(target, t, ctx);
    case 'binary':
      return binaryCheck(target, t);
    case 'date':
    case 'time':
    case 'timestamp':
      return temporalCheck(target, t, ctx);
    case 'enum':
      return enumCheck(target, t.values);
    case 'uuid':
      return uuidCheck(target);
    case 'json':
      return jsonCheck(target);
    case 'any':
      return undefined;
  }
}

const INTEGER_TEXT = /^[+-]?\d+$/;

function integerCheck(target: Column, t: { bytes: 1 | 2 | 3 | 4 | 8; unsigned?: boolean }): ValueCheck {
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

// Out-parameters of scanDecimal: module-level, so scanning allocates nothing.
let scannedIntDigits = 0;
let scannedFracDigits = 0;

/**
 * Is `s` a decimal number ("-12.50", ".5", "1.5e3")? If so, sets how many
 * significant digits it has before the point and how many after (leading and
 * trailing zeros do not count: "0012.500" needs 2 and 1).
 */
function scanDecimal(s: string): boolean {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) i++;
  let digits = 0;
  let point = -1;
  let firstNonZero = -1;
  let lastNonZero = -1;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (c !== 48) {
        if (firstNonZero < 0) firstNonZero = digits;
        lastNonZero = digits;
      }
      digits++;
    } else if (c === 46 && point < 0) point = digits;
    else break;
  }
  if (digits === 0) return false;
  if (point < 0) point = digits;
  let exponent = 0;
  if (i < n) {
    if (c !== 101 && c !== 69) return false;
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    if (i >= n) return false;
    for (; i < n; i++) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      if (exponent < 1e9) exponent = exponent * 10 + (c - 48);
    }
    if (sign === 45) exponent = -exponent;
  }
  if (firstNonZero < 0) {
    scannedIntDigits = 0;
    scannedFracDigits = 0;
    return true;
  }
  const pointAfterFirst = point + exponent - firstNonZero;
  const significant = lastNonZero - firstNonZero + 1;
  scannedIntDigits = pointAfterFirst > 0 ? pointAfterFirst : 0;
  scannedFracDigits = significant - pointAfterFirst > 0 ? significant - pointAfterFirst : 0;
  return true;
}

function decimalCheck(target: Column, t: { precision?: number; scale?: number }, ctx: TypeCheckContext): ValueCheck {
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

function floatCheck(target: Column, t: { bytes: 4 | 8 }, ctx: TypeCheckContext): ValueCheck {
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

function booleanCheck(target: Column): ValueCheck {
  return (v) => {
    if (typeof v === 'boolean' || v === 0 || v === 1 || v === 0n || v === 1n || v === '0' || v === '1') return undefined;
    return `${target.name}: ${show(v)} is not a boolean; the target column ${label(target)} takes true/false or 0/1`;
  };
}

interface WellFormed {
  isWellFormed(): boolean;
}

/** No lone UTF-16 surrogates, i.e. the string has a UTF-8 encoding. (isWellFormed is Node 20+, ES2024.) */
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as unknown as Partial<WellFormed>).isWellFormed === 'function'
    ? (s) => (s as unknown as WellFormed).isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** Length in characters (code points): an emoji is one character, two UTF-16 units. */
export function characterLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** MySQL's TEXT family is limited in bytes, not characters. */
const BYTE_LIMITED_TEXT = /^(tiny|medium|long)?text$/i;

function textCheck(target: Column, t: { maxLength?: number }, ctx: TypeCheckContext): ValueCheck {
  const max = t.maxLength ?? Infinity;
  const inBytes = max !== Infinity && BYTE_LIMITED_TEXT.test(target.nativeType.trim());
  const what = label(target);
  const tooLong = (v: Value, s: string): string | undefined => {
    if (inBytes) {
      // One UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4).
      if (s.length * 3 <= max) return undefined;
      const bytes = Buffer.byteLength(s, 'utf8');
      return bytes > max ? `${target.name}: ${show(v)} is ${bytes} bytes in UTF-8; the target column ${what} holds at most ${max} bytes` : undefined;
    }
    // Characters never outnumber UTF-16 units.
    if (s.length <= max) return undefined;
    const chars = characterLength(s);
    return chars > max ? `${target.name}: ${show(v)} is ${chars} characters; the target column ${what} holds at most ${max}` : undefined;
  };
  const rejectNul = ctx.rejectNulInText;
  return (v) => {
    if (typeof v === 'string') {
      const long = tooLong(v, v);
      if (long !== undefined) return long;
      if (!isWellFormed(v)) return `${target.name}: ${show(v)} is not valid Unicode (it has a lone surrogate), so it has no UTF-8 form for the target column ${what}`;
      if (rejectNul && v.indexOf('\0') >= 0) return `${target.name}: ${show(v)} contains a NUL character (\\0), which the target column ${what} cannot hold`;
      return undefined;
    }
    // Numbers, booleans: their text. Binary into text is a mapping the plan made the user accept.
    if (v instanceof Uint8Array || max === Infinity) return undefined;
    return tooLong(v, String(v));
  };
}

function binaryCheck(target: Column, t: { maxLength?: number }): ValueCheck | undefined {
  const max = t.maxLength;
  if (max === undefined) return undefined;
  const what = label(target);
  return (v) => {
    const bytes = v instanceof Uint8Array ? v.byteLength : Buffer.byteLength(String(v), 'utf8');
    return bytes > max ? `${target.name}: ${bytes} bytes; the target column ${what} holds at most ${max}` : undefined;
  };
}

function enumCheck(target: Column, values: string[]): ValueCheck {
  const members = new Set(values);
  const listed = values.slice(0, 8).map((m) => JSON.stringify(m)).join(', ') + (values.length > 8 ? `, … (${values.length} in all)` : '');
  return (v) => {
    if (typeof v === 'string' ? members.has(v) : (typeof v === 'number' || typeof v === 'bigint') && members.has(String(v))) return undefined;
    return `${target.name}: ${show(v)} is not one of the values of the target column ${label(target)}: ${listed}`;
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidCheck(target: Column): ValueCheck {
  return (v) =>
    typeof v === 'string' && UUID.test(v) ? undefined : `${target.name}: ${show(v)} is not a UUID; the target column ${label(target)} takes 8-4-4-4-12 hexadecimal digits`;
}

function jsonCheck(target: Column): ValueCheck {
  return (v) => {
    if (typeof v === 'string') {
      try {
        JSON.parse(v);
        return undefined;
      } catch (err) {
        return `${target.name}: ${show(v)} is not valid JSON (${(err as Error).message}); the target column ${label(target)} takes JSON text`;
      }
    }
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint' || typeof v === 'boolean') return undefined;
    return `${target.name}: ${show(v)} is not JSON; the target column ${label(target)} takes JSON text`;
  };
}

// -- dates and times ----------------------------------------------------------------------

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Two digits at i as a number, or -1 when they are not digits. */
function twoDigits(s: string, i: number): number {
  return isDigit(s, i) && isDigit(s, i + 1) ? (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48) : -1;
}

/**
 * The canonical shapes, and the other spellings engines print: years beyond
 * 9999, "T" between date and time, an offset, and PostgreSQL's " BC".
 */
const TEMPORAL = /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:Z|[+-]\d\d(?::?\d\d)?)?)?( BC)?$/;
const OFFSET = /^(?:Z|[+-]\d\d(?::?\d\d)?)$/;
const TIME = /^(-)?(\d{2,3}):(\d\d):(\d\d)(?:\.(\d+))?$/;

/** The fields of the last text parseTemporal read (module-level, so parsing allocates nothing). */
const parts = { year: 0, month: 0, day: 0, hour: -1, minute: 0, second: 0, fraction: 0 };

/** Fill `parts` from a date or timestamp text (hour -1: no time of day); false when it is neither. */
function parseTemporal(s: string): boolean {
  const n = s.length;
  // The canonical shapes take no regex: the hot path.
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return slowParse(s);
  const century = twoDigits(s, 0);
  const year = twoDigits(s, 2);
  parts.month = twoDigits(s, 5);
  parts.day = twoDigits(s, 8);
  if (century < 0 || year < 0 || parts.month < 0 || parts.day < 0) return false;
  parts.year = century * 100 + year;
  parts.hour = -1;
  parts.fraction = 0;
  if (n === 10) return true;
  const sep = s.charCodeAt(10);
  if (n < 19 || (sep !== 32 && sep !== 84) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return slowParse(s);
  parts.hour = twoDigits(s, 11);
  parts.minute = twoDigits(s, 14);
  parts.second = twoDigits(s, 17);
  if (parts.hour < 0 || parts.minute < 0 || parts.second < 0) return false;
  let i = 19;
  if (i < n && s.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n && isDigit(s, i)) i++;
    parts.fraction = i - start;
    if (parts.fraction === 0) return false;
  }
  return i === n || OFFSET.test(s.slice(i)) || slowParse(s);
}

function slowParse(s: string): boolean {
  const m = TEMPORAL.exec(s);
  if (!m) return false;
  parts.year = Number(m[1]);
  parts.month = Number(m[2]);
  parts.day = Number(m[3]);
  parts.hour = m[4] === undefined ? -1 : Number(m[4]);
  parts.minute = Number(m[5] ?? 0);
  parts.second = Number(m[6] ?? 0);
  parts.fraction = m[7]?.length ?? 0;
  return true;
}

/** What is wrong with the date in `parts`, said after the value; undefined for a real calendar date. */
function calendarProblem(allowZero: boolean, column: string): string | undefined {
  const { year, month, day } = parts;
  if (month > 12) return `is not a real date (there is no month ${month}); ${column} takes real calendar dates`;
  if (year === 0 || month === 0 || day === 0) {
    if (!allowZero) {
      if (year === 0 && month === 0 && day === 0) return `is MySQL's zero date, which ${column} cannot hold`;
      return `${month === 0 || day === 0 ? 'has a zero month or day' : 'is in year 0'}, which ${column} cannot hold`;
    }
    if (month === 0 || day === 0) return undefined;
  }
  const days = daysInMonth(year, month);
  if (day > days) return `is not a real date (${MONTHS[month - 1]} ${year} has ${days} days); ${column} takes real calendar dates`;
  return undefined;
}

type TemporalType = { kind: 'date' } | { kind: 'time'; precision?: number } | { kind: 'timestamp'; withTimeZone: boolean; precision?: number };

function temporalCheck(target: Column, t: TemporalType, ctx: TypeCheckContext): ValueCheck {
  const what = label(target);
  const shape = t.kind === 'date' ? 'YYYY-MM-DD' : t.kind === 'time' ? 'HH:MM:SS[.ffffff]' : `YYYY-MM-DD HH:MM:SS[.ffffff]${t.withTimeZone ? '+00:00' : ''}`;
  const malformed = (v: Value) => `${target.name}: ${show(v)} is not a ${t.kind === 'timestamp' ? 'timestamp' : t.kind}; the target column ${what} takes ${shape}`;
  const precision = t.kind === 'date' ? 0 : t.precision ?? 6;
  const tooPrecise = (v: Value) =>
    `${target.name}: ${show(v)} has more than ${precision} digits of fractional seconds; the target column ${what} would round it`;
  const timeOfDay = (v: Value, hour: number, minute: number, second: number): string | undefined => {
    if (hour <= 23 && minute <= 59 && second <= 59) return undefined;
    return `${target.name}: ${show(v)} is not a valid time of day (hours 00-23, minutes and seconds 00-59)`;
  };
  const calendar = (v: Value): string | undefined => {
    const problem = calendarProblem(ctx.allowZeroDates, `the target column ${what}`);
    return problem === undefined ? undefined : `${target.name}: ${show(v)} ${problem}`;
  };

  if (t.kind === 'time') {
    return (v) => {
      if (typeof v !== 'string') return malformed(v);
      const m = TIME.exec(v);
      if (!m) return malformed(v);
      const [hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4])];
      if (minute > 59 || second > 59) return `${target.name}: ${show(v)} is not a valid time (minutes and seconds 00-59)`;
      if ((m[5]?.length ?? 0) > precision && !ctx.lossAccepted) return tooPrecise(v);
      if (ctx.timeIsDuration) {
        if (hour > 838) return `${target.name}: ${show(v)} is out of range; the target column ${what} holds -838:59:59 to 838:59:59`;
        return undefined;
      }
      if (m[1] === undefined && (hour <= 23 || (hour === 24 && minute === 0 && second === 0 && !/[1-9]/.test(m[5] ?? '')))) return undefined;
      return `${target.name}: ${show(v)} is not a valid time of day; the target column ${what} holds 00:00:00 to 24:00:00`;
    };
  }
  const infinite = (v: Value) => ctx.infiniteDates && (v === 'infinity' || v === '-infinity');
  if (t.kind === 'date') {
    return (v) => {
      if (infinite(v)) return undefined;
      if (typeof v !== 'string' || !parseTemporal(v)) return malformed(v);
      if (parts.hour >= 0 && !ctx.lossAccepted) {
        return `${target.name}: ${show(v)} has a time of day; the target column ${what} holds a date only`;
      }
      return calendar(v) ?? (parts.hour >= 0 ? timeOfDay(v, parts.hour, parts.minute, parts.second) : undefined);
    };
  }
  return (v) => {
    if (infinite(v)) return undefined;
    if (typeof v !== 'string' || !parseTemporal(v)) return malformed(v);
    const problem = calendar(v);
    if (problem !== undefined) return problem;
    if (parts.hour < 0) return undefined;
    if (parts.fraction > precision && !ctx.lossAccepted) return tooPrecise(v);
    // A zero timestamp ("0000-00-00 00:00:00") passes when zero dates are allowed.
    return timeOfDay(v, parts.hour, parts.minute, parts.second);
  };
}

// -- rules ------------------------------------------------------------------------------

/** The spec's patterns are matched with Unicode semantics when they parse that way. */
function compilePattern(pattern: string): RegExp {
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

function ruleChecks(name: string, ruleName: string, rule: ColumnRule, type: LogicalType): ValueCheck[] {
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

/** A decimal number exactly: sign, integer digits without leading zeros, fraction digits without trailing zeros. */
interface Decimal {
  negative: boolean;
  int: string;
  frac: string;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Exact, whatever the size: "1e3", "-0012.50" and "18446744073709551615" all parse without a JS number. */
export function parseDecimal(s: string): Decimal | undefined {
  const m = DECIMAL_TEXT.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let digits = m[2] + (m[3] ?? '');
  let point = m[2].length + Number(m[4] ?? 0);
  if (Math.abs(point) > 100_000) return undefined;
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return { negative: false, int: '', frac: '' };
  if (point <= 0) return { negative: m[1] === '-', int: '', frac: '0'.repeat(-point) + digits };
  if (point >= digits.length) return { negative: m[1] === '-', int: digits + '0'.repeat(point - digits.length), frac: '' };
  return { negative: m[1] === '-', int: digits.slice(0, point), frac: digits.slice(point) };
}

function plainText(d: Decimal): string {
  return `${d.negative ? '-' : ''}${d.int || '0'}${d.frac ? '.' + d.frac : ''}`;
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const sign = a.negative ? -1 : 1;
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -sign : sign;
  if (a.int !== b.int) return a.int < b.int ? -sign : sign;
  if (a.frac !== b.frac) return a.frac < b.frac ? -sign : sign;
  return 0;
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

// -- keys --------------------------------------------------------------------------------

/** V8 refuses a Set beyond 2^24 entries; a new one is started well before. */
const KEYS_PER_SET = 8_000_000;

/** Strings in as many Sets as it takes. */
class StringSet {
  private sets: Set<string>[] = [new Set()];

  /** Remember `k`; false when it was there. */
  add(k: string): boolean {
    const sets = this.sets;
    for (let i = 0; i < sets.length; i++) if (sets[i].has(k)) return false;
    let last = sets[sets.length - 1];
    if (last.size >= KEYS_PER_SET) sets.push((last = new Set()));
    last.add(k);
    return true;
  }

  get size(): number {
    let n = 0;
    for (const s of this.sets) n += s.size;
    return n;
  }
}

/**
 * Safe integers in an open-addressing hash table of doubles: 16 to 32 bytes
 * a key outside the JS heap, where a Set of numbers takes about 40 on the heap
 * (and stops at 2^24 entries).
 */
class IntegerSet {
  private slots = new Float64Array(1 << 16);
  private mask = (1 << 16) - 1;
  private count = 0;
  /** 0 marks an empty slot, so the key 0 is kept apart. */
  private hasZero = false;

  add(k: number): boolean {
    if (k === 0) {
      if (this.hasZero) return false;
      this.hasZero = true;
      return true;
    }
    const slots = this.slots;
    for (let i = IntegerSet.hash(k) & this.mask; ; i = (i + 1) & this.mask) {
      const here = slots[i];
      if (here === k) return false;
      if (here === 0) {
        slots[i] = k;
        if (++this.count * 2 > slots.length) this.grow();
        return true;
      }
    }
  }

  get size(): number {
    return this.count + (this.hasZero ? 1 : 0);
  }

  private static hash(k: number): number {
    const low = k >>> 0;
    const high = Math.floor(k / 4294967296) | 0;
    const h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
    return h ^ (h >>> 15);
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (const k of old) {
      if (k === 0) continue;
      let i = IntegerSet.hash(k) & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = k;
    }
  }
}

/**
 * Safe integers as they usually come, in increasing order (reads are ordered
 * by the key): runs of consecutive values, 16 bytes a run, so a dense id
 * column is one run and a sparse one 16 bytes a key, appended in order.
 * A key at or below the largest seen goes to the hash table, after a binary
 * search of the runs.
 */
class IntegerRuns {
  private starts = new Float64Array(1024);
  private ends = new Float64Array(1024);
  private runs = 0;
  private max = -Infinity;
  private outOfOrder = new IntegerSet();

  add(k: number): boolean {
    if (k > this.max) {
      if (k === this.max + 1) this.ends[this.runs - 1] = k;
      else {
        if (this.runs === this.starts.length) this.grow();
        this.starts[this.runs] = k;
        this.ends[this.runs++] = k;
      }
      this.max = k;
      return true;
    }
    return !this.inRuns(k) && this.outOfOrder.add(k);
  }

  get size(): number {
    let n = this.outOfOrder.size;
    for (let i = 0; i < this.runs; i++) n += this.ends[i] - this.starts[i] + 1;
    return n;
  }

  private inRuns(k: number): boolean {
    let lo = 0;
    let hi = this.runs - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] > k) hi = mid - 1;
      else if (this.ends[mid] < k) lo = mid + 1;
      else return true;
    }
    return false;
  }

  private grow(): void {
    const starts = new Float64Array(this.starts.length * 2);
    const ends = new Float64Array(this.ends.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}

/**
 * The keys staged in this run, to refuse a key the source holds twice.
 *
 * Memory (measured on Node 20 by the test's benchmark): a one-column integer
 * key (within 2^53) read in key order costs 16 bytes a gap between
 * consecutive ids, nothing for a dense id column (IntegerRuns); out of order,
 * 16 to 32 bytes a key. Any other key is kept as one flat string in a Set:
 * about 50 bytes plus the key's length (10 million keys of 20 characters are
 * about 700 MB). Switch tracking off (trackKeys: false) for such tables; the target's
 * unique index still refuses duplicates at apply time, only not row by row.
 * Keys compare exactly as values; a case-insensitive collation in the target
 * may still find two keys equal, which its unique index refuses at apply.
 */
export class KeyTracker {
  private integers = new IntegerRuns();
  private strings = new StringSet();
  private readonly add_: (key: readonly Value[]) => boolean;

  constructor(types: LogicalType[]) {
    const parts = types.map(keyPart);
    if (types.length === 1 && types[0].kind === 'integer') {
      this.add_ = (key) => {
        const k = integerKey(key[0]);
        return typeof k === 'number' ? this.integers.add(k) : this.strings.add(k);
      };
    } else {
      const pieces: Array<string | number> = [];
      this.add_ = (key) => {
        pieces.length = 0;
        // Length-prefixed, so ("a:1", "b") and ("a", "1:b") stay apart. join() copies into one
        // flat string: a key read as a slice of a driver's buffer must not keep the buffer alive.
        for (let i = 0; i < parts.length; i++) {
          const p = parts[i](key[i]);
          pieces.push(p.length, ':', p);
        }
        return this.strings.add(pieces.join(''));
      };
    }
  }

  /** Remember the key; false when it was seen before. */
  add(key: readonly Value[]): boolean {
    return this.add_(key);
  }

  get size(): number {
    return this.integers.size + this.strings.size;
  }

  clear(): void {
    this.integers = new IntegerRuns();
    this.strings = new StringSet();
  }
}

/** An integer key as a number when safe, else as text (an integer column never holds other text). */
function integerKey(v: Value): number | string {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : String(v);
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : BigInt(v).toString();
  }
  if (typeof v === 'bigint') return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return String(v);
}

function keyPart(type: LogicalType): (v: Value) => string {
  if (type.kind === 'integer') return (v) => String(integerKey(v));
  if (type.kind === 'decimal') return (v) => (typeof v === 'boolean' ? (v ? '1' : '0') : plainOrText(String(v)));
  return (v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : String(v));
}

function plainOrText(s: string): string {
  const d = parseDecimal(s);
  return d ? plainText(d) : s;
}
