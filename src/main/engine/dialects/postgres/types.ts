/**
 * PostgreSQL types: native type names <-> logical types, and text <-> canonical
 * values. Every value crosses the driver as text (see connect.ts), so nothing
 * goes through a lossy JS conversion; these decoders build the canonical form.
 */
import type { LogicalType, TypeMapping, Value } from '../../types.js';

export type Decoder = (text: string) => Value;

// -- native -> logical -------------------------------------------------------

/** Extra catalog facts describeTable knows and a bare type name does not. */
export interface NativeTypeFacts {
  /** pg_type.typtype: 'e' enum, 'd' domain (already resolved to its base), ... */
  typtype?: string;
  enumLabels?: string[];
}

const INTEGERS: Record<string, 2 | 4 | 8> = {
  smallint: 2, int2: 2, smallserial: 2, serial2: 2,
  integer: 4, int: 4, int4: 4, serial: 4, serial4: 4,
  bigint: 8, int8: 8, bigserial: 8, serial8: 8,
};

const SIMPLE: Record<string, LogicalType> = {
  real: { kind: 'float', bytes: 4 },
  float4: { kind: 'float', bytes: 4 },
  'double precision': { kind: 'float', bytes: 8 },
  float8: { kind: 'float', bytes: 8 },
  boolean: { kind: 'boolean' },
  bool: { kind: 'boolean' },
  text: { kind: 'text' },
  citext: { kind: 'text' },
  name: { kind: 'text', maxLength: 63 },
  bytea: { kind: 'binary' },
  date: { kind: 'date' },
  json: { kind: 'json' },
  jsonb: { kind: 'json', parsed: true },
  uuid: { kind: 'uuid' },
  oid: { kind: 'integer', bytes: 4, unsigned: true },
  timestamptz: { kind: 'timestamp', withTimeZone: true },
  timetz: { kind: 'text' },
};

/**
 * The logical type of a native type as format_type() or a user spells it:
 * "numeric(12,2)", "character varying(32)", "timestamp(3) with time zone",
 * "varchar(10)", "int8". Unknown types (arrays, ranges, geometry, interval,
 * inet, ...) are carried as their text form.
 */
export function logicalFromNative(nativeType: string, facts: NativeTypeFacts = {}): LogicalType {
  if (facts.typtype === 'e' && facts.enumLabels) return { kind: 'enum', values: facts.enumLabels };
  const t = nativeType.trim().toLowerCase().replace(/\s+/g, ' ');
  if (t.endsWith(']')) return { kind: 'text' };
  const m = /^([a-z_][a-z0-9_ ]*?)\s*(?:\(\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*)?\))?(?: (with|without) time zone)?$/.exec(t);
  if (!m) return { kind: 'text' };
  const [, base, a, b, zone] = m;
  const p = a === undefined ? undefined : Number(a);
  const s = b === undefined ? undefined : Number(b);
  if (INTEGERS[base]) return { kind: 'integer', bytes: INTEGERS[base] };
  switch (base) {
    case 'numeric':
    case 'decimal':
      if (p === undefined) return { kind: 'decimal' };
      return { kind: 'decimal', precision: p, scale: s ?? 0 };
    case 'float':
      return { kind: 'float', bytes: p !== undefined && p <= 24 ? 4 : 8 };
    case 'character varying':
    case 'varchar':
      return p === undefined ? { kind: 'text' } : { kind: 'text', maxLength: p };
    case 'character':
    case 'char':
      return { kind: 'text', maxLength: p ?? 1, fixed: true };
    case 'bpchar':
      return p === undefined ? { kind: 'text' } : { kind: 'text', maxLength: p, fixed: true };
    case 'time':
      if (zone === 'with') return { kind: 'text' };
      return p === undefined ? { kind: 'time' } : { kind: 'time', precision: p };
    case 'timestamp':
      return p === undefined
        ? { kind: 'timestamp', withTimeZone: zone === 'with' }
        : { kind: 'timestamp', withTimeZone: zone === 'with', precision: p };
    case 'timestamptz':
      return p === undefined ? { kind: 'timestamp', withTimeZone: true } : { kind: 'timestamp', withTimeZone: true, precision: p };
  }
  return SIMPLE[base] ?? { kind: 'text' };
}

// -- logical -> native ---------------------------------------------------------

const MAX_VARCHAR = 10_485_760;
const MAX_NUMERIC_PRECISION = 1000;
const MAX_FRACTION = 6;

function withPrecision(name: string, precision: number | undefined, suffix = ''): TypeMapping {
  if (precision === undefined) return { nativeType: name + suffix };
  if (precision > MAX_FRACTION) {
    return {
      nativeType: `${name}(${MAX_FRACTION})${suffix}`,
      lossy: `PostgreSQL keeps at most ${MAX_FRACTION} fractional digits of seconds; digits beyond that (precision ${precision}) are rounded`,
    };
  }
  return { nativeType: `${name}(${precision})${suffix}` };
}

