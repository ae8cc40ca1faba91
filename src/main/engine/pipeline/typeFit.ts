/**
 * Does every value of a source column fit, unchanged, in an existing target
 * column? Returns why not, or undefined when it does.
 */
import type { LogicalType } from '../types.js';

const INT_RANGE_BITS = { 1: 8, 2: 16, 3: 24, 4: 32, 8: 64 } as const;

/** Bits of magnitude an integer type holds (excluding sign). */
function magnitudeBits(t: { bytes: 1 | 2 | 3 | 4 | 8; unsigned?: boolean }): number {
  return INT_RANGE_BITS[t.bytes] - (t.unsigned ? 0 : 1);
}

function integerDigits(t: { bytes: 1 | 2 | 3 | 4 | 8; unsigned?: boolean }): number {
  return String(2n ** BigInt(magnitudeBits(t))).length;
}

export function describeType(t: LogicalType): string {
  switch (t.kind) {
    case 'integer':
      return `${t.unsigned ? 'unsigned ' : ''}${t.bytes * 8}-bit integer`;
    case 'decimal':
      return t.precision !== undefined ? `decimal(${t.precision},${t.scale ?? 0})` : 'decimal';
    case 'float':
      return t.bytes === 4 ? 'float (single precision)' : 'double precision';
    case 'text':
      return t.maxLength !== undefined ? `text of at most ${t.maxLength} characters` : 'text';
    case 'binary':
      return t.maxLength !== undefined ? `binary of at most ${t.maxLength} bytes` : 'binary';
    case 'timestamp':
      return t.withTimeZone ? 'timestamp with time zone' : 'timestamp';
    case 'any':
      return 'untyped (SQLite)';
    default:
      return t.kind;
  }
}

/**
 * Why a source type does not fit a target type, and how: `changes` when values
 * would be stored changed (rounded, their fraction or time zone dropped), which
 * a plan refuses unless the user accepts it; otherwise some values may not fit
 * at all (too long, out of range), which validation refuses one by one: such
 * rows are dead-lettered, never changed, so the plan only warns.
 */
export interface Fit {
  reason: string;
  changes: boolean;
}

export function fitProblem(source: LogicalType, target: LogicalType): Fit | undefined {
  const reason = fitReasonOf(source, target);
  if (reason === undefined) return undefined;
  return { reason, changes: !MAY_NOT_FIT.some((r) => r.test(reason)) };
}

/** Reasons of values that validation refuses whole (range, length, allowed values), never stores changed. */
const MAY_NOT_FIT = [/values may not fit/, /^negative values do not fit/, /values may have more digits than/, /values may be longer than/, /may exceed/, /^integers other than 0 and 1/, /are not allowed in the target$/];

export function fitReason(source: LogicalType, target: LogicalType): string | undefined {
  return fitReasonOf(source, target);
}

