/**
 * better-sqlite3 values <-> canonical values (see ../../types.ts).
 * Reads use safeIntegers, so every INTEGER arrives as a bigint and none is
 * rounded through a JS number.
 */
import { FerryError } from '../../errors.js';
import type { LogicalType, Value } from '../../types.js';

export type SqliteValue = null | number | bigint | string | Buffer;
type Reader = (v: SqliteValue) => Value;

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = -MAX;

function integer(v: SqliteValue): Value {
  if (typeof v === 'bigint') return v <= MAX && v >= MIN ? Number(v) : v;
  return v;
}

function toText(v: SqliteValue): Value {
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  return v;
}

const readers: Record<LogicalType['kind'], Reader> = {
  integer,
  decimal: toText,
  float: (v) => (typeof v === 'bigint' ? Number(v) : v),
  boolean: (v) => (v === 0n || v === 1n ? v === 1n : v === 0 || v === 1 ? v === 1 : v),
  text: toText,
  enum: toText,
  uuid: toText,
  json: toText,
  date: toText,
  time: toText,
  timestamp: toText,
  binary: (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v),
  any: integer,
};

export function readerFor(type: LogicalType): Reader {
  return readers[type.kind];
}

/** Bind parameters better-sqlite3 accepts: no booleans, Buffers not Uint8Arrays. */
export function toSqlite(v: Value): SqliteValue {
  if (typeof v === 'boolean') return v ? 1 : 0;
  // better-sqlite3 binds NaN as NULL: refuse it instead of changing the value.
  if (typeof v === 'number' && Number.isNaN(v)) {
    throw new FerryError('data', 'SQLite cannot store NaN (it would become NULL)', { hint: 'map the column to text with "types" to keep NaN as text' });
  }
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v as SqliteValue;
}
