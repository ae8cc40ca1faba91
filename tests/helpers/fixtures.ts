/**
 * The nasty-values fixture, created natively in each engine with that
 * engine's own types: one table of trap values ("Order Items": a space and
 * mixed case, with a column "User"), one table of values some targets cannot
 * hold at all (`odd`: each such row must be dead-lettered, never changed), and
 * a plain keyed table of a few thousand deterministic rows (`select`, a
 * reserved word, with columns "User" and "order").
 *
 * Every column carries the `kind` its values are compared as (see compare.ts);
 * values are written as SQL literals of that engine, one per row.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import Database from 'better-sqlite3';

export type Engine = 'postgres' | 'mysql' | 'sqlite';
export const ENGINES: Engine[] = ['postgres', 'mysql', 'sqlite'];

export type Kind = 'char' | 'int' | 'decimal' | 'float4' | 'float8' | 'bool' | 'text' | 'bytes' | 'date' | 'time' | 'ts' | 'tstz' | 'json' | 'uuid' | 'any';

export interface FixtureColumn {
  name: string;
  /** The native type, as the engine's DDL spells it. */
  type: string;
  kind: Kind;
  /** One SQL literal per row (row i has id i + 1). */
  values: string[];
}

export interface FixtureTable {
  name: string;
  key: string;
  columns: FixtureColumn[];
}

export const NASTY = 'Order Items';
export const ODD = 'odd';
export const KEYED = 'select';
export const KEYED_ROWS = 3000;

export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
export const NASTY_TEXT = 'tab\there\nnew line\r\ncrlf back\\slash \\N \\x41 \'single\' "double" `tick` 😀🦄 ünïcödé \u0001 end\\';
export const EMOJI = '😀🦄🎉 four';
export const JSON_TEXT = '{"b": 1, "a": [1, 2, {"z": null}], "big": 12345678901234567890, "s": "😀\\n\\u0000"}';
export const UUID = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11';

// -- literals ---------------------------------------------------------------------

const pgStr = (s: string) => pg.escapeLiteral(s);
const myStr = (s: string) => mysql.escape(s);
const liteStr = (s: string) => `'${s.replaceAll("'", "''")}'`;
const hexLit = (b: Buffer) => `X'${b.toString('hex')}'`;
const N = 'NULL';

function table(name: string, key: string, columns: FixtureColumn[]): FixtureTable {
  return { name, key, columns };
}

const id: Record<Engine, FixtureColumn> = {
  postgres: { name: 'id', type: 'integer PRIMARY KEY', kind: 'int', values: ['1', '2', '3', '4'] },
  mysql: { name: 'id', type: 'INT PRIMARY KEY', kind: 'int', values: ['1', '2', '3', '4'] },
  sqlite: { name: 'id', type: 'INTEGER PRIMARY KEY', kind: 'int', values: ['1', '2', '3', '4'] },
};

// -- PostgreSQL -------------------------------------------------------------------

