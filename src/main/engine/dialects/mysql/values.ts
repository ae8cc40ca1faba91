/**
 * Canonical values (types.ts header) <-> what mysql2 yields and what MySQL
 * parses. mysql2 runs with bigNumberStrings, dateStrings and jsonStrings, so
 * it hands over BIGINT, DECIMAL, dates and JSON as the server's own text.
 */
import mysql from 'mysql2';
import { FerryError } from '../../errors.js';
import type { Column, LogicalType, Value } from '../../types.js';

export type Decoder = (raw: unknown) => Value;

const ZERO_DATE = /^0000-00-00/;

/** A converter from mysql2's value to the canonical one, chosen once per column. */
export function decoderFor(type: LogicalType): Decoder {
  switch (type.kind) {
    case 'integer':
      return decodeInteger;
    case 'float': {
      const toNumber = (v: unknown): Value => (v === null ? null : typeof v === 'number' ? v : Number(v));
      return type.bytes === 4 ? (v) => shortestSingle(toNumber(v)) : toNumber;
    }
    case 'boolean':
      return decodeBoolean;
    case 'uuid':
      return (v) => (typeof v === 'string' ? v.toLowerCase() : (v as Value));
    case 'time':
      return (v) => (typeof v === 'string' ? trimFraction(v) : (v as Value));
    case 'timestamp':
      return type.withTimeZone ? decodeTimestamptz : (v) => (typeof v === 'string' ? trimFraction(v) : (v as Value));
    case 'binary':
      return (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : (v as Value));
    default:
      return (v) => v as Value;
  }
}

/**
 * FLOAT is read widened to DOUBLE (read.ts), e.g. 3.141590118408203: give the
 * shortest number that is the same single-precision value (3.14159), as
 * PostgreSQL prints a real.
 */
export function shortestSingle(v: Value): Value {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v;
  const single = Math.fround(v);
  for (let digits = 1; digits < 9; digits++) {
    const n = Number(single.toPrecision(digits));
    if (Math.fround(n) === single) return n;
  }
  return single;
}

function decodeInteger(v: unknown): Value {
  if (typeof v === 'number' || v === null) return v;
  if (typeof v === 'string') return integerFromString(v);
  if (Buffer.isBuffer(v)) return integerFromBits(v); // BIT(n)
  return v as Value;
}

export function integerFromString(s: string): number | bigint {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

function integerFromBits(b: Buffer): number | bigint {
  let n = 0n;
  for (const byte of b) n = (n << 8n) | BigInt(byte);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

function decodeBoolean(v: unknown): Value {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return v.some((byte) => byte !== 0);
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v !== '0';
  return v as Value;
}

function decodeTimestamptz(v: unknown): Value {
  if (typeof v !== 'string') return v as Value;
  // A zero TIMESTAMP is not an instant: it stays the zero-date string, with no offset.
  const t = trimFraction(v);
  return ZERO_DATE.test(t) ? t : `${t}+00:00`;
}

/** "12:00:00.500000" -> "12:00:00.5"; "12:00:00.000000" -> "12:00:00" (one spelling per value). */
export function trimFraction(s: string): string {
  const dot = s.lastIndexOf('.');
  if (dot < 0) return s;
  let end = s.length;
  while (end > dot + 1 && s.charCodeAt(end - 1) === 48) end--;
  return end === dot + 1 ? s.slice(0, dot) : s.slice(0, end);
}

// -- writing ------------------------------------------------------------------

const UTC_SUFFIX = /(?:\+00:00|\+00|Z)$/;
const ANY_OFFSET = /[+-]\d\d(?::?\d\d)?$/;

/**
 * The text MySQL parses back to the same value, or null for NULL. Binary is
 * left as a Buffer for the caller to hex-encode.
 */
export function toMysqlText(value: Value, column: Column): string | Buffer | null {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
      return column.type.kind === 'timestamp' ? stripUtcOffset(value, column) : value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new FerryError('data', `column "${column.name}": MySQL cannot store the value ${value}`);
      }
      return column.type.kind === 'float' && column.type.bytes === 4 ? singleText(value) : String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? '1' : '0';
    default:
      return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
}

/**
 * A single-precision value spelled as its exact double: the shortest text
 * ("3.4028235e+38" for FLT_MAX) reads back as a double just above FLT_MAX,
 * which MySQL refuses as out of range.
 */
function singleText(value: number): string {
  const single = Math.fround(value);
  return Number.isFinite(single) ? String(single) : String(value);
}

function stripUtcOffset(value: string, column: Column): string {
  if (UTC_SUFFIX.test(value)) return value.replace(UTC_SUFFIX, '');
  if (ANY_OFFSET.test(value) && /\d:\d\d[.\d]*[+-]/.test(value)) {
    throw new FerryError('data', `column "${column.name}": the timestamp "${value}" is not in UTC; canonical timestamptz values are "...+00:00"`);
  }
  return value;
}

/** One SQL literal for a multi-row INSERT. */
export function toSqlLiteral(value: Value, column: Column): string {
  const text = toMysqlText(value, column);
  if (text === null) return 'NULL';
  if (typeof text !== 'string') return `X'${text.toString('hex')}'`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return text;
  return mysql.escape(text);
}

/** A canonical value bound as a query parameter (mysql2 escapes it). */
export function toParam(value: Value, column?: Column): Value {
  if (value === null || !column) return value;
  const text = toMysqlText(value, column);
  return typeof value === 'string' ? (text as string) : value;
}
