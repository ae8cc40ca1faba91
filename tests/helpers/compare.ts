/**
 * An independent comparison of two tables in any two engines: both sides are
 * read with the native drivers (pg with every value as its text, mysql2 over
 * the binary protocol so FLOAT arrives as its exact 4 bytes, better-sqlite3
 * with safe integers), then each value is normalized by the kind the fixture
 * declares for its column. No dbferry code is used here.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import Database from 'better-sqlite3';
import { quoteFor, type Engine, type Kind, type NativeTarget } from './fixtures.js';

export type Raw = unknown;

/** Rows keyed by the normalized text of their key column. */
export type TableRows = Map<string, Raw[]>;

const TEXT_PARSERS = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export async function readNative(db: NativeTarget, table: string, columns: string[], key: string | string[]): Promise<TableRows> {
  const q = quoteFor(db.engine);
  const keys = typeof key === 'string' ? [key] : key;
  const sql = `SELECT ${columns.map(q).join(', ')} FROM ${q(table)} ORDER BY ${keys.map(q).join(', ')}`;
  const keyIdx = keys.map((k) => columns.indexOf(k));
  let rows: Raw[][];
  if (db.engine === 'postgres') {
    const client = new pg.Client({ connectionString: db.url, types: TEXT_PARSERS });
    await client.connect();
    try {
      await client.query("SET TimeZone = 'UTC'; SET extra_float_digits = 3");
      rows = (await client.query({ text: sql, rowMode: 'array' })).rows as Raw[][];
    } finally {
      await client.end();
    }
  } else if (db.engine === 'mysql') {
    const conn = await mysql.createConnection({
      uri: db.url,
      charset: 'UTF8MB4_UNICODE_CI',
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      decimalNumbers: false,
      jsonStrings: true,
    });
    try {
      await conn.query("SET time_zone = '+00:00'");
      // execute(): the binary protocol, where FLOAT/DOUBLE travel as their IEEE bytes.
      const [result] = await conn.execute({ sql, rowsAsArray: true });
      rows = result as Raw[][];
    } finally {
      await conn.end();
    }
  } else {
    const lite = new Database(db.url, { readonly: true });
    try {
      rows = lite.prepare(sql).raw(true).safeIntegers(true).all() as Raw[][];
    } finally {
      lite.close();
    }
  }
  const out: TableRows = new Map();
  for (const r of rows) out.set(keyIdx.map((i) => String(r[i])).join('|'), r);
  return out;
}

// -- normalization --------------------------------------------------------------------

function decimalText(s: string): string {
  let t = s.trim();
  let sign = '';
  if (t[0] === '-' || t[0] === '+') {
    sign = t[0] === '-' ? '-' : '';
    t = t.slice(1);
  }
  let [int, frac = ''] = t.split('.');
  int = int.replace(/^0+(?=\d)/, '') || '0';
  frac = frac.replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return body === '0' ? '0' : sign + body;
}

function asText(v: Raw): string {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

function trimFraction(s: string): string {
  return s.replace(/\.(\d*?)0*$/, (_m, d: string) => (d ? `.${d}` : ''));
}

/** Any timestamp spelling with an offset (or none: UTC) as UTC wall-clock time. */
export function utcWallClock(v: string): string {
  const m = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(v.trim());
  if (!m) return v;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * (zone[0] === '-' ? -1 : 1);
  }
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi) - offsetMin, Number(s), 0);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return trimFraction(base + frac);
}

function bytesHex(v: Raw): string {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  const s = String(v);
  return s.startsWith('\\x') ? s.slice(2) : `text:${s}`;
}

function integer(v: Raw): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Buffer.isBuffer(v)) return BigInt(`0x${v.toString('hex') || '0'}`).toString();
  const s = String(v);
  return /^-?\d+$/.test(s) ? BigInt(s).toString() : `text:${s}`;
}

