/**
 * MySQL/MariaDB native types <-> logical types.
 *
 * Decisions:
 * - tinyint(1) is an integer of 1 byte, not a boolean: MySQL's BOOLEAN is
 *   tinyint(1) but it holds -128..127, and reading 5 as `true` would lose data.
 *   A logical boolean is written as TINYINT(1) holding 0/1; bit(1) reads as boolean.
 * - MariaDB's JSON is LONGTEXT with a json_valid() CHECK: introspection spots
 *   the CHECK and reports json (see introspect.ts); here "json" parses to json.
 * - timestamptz is held as DATETIME(6) in UTC: TIMESTAMP's 1970..2038 range is too small.
 */
import { FerryError } from '../../errors.js';
import type { LogicalType, TypeMapping } from '../../types.js';
import type { Flavor } from './connect.js';

const INTEGER_BYTES: Record<string, 1 | 2 | 3 | 4 | 8> = {
  tinyint: 1,
  smallint: 2,
  mediumint: 3,
  int: 4,
  integer: 4,
  bigint: 8,
};

/** Upper bounds (bytes) of the TEXT/BLOB families; LONG* is unbounded for our purposes. */
const LOB_BYTES: Record<string, number | undefined> = {
  tiny: 255,
  '': 65_535,
  medium: 16_777_215,
  long: undefined,
};

const TEXT_LOB = /^(tiny|medium|long|)text$/;
const BINARY_LOB = /^(tiny|medium|long|)blob$/;

/**
 * Parse a native type as MySQL spells it ("int(10) unsigned", "decimal(20,4)",
 * "enum('a','b')"). Unknown types are `undefined`; see parseNativeType.
 */
export function parseMysqlType(nativeType: string): LogicalType | undefined {
  const m = /^\s*([a-z][a-z0-9 _]*?)\s*(?:\((.*)\))?\s*((?:unsigned|signed|zerofill|\s)*)$/is.exec(nativeType);
  if (!m) return undefined;
  const name = m[1].toLowerCase().replace(/\s+/g, ' ');
  const args = m[2];
  const unsigned = /unsigned/i.test(m[3] ?? '');
  const nums = args && !/^'/.test(args.trim()) ? args.split(',').map((a) => Number(a.trim())) : [];

  if (name in INTEGER_BYTES) return { kind: 'integer', bytes: INTEGER_BYTES[name], ...(unsigned ? { unsigned } : {}) };
  if (name === 'serial') return { kind: 'integer', bytes: 8, unsigned: true };
  if (name === 'bool' || name === 'boolean') return { kind: 'boolean' };
  if (name === 'decimal' || name === 'numeric' || name === 'dec' || name === 'fixed') {
    return { kind: 'decimal', precision: nums[0] ?? 10, scale: nums[1] ?? 0 };
  }
  if (name === 'float') return { kind: 'float', bytes: nums[0] !== undefined && nums[0] > 24 ? 8 : 4 };
  if (name === 'double' || name === 'double precision' || name === 'real') return { kind: 'float', bytes: 8 };
  // bit(n) holds n bits: its width, not BIGINT's, decides what it fits (bit(16) goes into SQLite's INTEGER).
  if (name === 'bit') return (nums[0] ?? 1) === 1 ? { kind: 'boolean' } : { kind: 'integer', bytes: bitBytes(nums[0] ?? 1), unsigned: true };
  if (name === 'char' || name === 'nchar' || name === 'national char') return { kind: 'text', maxLength: nums[0] ?? 1, fixed: true };
  if (name === 'varchar' || name === 'nvarchar' || name === 'national varchar') return { kind: 'text', maxLength: nums[0] };
  if (TEXT_LOB.test(name)) return { kind: 'text', maxLength: LOB_BYTES[TEXT_LOB.exec(name)![1]] };
  if (name === 'binary') return { kind: 'binary', maxLength: nums[0] ?? 1, fixed: true };
  if (name === 'varbinary') return { kind: 'binary', maxLength: nums[0] };
  if (BINARY_LOB.test(name)) return { kind: 'binary', maxLength: LOB_BYTES[BINARY_LOB.exec(name)![1]] };
  if (name === 'date') return { kind: 'date' };
  if (name === 'time') return { kind: 'time', precision: nums[0] ?? 0 };
  if (name === 'datetime') return { kind: 'timestamp', withTimeZone: false, precision: nums[0] ?? 0 };
  // TIMESTAMP is stored as UTC and read in the session's +00:00.
  if (name === 'timestamp') return { kind: 'timestamp', withTimeZone: true, precision: nums[0] ?? 0 };
  if (name === 'year') return { kind: 'integer', bytes: 2 };
  if (name === 'json') return { kind: 'json' };
  if (name === 'uuid') return { kind: 'uuid' };
  if (name === 'enum') {
    const values = parseEnumValues(args ?? '');
    // MariaDB's information_schema is utf8mb3: a label with an emoji reads as 'happy ?'.
    // Such labels cannot be trusted (nor recreated), so the column is carried as text.
    return values.some((v) => v.includes('?')) ? { kind: 'text' } : { kind: 'enum', values };
  }
  if (name === 'set' || name === 'inet4' || name === 'inet6') return { kind: 'text' };
  if (/^(geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection)$/.test(name)) {
    return { kind: 'binary' };
  }
  return undefined;
}

/** For a user's `types` override: an unknown type is a spec error, not a guess. */
export function parseNativeType(nativeType: string): LogicalType {
  const type = parseMysqlType(nativeType);
  if (!type) {
    throw new FerryError('spec', `"${nativeType}" is not a MySQL/MariaDB type dbferry knows`, {
      hint: 'Use a type such as int, bigint unsigned, decimal(20,4), varchar(255), text, datetime(6), json',
    });
  }
  return type;
}