function fitReasonOf(source: LogicalType, target: LogicalType): string | undefined {
  const s = source;
  const t = target;
  if (t.kind === 'any') return undefined;
  if (s.kind === 'any') return undefined; // SQLite's untyped columns: checked per value when written
  switch (s.kind) {
    case 'integer':
      if (t.kind === 'integer') {
        if (s.unsigned && !t.unsigned) return magnitudeBits(t) >= magnitudeBits(s) ? undefined : `${describeType(s)} values may not fit a ${describeType(t)}`;
        if (!s.unsigned && t.unsigned) return 'negative values do not fit an unsigned column';
        return magnitudeBits(t) >= magnitudeBits(s) ? undefined : `${describeType(s)} values may not fit a ${describeType(t)}`;
      }
      if (t.kind === 'decimal') {
        if (t.precision === undefined) return undefined;
        return t.precision - (t.scale ?? 0) >= integerDigits(s) ? undefined : `${describeType(s)} values may have more digits than ${describeType(t)}`;
      }
      if (t.kind === 'float') return magnitudeBits(s) <= (t.bytes === 8 ? 53 : 24) ? undefined : `integers beyond 2^${t.bytes === 8 ? 53 : 24} lose precision in a ${describeType(t)}`;
      if (t.kind === 'text') return textLength(t, integerDigits(s) + 1);
      if (t.kind === 'boolean') return 'integers other than 0 and 1 do not fit a boolean';
      break;
    case 'decimal':
      if (t.kind === 'decimal') {
        if (t.precision === undefined) return undefined;
        if (s.precision === undefined) return `unconstrained decimals may exceed ${describeType(t)}`;
        const sInt = s.precision - (s.scale ?? 0);
        const tInt = t.precision - (t.scale ?? 0);
        if ((t.scale ?? 0) < (s.scale ?? 0)) return `${describeType(s)} would be rounded to ${t.scale ?? 0} decimal places`;
        return tInt >= sInt ? undefined : `${describeType(s)} values may not fit ${describeType(t)}`;
      }
      if (t.kind === 'text') return s.precision !== undefined ? textLength(t, s.precision + 2) : textLength(t, Infinity);
      if (t.kind === 'float') return `${describeType(s)} values lose digits as floating point`;
      if (t.kind === 'integer') return `${describeType(s)} values lose their fraction as integers`;
      break;
    case 'float':
      if (t.kind === 'float') return t.bytes >= s.bytes ? undefined : 'double precision values lose digits as single precision';
      if (t.kind === 'decimal' && t.precision === undefined) return undefined;
      if (t.kind === 'text') return textLength(t, 24);
      return `${describeType(s)} values do not fit ${describeType(t)} exactly`;
    case 'boolean':
      if (t.kind === 'boolean' || t.kind === 'integer') return undefined;
      if (t.kind === 'text') return textLength(t, 5);
      break;
    case 'text':
    case 'enum':
    case 'uuid':
    case 'json': {
      const longest = s.kind === 'text' ? s.maxLength ?? Infinity : s.kind === 'uuid' ? 36 : s.kind === 'enum' ? Math.max(0, ...s.values.map((v) => v.length)) : Infinity;
      if (t.kind === 'text') return textLength(t, longest);
      if (t.kind === 'json' && s.kind === 'json') {
        return t.parsed && !s.parsed ? 'jsonb keeps JSON parsed: the key order, duplicate keys and whitespace of the JSON text are not kept' : undefined;
      }
      if (t.kind === s.kind && s.kind !== 'enum') return undefined;
      if (t.kind === 'enum') {
        if (s.kind === 'enum') {
          const missing = s.values.filter((v) => !t.values.includes(v));
          return missing.length ? `enum values ${missing.map((v) => `'${v}'`).join(', ')} are not allowed in the target` : undefined;
        }
        return undefined; // text into enum: checked per value
      }
      if (t.kind === 'uuid' || t.kind === 'json') return undefined; // checked per value when written
      break;
    }
    case 'binary':
      if (t.kind === 'binary') return t.maxLength === undefined || (s.maxLength !== undefined && s.maxLength <= t.maxLength) ? undefined : `binary values may be longer than ${t.maxLength} bytes`;
      break;
    case 'date':
      if (t.kind === 'date') return undefined;
      if (t.kind === 'timestamp') return undefined;
      if (t.kind === 'text') return textLength(t, 10);
      break;
    case 'time':
      if (t.kind === 'time') return precisionLoss(s.precision, t.precision);
      if (t.kind === 'text') return textLength(t, 16);
      break;
    case 'timestamp':
      if (t.kind === 'timestamp') {
        if (s.withTimeZone !== t.withTimeZone) {
          return s.withTimeZone
            ? 'the time zone is dropped: values are stored as UTC wall-clock time'
            : 'wall-clock times get a time zone: they are read as UTC';
        }
        return precisionLoss(s.precision, t.precision);
      }
      if (t.kind === 'text') return textLength(t, 32);
      if (t.kind === 'date') return 'the time of day is dropped';
      break;
  }
  return `${describeType(s)} cannot be stored as ${describeType(t)}`;
}

function textLength(t: LogicalType & { kind: 'text' }, longest: number): string | undefined {
  if (t.maxLength === undefined || longest <= t.maxLength) return undefined;
  return `values may be longer than the target's ${t.maxLength} characters`;
}

function precisionLoss(source?: number, target?: number): string | undefined {
  const s = source ?? 6;
  const t = target ?? 6;
  return t >= s ? undefined : `fractions of a second beyond ${t} digits are rounded`;
}