function boolean(v: Raw): string {
  if (Buffer.isBuffer(v)) return v.some((b) => b !== 0) ? '1' : '0';
  const s = String(v).toLowerCase();
  if (s === 't' || s === 'true' || s === '1') return '1';
  if (s === 'f' || s === 'false' || s === '0') return '0';
  return `other:${s}`;
}

function float(v: Raw, single: boolean): string {
  if (typeof v === 'string' && !/^[-+]?(\d|\.\d|inf|nan)/i.test(v)) return `text:${v}`;
  const n = typeof v === 'number' ? v : Number(String(v).replace(/^-?inf(inity)?$/i, (x) => (x[0] === '-' ? '-Infinity' : 'Infinity')));
  return String(single ? Math.fround(n) : n);
}

/** One value as comparable text, by the kind of its column; null stays null. */
export function normalize(kind: Kind, v: Raw): string | null {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'int':
      return integer(v);
    case 'decimal':
      return typeof v === 'number' ? decimalText(String(v)) : decimalText(asText(v));
    case 'float4':
      return float(v, true);
    case 'float8':
      return float(v, false);
    case 'bool':
      return boolean(v);
    case 'bytes':
      return bytesHex(v);
    case 'time':
      return trimFraction(asText(v));
    case 'ts':
      return trimFraction(asText(v).replace('T', ' '));
    case 'tstz':
      return utcWallClock(asText(v));
    case 'uuid':
      return asText(v).toLowerCase();
    case 'char':
      // CHAR(n): PostgreSQL pads with spaces, MySQL strips them; they are not part of the value.
      return asText(v).replace(/ +$/, '');
    case 'any':
      if (typeof v === 'bigint' || typeof v === 'number') return decimalText(String(v));
      if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`;
      return asText(v);
    default:
      return asText(v);
  }
}

export interface ColumnCheck {
  name: string;
  kind: Kind;
  /** Target column name when it differs. */
  target?: string;
}

/** Every differing value, as "key/column: source → target" lines (empty: equal). */
export async function diffTables(
  source: NativeTarget,
  target: NativeTarget,
  table: { source: string; target: string; key: string },
  columns: ColumnCheck[],
  opts: { skipKeys?: Set<string>; onlyKeys?: (key: string) => boolean } = {},
): Promise<{ sourceRows: number; targetRows: number; diffs: string[] }> {
  const src = await readNative(source, table.source, columns.map((c) => c.name), table.key);
  const tgt = await readNative(target, table.target, columns.map((c) => c.target ?? c.name), table.key);
  const diffs: string[] = [];
  const keys = new Set([...src.keys(), ...tgt.keys()]);
  for (const key of keys) {
    if (opts.onlyKeys && !opts.onlyKeys(key)) continue;
    const s = src.get(key);
    const t = tgt.get(key);
    if (opts.skipKeys?.has(key)) {
      if (t) diffs.push(`${key}: expected absent from the target`);
      continue;
    }
    if (!s || !t) {
      diffs.push(`${key}: ${s ? 'missing in the target' : 'extra in the target'}`);
      continue;
    }
    columns.forEach((c, i) => {
      const a = normalize(c.kind, s[i]);
      const b = normalize(c.kind, t[i]);
      if (a !== b) diffs.push(`${key}/${c.name}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
    });
  }
  return { sourceRows: src.size, targetRows: tgt.size, diffs };
}

/** A checksum of a whole table: rows in key order, every value normalized by its kind. */
export async function tableChecksum(db: NativeTarget, table: string, columns: ColumnCheck[], key: string[]): Promise<{ rows: number; sha: string }> {
  // Keys are integers in every table checksummed here, so ORDER BY agrees across engines.
  const rows = await readNative(db, table, columns.map((c) => c.name), key);
  const hash = createHash('sha256');
  for (const r of rows.values()) hash.update(JSON.stringify(columns.map((c, i) => normalize(c.kind, r[i]))) + '\n');
  return { rows: rows.size, sha: hash.digest('hex') };
}

export type { Engine };