const PG_NASTY = table(NASTY, 'id', [
  id.postgres,
  { name: 'User', type: 'text', kind: 'text', values: [pgStr('Ada'), pgStr('select'), "''", N] },
  { name: 'i2', type: 'smallint', kind: 'int', values: ['-32768', '32767', '0', N] },
  { name: 'i4', type: 'integer', kind: 'int', values: ['-2147483648', '2147483647', '0', N] },
  { name: 'i8', type: 'bigint', kind: 'int', values: ['-9223372036854775808', '9223372036854775807', '9007199254740993', N] },
  { name: 'num', type: 'numeric(38,10)', kind: 'decimal', values: ['-1234567890123456789012345678.0123456789', '9999999999999999999999999999.9999999999', '0.0000000001', N] },
  { name: 'num_free', type: 'numeric', kind: 'decimal', values: ['123456789012345678901234567890.123456789012345678901234567890123', '-0.5', '0', N] },
  { name: 'f4', type: 'real', kind: 'float4', values: ["'3.4028235e38'", "'1.1754944e-38'", "'16777215'", N] },
  { name: 'f8', type: 'double precision', kind: 'float8', values: ["'1.7976931348623157e308'", "'5e-324'", "'0.30000000000000004'", N] },
  { name: 'b', type: 'boolean', kind: 'bool', values: ['true', 'false', 'true', N] },
  { name: 'vc', type: 'varchar(10)', kind: 'text', values: [pgStr(EMOJI), pgStr('t\tn\n\\'), "''", N] },
  { name: 'ch', type: 'character(3)', kind: 'char', values: [pgStr('ab'), pgStr('xyz'), "''", N] },
  { name: 't', type: 'text', kind: 'text', values: [pgStr(NASTY_TEXT), pgStr('\\\\'), "''", N] },
  { name: 'by', type: 'bytea', kind: 'bytes', values: [`'\\x${ALL_BYTES.toString('hex')}'`, "'\\x00'", "'\\x'", N] },
  { name: 'd', type: 'date', kind: 'date', values: ["'1000-01-01'", "'9999-12-31'", "'2024-02-29'", N] },
  { name: 'tm', type: 'time(6)', kind: 'time', values: ["'00:00:00'", "'23:59:59.999999'", "'12:34:56.5'", N] },
  { name: 'ts', type: 'timestamp(6)', kind: 'ts', values: ["'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'2024-02-29 12:00:00.5'", N] },
  { name: 'tstz', type: 'timestamptz', kind: 'tstz', values: ["'2024-03-10 12:34:56.789+05:30'", "'1970-01-01 00:00:00+00'", "'2038-01-19 03:14:08.123456-08'", N] },
  { name: 'js', type: 'json', kind: 'json', values: [pgStr(JSON_TEXT), "'[]'", `'""'`, N] },
  { name: 'jb', type: 'jsonb', kind: 'json', values: [pgStr(JSON_TEXT.replace('\\u0000', '')), "'[]'", `'""'`, N] },
  { name: 'u', type: 'uuid', kind: 'uuid', values: [pgStr(UUID), "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", N] },
  { name: 'e', type: '"Mood"', kind: 'text', values: ["'sad'", pgStr('happy 😀'), "'ok'", N] },
]);

/** Values PostgreSQL holds that another engine cannot: each must be dead-lettered there. */
const PG_ODD = table(ODD, 'id', [
  { name: 'id', type: 'integer PRIMARY KEY', kind: 'int', values: ['1', '2', '3'] },
  { name: 'f8', type: 'double precision', kind: 'float8', values: ["'NaN'", "'Infinity'", '1.5'] },
  { name: 'd', type: 'date', kind: 'date', values: ["'2024-01-01'", "'2024-01-01'", "'infinity'"] },
]);

// -- MySQL / MariaDB -----------------------------------------------------------------

