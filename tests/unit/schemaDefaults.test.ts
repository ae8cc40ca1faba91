/** The table of known default expressions: each engine's spelling read, fitted to the target column, and written in each engine's SQL. */
import { describe, expect, it } from 'vitest';
import { parseMysqlDefault } from '../../src/main/engine/dialects/mysql/schema.js';
import { mysqlSchema } from '../../src/main/engine/dialects/mysql/schema.js';
import { parsePostgresDefault, postgresSchema } from '../../src/main/engine/dialects/postgres/schema.js';
import { parseSqliteDefault, sqliteSchema } from '../../src/main/engine/dialects/sqlite/schema.js';
import type { Column, LogicalType } from '../../src/main/engine/types.js';

const column = (nativeType: string, type: LogicalType): Column => ({ name: 'c', nativeType, type, nullable: true });

describe('reading defaults', () => {
  it('PostgreSQL, as pg_get_expr prints them', () => {
    expect(parsePostgresDefault('now()')).toEqual({ kind: 'now' });
    expect(parsePostgresDefault('CURRENT_TIMESTAMP')).toEqual({ kind: 'now' });
    expect(parsePostgresDefault('LOCALTIMESTAMP(3)')).toEqual({ kind: 'now' });
    expect(parsePostgresDefault("'it''s'::character varying")).toEqual({ kind: 'string', value: "it's" });
    expect(parsePostgresDefault("'{}'::jsonb")).toEqual({ kind: 'string', value: '{}' });
    expect(parsePostgresDefault('(-1)')).toEqual({ kind: 'number', value: '-1' });
    expect(parsePostgresDefault('0.5')).toEqual({ kind: 'number', value: '0.5' });
    expect(parsePostgresDefault('true')).toEqual({ kind: 'boolean', value: true });
    expect(parsePostgresDefault('gen_random_uuid()')).toEqual({ kind: 'uuid' });
    expect(parsePostgresDefault("upper('a'::text)")).toBeUndefined();
  });

  it("MariaDB's quoted COLUMN_DEFAULT text, and MySQL 8's bare one", () => {
    expect(parseMysqlDefault('current_timestamp()', true, false, false)).toEqual({ kind: 'now' });
    expect(parseMysqlDefault('current_timestamp(6)', true, false, false)).toEqual({ kind: 'now' });
    expect(parseMysqlDefault("'x''y'", true, false, false)).toEqual({ kind: 'string', value: "x'y" });
    expect(parseMysqlDefault("'a\\\\b'", true, false, false)).toEqual({ kind: 'string', value: 'a\\b' });
    expect(parseMysqlDefault("b'1'", true, false, true)).toEqual({ kind: 'number', value: '1' });
    expect(parseMysqlDefault('1.50', true, false, true)).toEqual({ kind: 'number', value: '1.50' });
    expect(parseMysqlDefault('(1 + 2)', true, false, true)).toBeUndefined();
    expect(parseMysqlDefault('CURRENT_TIMESTAMP', false, true, false)).toEqual({ kind: 'now' });
    expect(parseMysqlDefault("it's", false, false, false)).toEqual({ kind: 'string', value: "it's" });
    expect(parseMysqlDefault('7', false, false, true)).toEqual({ kind: 'number', value: '7' });
  });

  it('SQLite, as written in the table', () => {
    expect(parseSqliteDefault('CURRENT_TIMESTAMP')).toEqual({ kind: 'now' });
    expect(parseSqliteDefault("(datetime('now'))")).toEqual({ kind: 'now' });
    expect(parseSqliteDefault("'it''s'")).toEqual({ kind: 'string', value: "it's" });
    expect(parseSqliteDefault('-3')).toEqual({ kind: 'number', value: '-3' });
    expect(parseSqliteDefault('TRUE')).toEqual({ kind: 'boolean', value: true });
    expect(parseSqliteDefault("(lower('A'))")).toBeUndefined();
  });
});

describe('writing defaults', () => {
  const ts = column('timestamp(6) without time zone', { kind: 'timestamp', withTimeZone: false, precision: 6 });
  const flag = { pg: column('boolean', { kind: 'boolean' }), my: column('tinyint(1)', { kind: 'boolean' }), lite: column('BOOLEAN', { kind: 'boolean' }) };

  it('the current time, for each engine', () => {
    expect(postgresSchema.renderDefault({ kind: 'now' }, ts)).toEqual({ sql: 'LOCALTIMESTAMP' });
    expect(postgresSchema.renderDefault({ kind: 'now' }, column('timestamptz', { kind: 'timestamp', withTimeZone: true }))).toEqual({ sql: 'CURRENT_TIMESTAMP' });
    expect(mysqlSchema.renderDefault({ kind: 'now' }, column('datetime(6)', { kind: 'timestamp', withTimeZone: false, precision: 6 }))).toEqual({ sql: 'CURRENT_TIMESTAMP(6)' });
    expect(sqliteSchema.renderDefault({ kind: 'now' }, column('DATETIME', { kind: 'timestamp', withTimeZone: false }))).toEqual({ sql: 'CURRENT_TIMESTAMP' });
    expect(postgresSchema.renderDefault({ kind: 'now' }, column('text', { kind: 'text' }))).toEqual({ reason: expect.stringMatching(/current time is no default for a text column/) });
  });

  it("booleans: MySQL's b'1' becomes true, true becomes 1", () => {
    expect(postgresSchema.renderDefault({ kind: 'number', value: '1' }, flag.pg)).toEqual({ sql: 'true' });
    expect(mysqlSchema.renderDefault({ kind: 'boolean', value: false }, flag.my)).toEqual({ sql: '0' });
    expect(sqliteSchema.renderDefault({ kind: 'string', value: 't' }, flag.lite)).toEqual({ sql: '1' });
  });

  it('literals are quoted for the engine that reads them (MySQL reads backslashes too)', () => {
    const text = column('text', { kind: 'text' });
    expect(postgresSchema.renderDefault({ kind: 'string', value: "a'b\\c" }, text)).toEqual({ sql: "'a''b\\c'" });
    expect(mysqlSchema.renderDefault({ kind: 'string', value: "a'b\\c" }, text)).toEqual({ sql: "'a''b\\\\c'" });
    expect(postgresSchema.renderDefault({ kind: 'string', value: 'abc' }, column('integer', { kind: 'integer', bytes: 4 }))).toEqual({ reason: expect.any(String) });
    expect(sqliteSchema.renderDefault({ kind: 'uuid' }, column('UUID_TEXT', { kind: 'uuid' }))).toEqual({ reason: 'SQLite has no function that makes a UUID' });
  });
});