export function mapType(type: LogicalType): TypeMapping {
  switch (type.kind) {
    case 'integer':
      if (type.bytes === 1) return { nativeType: 'smallint' };
      if (type.bytes === 2) return { nativeType: type.unsigned ? 'integer' : 'smallint' };
      if (type.bytes === 3) return { nativeType: 'integer' };
      if (type.bytes === 4) return { nativeType: type.unsigned ? 'bigint' : 'integer' };
      return { nativeType: type.unsigned ? 'numeric(20,0)' : 'bigint' };
    case 'decimal':
      if (type.precision === undefined || type.scale === undefined) return { nativeType: 'numeric' };
      if (type.precision > MAX_NUMERIC_PRECISION) return { nativeType: 'numeric' };
      return { nativeType: `numeric(${type.precision},${type.scale})` };
    case 'float':
      return { nativeType: type.bytes === 4 ? 'real' : 'double precision' };
    case 'boolean':
      return { nativeType: 'boolean' };
    case 'text':
      if (type.maxLength === undefined || type.maxLength > MAX_VARCHAR || type.maxLength < 1) return { nativeType: 'text' };
      return { nativeType: type.fixed ? `character(${type.maxLength})` : `character varying(${type.maxLength})` };
    case 'binary':
      return { nativeType: 'bytea' };
    case 'date':
      return { nativeType: 'date' };
    case 'time':
      return withPrecision('time', type.precision, ' without time zone');
    case 'timestamp':
      return withPrecision('timestamp', type.precision, type.withTimeZone ? ' with time zone' : ' without time zone');
    case 'json':
      // json, not jsonb, for JSON text: jsonb reorders keys and drops duplicates and whitespace.
      // Values that came out of a jsonb are in that form already: jsonb keeps them as they are.
      return { nativeType: type.parsed ? 'jsonb' : 'json' };
    case 'uuid':
      return { nativeType: 'uuid' };
    case 'enum':
      // Values are kept exactly; the target column is not restricted to the labels.
      return { nativeType: 'text' };
    case 'any':
      return {
        nativeType: 'text',
        lossy: 'values of dynamic type (numbers, blobs) are stored as their text form in a text column',
      };
  }
}

// -- text -> canonical -----------------------------------------------------------

export function decodeInteger(s: string): number | bigint {
  if (s.length < 16) return +s;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

const decodeFloat: Decoder = (s) => Number(s);
const decodeBoolean: Decoder = (s) => s === 't';
const identity: Decoder = (s) => s;

/** bytea_output = hex: "\x0a0b" */
export function decodeBytea(s: string): Uint8Array {
  if (s.startsWith('\\x')) return Buffer.from(s.slice(2), 'hex');
  return decodeByteaEscape(s);
}

function decodeByteaEscape(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === '\\') {
      out.push(92);
      i++;
    } else if (s[i] === '\\') {
      out.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else out.push(s.charCodeAt(i));
  }
  return Buffer.from(out);
}

/** TimeZone is UTC, so PostgreSQL prints "...+00"; canonical is "...+00:00". */
export function decodeTimestamptz(s: string): string {
  if (s.endsWith('+00')) return s + ':00';
  return s;
}

export function decoderFor(type: LogicalType): Decoder {
  switch (type.kind) {
    case 'integer':
      return decodeInteger;
    case 'float':
      return decodeFloat;
    case 'boolean':
      return decodeBoolean;
    case 'binary':
      return decodeBytea;
    case 'timestamp':
      return type.withTimeZone ? decodeTimestamptz : identity;
    default:
      return identity;
  }
}

/** Decoders by type OID for ad-hoc queries; unknown OIDs stay text. */
const BY_OID: Record<number, Decoder> = {
  16: decodeBoolean,
  17: decodeBytea,
  20: decodeInteger,
  21: decodeInteger,
  23: decodeInteger,
  26: decodeInteger,
  700: decodeFloat,
  701: decodeFloat,
  1184: decodeTimestamptz,
};

export function decoderForOid(oid: number): Decoder {
  return BY_OID[oid] ?? identity;
}

// -- canonical -> text (input syntax) ------------------------------------------------

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * A canonical value in PostgreSQL's text input syntax for a column of `type`,
 * or null for NULL. Used by COPY (then escaped) and for literal keyset bounds.
 */
export function toPgText(v: Value, type: LogicalType | undefined): string | null {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
      if (type?.kind === 'binary') return '\\x' + Buffer.from(v, 'utf8').toString('hex');
      return v;
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      if (type === undefined || type.kind === 'boolean') return v ? 't' : 'f';
      if (type.kind === 'integer' || type.kind === 'decimal' || type.kind === 'float') return v ? '1' : '0';
      return v ? 'true' : 'false';
    default:
      return '\\x' + hex(v);
  }
}

const ALIASES: Record<string, string> = {
  int: 'integer', int4: 'integer', int8: 'bigint', int2: 'smallint', float8: 'double precision', float4: 'real',
  bool: 'boolean', varchar: 'character varying', char: 'character', bpchar: 'character', decimal: 'numeric',
  timestamp: 'timestamp without time zone', timestamptz: 'timestamp with time zone',
  time: 'time without time zone', timetz: 'time with time zone',
};

/** "character varying(32)", "varchar(32)" → one spelling; precision kept ("timestamp(3) without time zone"). */
function canonicalNative(nativeType: string): string {
  const t = nativeType.trim().toLowerCase().replace(/\s+/g, ' ');
  const m = /^([a-z_ ]+?)\s*(\([^)]*\))?(\s+with(?:out)? time zone)?$/.exec(t);
  if (!m) return t;
  const base = m[1].trim() + (m[3] ?? '');
  const params = (m[2] ?? '').replace(/\s+/g, '');
  const aliased = ALIASES[base] ?? base;
  const zone = / with(out)? time zone$/.exec(aliased);
  return zone ? `${aliased.slice(0, zone.index)}${params}${zone[0]}` : `${aliased}${params}`;
}

/** Binary COPY is type-specific: bytes pass from one column to another only when both have the same type. */
export function rawCompatible(sourceNative: string, targetNative: string): boolean {
  return canonicalNative(sourceNative) === canonicalNative(targetNative);
}