const MY_NASTY = table(NASTY, 'id', [
  id.mysql,
  { name: 'User', type: 'VARCHAR(50)', kind: 'text', values: [myStr('Ada'), myStr('select'), "''", N] },
  { name: 'ti', type: 'TINYINT', kind: 'int', values: ['-128', '127', '0', N] },
  { name: 'tu', type: 'TINYINT UNSIGNED', kind: 'int', values: ['0', '255', '1', N] },
  { name: 'su', type: 'SMALLINT UNSIGNED', kind: 'int', values: ['0', '65535', '1', N] },
  { name: 'mi', type: 'MEDIUMINT', kind: 'int', values: ['-8388608', '8388607', '0', N] },
  { name: 'mu', type: 'MEDIUMINT UNSIGNED', kind: 'int', values: ['0', '16777215', '1', N] },
  { name: 'iu', type: 'INT UNSIGNED', kind: 'int', values: ['0', '4294967295', '1', N] },
  { name: 'bi', type: 'BIGINT', kind: 'int', values: ['-9223372036854775808', '9223372036854775807', '9007199254740993', N] },
  { name: 'bu', type: 'BIGINT UNSIGNED', kind: 'int', values: ['0', '18446744073709551615', '9223372036854775808', N] },
  { name: 't1', type: 'TINYINT(1)', kind: 'int', values: ['0', '1', '5', N] },
  { name: 'bo', type: 'BOOLEAN', kind: 'int', values: ['1', '0', '-1', N] },
  { name: 'bit1', type: 'BIT(1)', kind: 'bool', values: ["b'0'", "b'1'", "b'1'", N] },
  { name: 'dec', type: 'DECIMAL(65,30)', kind: 'decimal', values: ['12345678901234567890123456789012345.123456789012345678901234567890', '-0.000000000000000000000000000001', '0', N] },
  { name: 'd2', type: 'DECIMAL(12,2)', kind: 'decimal', values: ['-9999999999.99', '9999999999.99', '0.10', N] },
  { name: 'f', type: 'FLOAT', kind: 'float4', values: ['3.4028234e38', '16777215', '0.1', N] },
  { name: 'dbl', type: 'DOUBLE', kind: 'float8', values: ['1.7976931348623157e308', '5e-324', '0.30000000000000004', N] },
  { name: 'vc', type: 'VARCHAR(10)', kind: 'text', values: [myStr(EMOJI), myStr('t\tn\n\\'), "''", N] },
  { name: 'ch', type: 'CHAR(3)', kind: 'char', values: [myStr('ab'), myStr('xyz'), "''", N] },
  { name: 'txt', type: 'TEXT', kind: 'text', values: [myStr(NASTY_TEXT), myStr('\\\\'), "''", N] },
  { name: 'vb', type: 'VARBINARY(300)', kind: 'bytes', values: [hexLit(ALL_BYTES), "X'00'", "X''", N] },
  { name: 'bl', type: 'BLOB', kind: 'bytes', values: [hexLit(ALL_BYTES), "X'5c4e'", "X''", N] },
  { name: 'd', type: 'DATE', kind: 'date', values: ["'1000-01-01'", "'9999-12-31'", "'2024-02-29'", N] },
  { name: 'dt', type: 'DATETIME(6)', kind: 'ts', values: ["'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'2024-02-29 12:00:00.5'", N] },
  { name: 'ts', type: 'TIMESTAMP(6) NULL', kind: 'tstz', values: ["'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999999'", "'2024-02-29 12:00:00.5'", N] },
  { name: 'tm', type: 'TIME(6)', kind: 'time', values: ["'00:00:00'", "'23:59:59.999999'", "'12:34:56.5'", N] },
  { name: 'yr', type: 'YEAR', kind: 'int', values: ['1901', '2155', '2024', N] },
  { name: 'js', type: 'JSON', kind: 'json', values: [myStr(JSON_TEXT), "'[]'", `'""'`, N] },
  { name: 'u', type: 'UUID', kind: 'uuid', values: [myStr(UUID), "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", N] },
  { name: 'e', type: "ENUM('sad','ok','happy 😀')", kind: 'text', values: ["'sad'", myStr('happy 😀'), "'ok'", N] },
  { name: 'st', type: "SET('x','y z')", kind: 'text', values: ["'x'", "'x,y z'", "''", N] },
]);

const MY_ODD = table(ODD, 'id', [
  { name: 'id', type: 'INT PRIMARY KEY', kind: 'int', values: ['1', '2', '3', '4'] },
  { name: 'd', type: 'DATE', kind: 'date', values: ["'0000-00-00'", "'2024-01-01'", "'2024-01-01'", "'2024-01-01'"] },
  { name: 'dt', type: 'DATETIME', kind: 'ts', values: ["'2024-01-01 00:00:00'", "'0000-00-00 00:00:00'", "'2024-01-01 00:00:00'", "'2024-01-01 00:00:00'"] },
  { name: 'tm', type: 'TIME', kind: 'time', values: ["'00:00:00'", "'00:00:00'", "'838:59:59'", "'00:00:00'"] },
]);

// -- SQLite ------------------------------------------------------------------------