/** 'a','b''c' -> ["a", "b'c"] (COLUMN_TYPE doubles quotes and escapes backslashes). */
export function parseEnumValues(args: string): string[] {
  const values: string[] = [];
  const re = /'((?:[^'\\]|''|\\.)*)'/gs;
  for (const m of args.matchAll(re)) {
    values.push(m[1].replace(/''/g, "'").replace(/\\(.)/gs, '$1'));
  }
  return values;
}

/** Longest VARCHAR/VARBINARY we create; longer limits go to TEXT/BLOB types (row size limit). */
const MAX_VARCHAR = 768;
const MAX_VARBINARY = 3072;

export function mapType(type: LogicalType, flavor: Flavor): TypeMapping {
  switch (type.kind) {
    case 'integer': {
      const name = { 1: 'TINYINT', 2: 'SMALLINT', 3: 'MEDIUMINT', 4: 'INT', 8: 'BIGINT' }[type.bytes];
      return { nativeType: type.unsigned ? `${name} UNSIGNED` : name };
    }
    case 'decimal':
      return mapDecimal(type.precision, type.scale);
    case 'float':
      return { nativeType: type.bytes === 4 ? 'FLOAT' : 'DOUBLE' };
    case 'boolean':
      return { nativeType: 'TINYINT(1)' };
    case 'text':
      return { nativeType: textType(type.maxLength, type.fixed) };
    case 'binary':
      return { nativeType: binaryType(type.maxLength, type.fixed) };
    case 'date':
      return { nativeType: 'DATE' };
    case 'time':
      return { nativeType: `TIME(${fsp(type.precision)})`, lossy: fspLoss(type.precision) };
    case 'timestamp':
      // DATETIME for both: TIMESTAMP only holds 1970..2038. timestamptz values are UTC already,
      // but the column no longer says so: the same words fitReason uses for an existing DATETIME.
      return {
        nativeType: `DATETIME(${fsp(type.precision)})`,
        lossy: fspLoss(type.precision) ?? (type.withTimeZone ? 'the time zone is dropped: values are stored as UTC wall-clock time' : undefined),
      };
    case 'json':
      return flavor === 'mariadb'
        ? { nativeType: 'JSON' }
        : { nativeType: 'JSON', lossy: 'MySQL stores JSON in binary form: key order, whitespace and duplicate keys are not kept' };
    case 'uuid':
      return { nativeType: 'CHAR(36)' };
    case 'enum':
      return mapEnum(type.values);
    case 'any':
      return { nativeType: 'LONGTEXT', lossy: 'values of an undeclared type are stored as text (numbers and blobs lose their type)' };
  }
}

function mapDecimal(precision?: number, scale?: number): TypeMapping {
  if (precision === undefined) {
    return { nativeType: 'DECIMAL(65,30)', lossy: 'an unconstrained numeric is held as DECIMAL(65,30): more than 35 integer digits are rejected and more than 30 decimals are rounded' };
  }
  const s = Math.max(0, scale ?? 0);
  if (precision <= 65 && s <= 30) return { nativeType: `DECIMAL(${precision},${s})` };
  const s2 = Math.min(s, 30);
  const p2 = Math.min(65, Math.max(precision - s + s2, s2));
  return {
    nativeType: `DECIMAL(${p2},${s2})`,
    lossy: `MySQL DECIMAL holds at most 65 digits, 30 after the point: numeric(${precision},${s}) values may be rounded or rejected`,
  };
}

function fsp(precision?: number): number {
  return precision === undefined ? 6 : Math.min(6, Math.max(0, precision));
}

function fspLoss(precision?: number): string | undefined {
  return precision !== undefined && precision > 6 ? `MySQL keeps at most 6 fractional digits of seconds (source has ${precision})` : undefined;
}

function textType(maxLength?: number, fixed?: boolean): string {
  // CHAR would drop trailing spaces on read, so fixed-length text is VARCHAR too.
  void fixed;
  if (maxLength === undefined) return 'LONGTEXT';
  if (maxLength <= MAX_VARCHAR) return `VARCHAR(${Math.max(1, maxLength)})`;
  if (maxLength <= 16_383) return 'TEXT';
  if (maxLength <= 4_194_303) return 'MEDIUMTEXT';
  return 'LONGTEXT';
}

function binaryType(maxLength?: number, fixed?: boolean): string {
  if (maxLength === undefined) return 'LONGBLOB';
  if (fixed && maxLength <= 255) return `BINARY(${Math.max(1, maxLength)})`;
  if (maxLength <= MAX_VARBINARY) return `VARBINARY(${Math.max(1, maxLength)})`;
  if (maxLength <= 65_535) return 'BLOB';
  if (maxLength <= 16_777_215) return 'MEDIUMBLOB';
  return 'LONGBLOB';
}

function mapEnum(values: string[]): TypeMapping {
  if (values.length === 0 || values.length > 65_535) return { nativeType: 'LONGTEXT' };
  const literal = values.map((v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`).join(',');
  const trailing = values.filter((v) => / $/.test(v));
  return {
    nativeType: `ENUM(${literal})`,
    lossy: trailing.length ? `MySQL strips trailing spaces from ENUM members (${trailing.map((v) => JSON.stringify(v)).join(', ')})` : undefined,
  };
}

/** TEXT/BLOB columns need a prefix length in an index. */
export function isLob(nativeType: string): boolean {
  return /^\s*(tiny|medium|long|)(text|blob)\b|^\s*json\b/i.test(nativeType);
}

function bitBytes(bits: number): 1 | 2 | 3 | 4 | 8 {
  return bits <= 8 ? 1 : bits <= 16 ? 2 : bits <= 24 ? 3 : bits <= 32 ? 4 : 8;
}
