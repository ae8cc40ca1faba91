/**
 * The check of a value against the target column's type: which check each
 * logical type takes, and the checks of the types that are not numbers or
 * dates (numbers.ts, temporal.ts).
 */
import type { Column, Value } from '../../types.js';
import type { TypeCheckContext, ValueCheck } from './check.js';
import { decimalCheck, floatCheck, integerCheck } from './numbers.js';
import { temporalCheck } from './temporal.js';
import { characterLength, label, show } from './text.js';

export function typeCheck(target: Column, ctx: TypeCheckContext): ValueCheck | undefined {
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
