/**
 * Normalized text of a value, so that the same value compares equal whichever
 * engine it was read from: numbers canonical, timestamps in one format,
 * booleans as booleans, bytes as hex, JSON with sorted keys.
 * Normalization follows the SOURCE column's logical type.
 */
import type { LogicalType, Value } from '../types.js';

export type Normalizer = (v: Value) => string | null;

export function canonicalDecimal(text: string): string {
  let s = text.trim();
  let sign = '';
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s[0] === '-' ? '-' : '';
    s = s.slice(1);
  }
  if (/e/i.test(s)) return sign + String(Number(s)); // exponent notation: only floats print this
  let [int, frac = ''] = s.split('.');
  int = int.replace(/^0+(?=\d)/, '') || '0';
  frac = frac.replace(/0+$/, '');
  const out = frac ? `${int}.${frac}` : int;
  return out === '0' ? '0' : sign + out;
}

function hex(v: Value): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  return Buffer.from(String(v), 'utf8').toString('hex');
}

function text(v: Value): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return String(v);
}

/** "2024-01-02T03:04:05.100000Z" and "2024-01-02 03:04:05.1+00" both become "2024-01-02 03:04:05.1+00:00". */
export function canonicalTemporal(v: string): string {
  let s = v.trim().replace('T', ' ');
  let zone = '';
  const z = /(Z|[+-]\d{2}(?::?\d{2})?)$/.exec(s);
  if (z && /\d{2}:\d{2}/.test(s.slice(0, z.index))) {
    s = s.slice(0, z.index);
    const raw = z[1];
    if (raw === 'Z') zone = '+00:00';
    else {
      const digits = raw.slice(1).replace(':', '');
      zone = `${raw[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
    }
    if (zone === '-00:00') zone = '+00:00';
  }
  s = s.replace(/\.(\d*?)0+$/, (_m, d: string) => (d ? `.${d}` : ''));
  return s + zone;
}

function sortedJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedJson);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortedJson((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

function truthy(v: Value): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = String(v).toLowerCase();
  if (s === '1' || s === 't' || s === 'true') return 'true';
  if (s === '0' || s === 'f' || s === 'false') return 'false';
  return s;
}

function float(v: Value, bytes: 4 | 8): string {
  const n = typeof v === 'number' ? v : Number(text(v));
  return String(bytes === 4 ? Math.fround(n) : n);
}

export function normalizerFor(type: LogicalType): Normalizer {
  const wrap = (f: (v: Value) => string): Normalizer => (v) => (v === null ? null : f(v));
  switch (type.kind) {
    case 'integer':
      return wrap((v) => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v === 'boolean' ? (v ? '1' : '0') : canonicalDecimal(text(v))));
    case 'decimal':
      return wrap((v) => canonicalDecimal(text(v)));
    case 'float':
      return wrap((v) => float(v, type.bytes));
    case 'boolean':
      return wrap(truthy);
    case 'binary':
      return wrap(hex);
    case 'date':
    case 'time':
      return wrap((v) => canonicalTemporal(text(v)));
    case 'timestamp':
      // dbferry stores timestamptz as UTC wall-clock time where the target has no zone
      // (MySQL DATETIME), and reads wall-clock times as UTC: both spellings are one value.
      return type.withTimeZone
        ? wrap((v) => withUtcZone(canonicalTemporal(text(v))))
        : wrap((v) => canonicalTemporal(text(v)).replace(/\+00:00$/, ''));
    case 'json':
      return wrap((v) => {
        try {
          return JSON.stringify(sortedJson(JSON.parse(text(v))));
        } catch {
          return text(v);
        }
      });
    case 'uuid':
      return wrap((v) => text(v).toLowerCase());
    case 'any':
      return wrap((v) => (v instanceof Uint8Array ? `x${hex(v)}` : typeof v === 'number' || typeof v === 'bigint' ? canonicalDecimal(String(v)) : text(v)));
    case 'text':
      // CHAR(n) pads (PostgreSQL) or strips (MySQL) trailing spaces: they are not part of the value.
      return type.fixed ? wrap((v) => text(v).replace(/ +$/, '')) : wrap(text);
    default:
      return wrap(text);
  }
}

function withUtcZone(v: string): string {
  return /[+-]\d{2}:\d{2}$/.test(v) || !/\d{2}:\d{2}/.test(v) ? v : `${v}+00:00`;
}