const LITE_NASTY = table(NASTY, 'id', [
  id.sqlite,
  { name: 'User', type: 'TEXT', kind: 'text', values: [liteStr('Ada'), liteStr('select'), "''", N] },
  { name: 'i', type: 'INTEGER', kind: 'int', values: ['-9223372036854775808', '9223372036854775807', '9007199254740993', N] },
  { name: 'r', type: 'REAL', kind: 'float8', values: ['1.7976931348623157e308', '4.9406564584124654e-324', '0.30000000000000004', N] },
  { name: 'n', type: 'NUMERIC(10,2)', kind: 'decimal', values: ["'12.50'", "'-99999999.99'", "'0.01'", N] },
  { name: 'b', type: 'BOOLEAN', kind: 'bool', values: ['1', '0', '1', N] },
  { name: 'vc', type: 'VARCHAR(10)', kind: 'text', values: [liteStr(EMOJI), liteStr('t\tn\n\\'), "''", N] },
  { name: 't', type: 'TEXT', kind: 'text', values: [liteStr(NASTY_TEXT), liteStr('\\\\'), "''", N] },
  { name: 'tnum', type: 'TEXT', kind: 'text', values: ["'007'", "'1e3'", '42', N] },
  { name: 'bl', type: 'BLOB', kind: 'bytes', values: [hexLit(ALL_BYTES), "X'00'", "X''", N] },
  { name: 'd', type: 'DATE', kind: 'date', values: ["'1000-01-01'", "'9999-12-31'", "'2024-02-29'", N] },
  { name: 'dt', type: 'DATETIME', kind: 'ts', values: ["'1000-01-01 00:00:00'", "'9999-12-31 23:59:59.999999'", "'2024-02-29 12:00:00.5'", N] },
  { name: 'js', type: 'JSON', kind: 'json', values: [liteStr(JSON_TEXT), "'[]'", `'""'`, N] },
  { name: 'dyn', type: '', kind: 'any', values: ['42', "'forty-two'", '1.5', N] },
]);

/** SQLite's dynamic typing: values no typed engine can hold in the declared type. */
const LITE_ODD = table(ODD, 'id', [
  { name: 'id', type: 'INTEGER PRIMARY KEY', kind: 'int', values: ['1', '2', '3', '4'] },
  { name: 'i', type: 'INTEGER', kind: 'int', values: ["'abc'", '1', '1', '1'] },
  { name: 'r', type: 'REAL', kind: 'float8', values: ['1.5', "'x'", '1.5', '1.5'] },
  { name: 'd', type: 'DATE', kind: 'date', values: ["'2024-01-01'", "'2024-01-01'", "'not a date'", "'2024-01-01'"] },
  { name: 't', type: 'TEXT', kind: 'text', values: ["'ok'", "'ok'", "'ok'", "'nul' || char(0) || 'byte'"] },
]);

export const FIXTURES: Record<Engine, { nasty: FixtureTable; odd: FixtureTable }> = {
  postgres: { nasty: PG_NASTY, odd: PG_ODD },
  mysql: { nasty: MY_NASTY, odd: MY_ODD },
  sqlite: { nasty: LITE_NASTY, odd: LITE_ODD },
};

// -- the keyed table -----------------------------------------------------------------

export const KEYED_COLUMNS: { name: string; kind: Kind; types: Record<Engine, string> }[] = [
  { name: 'id', kind: 'int', types: { postgres: 'bigint PRIMARY KEY', mysql: 'BIGINT PRIMARY KEY', sqlite: 'INTEGER PRIMARY KEY' } },
  { name: 'User', kind: 'text', types: { postgres: 'varchar(64)', mysql: 'VARCHAR(64)', sqlite: 'VARCHAR(64)' } },
  { name: 'order', kind: 'int', types: { postgres: 'integer', mysql: 'INT', sqlite: 'INTEGER' } },
  { name: 'amount', kind: 'decimal', types: { postgres: 'numeric(12,2)', mysql: 'DECIMAL(12,2)', sqlite: 'DECIMAL(12,2)' } },
  { name: 'note', kind: 'text', types: { postgres: 'text', mysql: 'TEXT', sqlite: 'TEXT' } },
  { name: 'created', kind: 'ts', types: { postgres: 'timestamp', mysql: 'DATETIME', sqlite: 'DATETIME' } },
];

