/**
 * SQLite type names <-> logical types. SQLite stores any value in any column;
 * the declared type is all it keeps of intent, so dbferry declares types that
 * say what the column holds and give the affinity that keeps values exact
 * (decimals and JSON get TEXT affinity: NUMERIC affinity would turn "12.50"
 * into the REAL 12.5 and "1e400" into Infinity).
 */
import type { LogicalType, TypeMapping } from '../../types.js';

export function parseSqliteType(declared: string): LogicalType {
  const t = declared.trim().toUpperCase();
  if (t === '') return { kind: 'any' };
  const args = /\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(t);
  const p = args ? Number(args[1]) : undefined;
  const s = args?.[2] !== undefined ? Number(args[2]) : undefined;
  const unsigned = /\bUNSIGNED\b/.test(t);
  if (/^(BOOL|BOOLEAN)\b/.test(t)) return { kind: 'boolean' };
  if (/^TINYINT\b/.test(t)) return { kind: 'integer', bytes: 1, unsigned };
  if (/^SMALLINT\b/.test(t) || /^INT2\b/.test(t)) return { kind: 'integer', bytes: 2, unsigned };
  if (/^MEDIUMINT\b/.test(t)) return { kind: 'integer', bytes: 3, unsigned };
  if (/^(INT|INT4)\b/.test(t) && !/^INTEGER\b/.test(t)) return { kind: 'integer', bytes: 4, unsigned };
  if (t.includes('INT')) return { kind: 'integer', bytes: 8, unsigned };
  if (/^(DECIMAL|NUMERIC)/.test(t)) return { kind: 'decimal', precision: p, scale: s ?? (p !== undefined ? 0 : undefined) };
  if (/^(FLOAT|REAL4)\b/.test(t)) return { kind: 'float', bytes: 8 };
  if (/^(REAL|DOUBLE|FLOA)/.test(t)) return { kind: 'float', bytes: 8 };
  if (/^(JSON|JSONB)/.test(t)) return { kind: 'json' };
  if (/^UUID/.test(t)) return { kind: 'uuid' };
  if (/^(TIMESTAMPTZ|TIMESTAMP WITH TIME ZONE|DATETIMETZ)/.test(t)) return { kind: 'timestamp', withTimeZone: true, precision: p };
  if (/^(DATETIME|TIMESTAMP)/.test(t)) return { kind: 'timestamp', withTimeZone: false, precision: p };
  if (/^DATE\b/.test(t)) return { kind: 'date' };
  if (/^TIME\b/.test(t)) return { kind: 'time', precision: p };
  if (/^(BLOB|BINARY|VARBINARY|BYTEA)/.test(t)) return { kind: 'binary', maxLength: p };
  if (/CHAR|CLOB|TEXT|STRING/.test(t)) return { kind: 'text', maxLength: /TEXT|CLOB/.test(t) ? undefined : p, fixed: /^(CHAR|CHARACTER|NCHAR)\b/.test(t) || undefined };
  // Anything else has NUMERIC affinity in SQLite: a number or whatever text was put there.
  return { kind: 'any' };
}

const INT_NAMES = { 1: 'TINYINT', 2: 'SMALLINT', 3: 'MEDIUMINT', 4: 'INT', 8: 'BIGINT' } as const;

export function sqliteTypeFor(type: LogicalType): TypeMapping {
  switch (type.kind) {
    case 'integer':
      return {
        nativeType: INT_NAMES[type.bytes] + (type.unsigned ? ' UNSIGNED' : ''),
        lossy:
          type.unsigned && type.bytes === 8
            ? "values above 9223372036854775807 do not fit SQLite's signed 64-bit INTEGER (override the type with \"text\" to keep them)"
            : undefined,
      };
    case 'decimal':
      return { nativeType: type.precision !== undefined ? `DECIMAL_TEXT(${type.precision},${type.scale ?? 0})` : 'DECIMAL_TEXT' };
    case 'float':
      return { nativeType: type.bytes === 4 ? 'FLOAT' : 'DOUBLE' };
    case 'boolean':
      return { nativeType: 'BOOLEAN' };
    case 'text':
      return { nativeType: type.maxLength !== undefined ? `${type.fixed ? 'CHAR' : 'VARCHAR'}(${type.maxLength})` : 'TEXT' };
    case 'binary':
      return { nativeType: 'BLOB' };
    case 'date':
      return { nativeType: 'DATE' };
    case 'time':
      return { nativeType: type.precision !== undefined ? `TIME(${type.precision})` : 'TIME' };
    case 'timestamp':
      return {
        nativeType: (type.withTimeZone ? 'TIMESTAMPTZ' : 'DATETIME') + (type.precision !== undefined ? `(${type.precision})` : ''),
      };
    case 'json':
      return { nativeType: 'JSON_TEXT' };
    case 'uuid':
      return { nativeType: 'UUID_TEXT' };
    case 'enum':
      return { nativeType: 'TEXT' };
    case 'any':
      return { nativeType: '' };
  }
}