const NAMES = ['Ada', 'Zoë', 'Łukasz', 'Øyvind', '李雷', 'O\'Brien', 'Ωmega', 'Émile'];

/** Row i (1-based) of the keyed table: deterministic, ~10% NULL notes, some non-ASCII. */
export function keyedRow(i: number): (string | number | null)[] {
  const user = `${NAMES[i % NAMES.length]} ${i}`;
  const amount = `${(i * 7919) % 100000}.${String((i * 31) % 100).padStart(2, '0')}`;
  const note = i % 10 === 0 ? null : i % 7 === 0 ? `nötë ${i} 😀` : `note ${i}`;
  const day = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000 * 7 + (i % 60) * 1000);
  const created = day.toISOString().replace('T', ' ').slice(0, 19);
  return [i, user, i % 97, amount, note, created];
}

// -- creating the fixture natively ------------------------------------------------------

export interface NativeTarget {
  engine: Engine;
  /** postgres:// or mysql:// URL, or an absolute SQLite file path. */
  url: string;
}

function quoteFor(engine: Engine): (n: string) => string {
  return engine === 'mysql' ? (n) => `\`${n.replaceAll('`', '``')}\`` : (n) => `"${n.replaceAll('"', '""')}"`;
}

function createSql(engine: Engine, t: FixtureTable): string[] {
  const q = quoteFor(engine);
  const cols = t.columns.map((c) => `${q(c.name)}${c.type ? ` ${c.type}` : ''}`).join(', ');
  const tail = engine === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  const rows = t.columns[0].values.map((_, r) => `(${t.columns.map((c) => c.values[r]).join(', ')})`);
  return [`CREATE TABLE ${q(t.name)} (${cols})${tail}`, `INSERT INTO ${q(t.name)} (${t.columns.map((c) => q(c.name)).join(', ')}) VALUES ${rows.join(', ')}`];
}

function keyedSql(engine: Engine, rows = KEYED_ROWS): string[] {
  const q = quoteFor(engine);
  const lit = engine === 'postgres' ? pgStr : engine === 'mysql' ? myStr : liteStr;
  const tail = engine === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  const out = [`CREATE TABLE ${q(KEYED)} (${KEYED_COLUMNS.map((c) => `${q(c.name)} ${c.types[engine]}`).join(', ')})${tail}`];
  const head = `INSERT INTO ${q(KEYED)} (${KEYED_COLUMNS.map((c) => q(c.name)).join(', ')}) VALUES `;
  for (let start = 1; start <= rows; start += 500) {
    const values: string[] = [];
    for (let i = start; i < start + 500 && i <= rows; i++) {
      values.push(`(${keyedRow(i).map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : lit(v))).join(', ')})`);
    }
    out.push(head + values.join(', '));
  }
  return out;
}

/** Every statement that creates the fixture in `engine`, in order. */
export function fixtureSql(engine: Engine): string[] {
  const pre = engine === 'postgres' ? [`CREATE TYPE "Mood" AS ENUM ('sad', 'ok', 'happy 😀')`] : [];
  return [...pre, ...createSql(engine, FIXTURES[engine].nasty), ...createSql(engine, FIXTURES[engine].odd), ...keyedSql(engine)];
}

/** Run statements natively: pg, mysql2 or better-sqlite3, never dbferry. */
export async function execNative(db: NativeTarget, statements: string[]): Promise<void> {
  if (db.engine === 'sqlite') {
    const lite = new Database(db.url);
    try {
      for (const s of statements) lite.exec(s);
    } finally {
      lite.close();
    }
  } else if (db.engine === 'postgres') {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("SET TimeZone = 'UTC'");
      for (const s of statements) await client.query(s);
    } finally {
      await client.end();
    }
  } else {
    const conn = await mysql.createConnection({ uri: db.url, charset: 'UTF8MB4_UNICODE_CI' });
    try {
      await conn.query("SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'");
      for (const s of statements) await conn.query(s);
    } finally {
      await conn.end();
    }
  }
}

export async function loadFixture(db: NativeTarget): Promise<void> {
  await execNative(db, fixtureSql(db.engine));
}

export { quoteFor };
