/**
 * MariaDB's 'tsv' pass-through read (mysql/read.ts, readTsv) writes each row
 * straight from its packet: every length prefix (1, 3 and 4 bytes), NULL, the
 * empty string, the bytes 'tsv' escapes, non-ASCII text, and pieces of 256 KB
 * handed out across rows, must come out as the server's values escaped.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { mysqlDialect } from '../../src/main/engine/dialects/mysql/index.js';
import type { Session } from '../../src/main/engine/dialects/dialect.js';
import { TSV } from '../../src/main/engine/dialects/tsv.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';

let db: MysqlTestDatabase;
let session: Session;

const LONG = 'x'.repeat(300); // a 3-byte length prefix (0xfc)
const LONGER = 'ü'.repeat(40_000); // 80,000 bytes: a 4-byte one (0xfd)
const NASTY = 'tab\there\nline\r\nback\\slash \\N 😀 \u0000 end';
const ROWS: [number, string | null, number | null][] = [
  [1, NASTY, -7],
  [2, '', null],
  [3, null, 0],
  [4, LONG, 2147483647],
  [5, LONGER, 1],
  ...Array.from({ length: 3000 }, (_, i): [number, string | null, number | null] => [10 + i, `row ${i} ${'y'.repeat(i % 400)}`, i]),
];

const escape = (v: string | number | null) => (v === null ? '\\N' : String(v).replace(/[\\\t\n\r\0]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' })[c]!));

beforeAll(async () => {
  db = await createMysqlDatabase();
  await db.admin.query('CREATE TABLE t (id int NOT NULL PRIMARY KEY, txt mediumtext NULL, n int NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin');
  for (let i = 0; i < ROWS.length; i += 500) await db.admin.query('INSERT INTO t VALUES ?', [ROWS.slice(i, i + 500)]);
  session = await mysqlDialect.open(parseConnectionUrl(db.url), { baseDir: process.cwd(), role: 'source', statementTimeoutMs: 60_000 });
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
});

async function readTsv(trailing?: { batch: number; rowBase: number }): Promise<{ text: string; pieces: number }> {
  const columns = (await session.describeTable({ name: 't' }))!.columns;
  const parts: Buffer[] = [];
  for await (const piece of session.readRaw!({ table: { name: 't' }, columns, orderBy: ['id'], batchRows: 1 }, trailing, TSV)) parts.push(Buffer.from(piece));
  return { text: Buffer.concat(parts).toString('utf8'), pieces: parts.length };
}

it('writes every value of every row from its packet, escaped, NULL as \\N', async () => {
  const { text, pieces } = await readTsv();
  expect(text).toBe(ROWS.map((r) => `${r.map(escape).join('\t')}\n`).join(''));
  // Over a megabyte: handed out in pieces, not held whole.
  expect(pieces).toBeGreaterThan(2);
});

it('closes each row with dbferry counters when asked', async () => {
  const { text } = await readTsv({ batch: 7, rowBase: 100 });
  expect(text).toBe(ROWS.map((r, i) => `${r.map(escape).join('\t')}\t7\t${101 + i}\n`).join(''));
});

it('leaves the connection usable for the next query, after a read stopped early too', async () => {
  const columns = (await session.describeTable({ name: 't' }))!.columns;
  for await (const piece of session.readRaw!({ table: { name: 't' }, columns, orderBy: ['id'], batchRows: 1 }, undefined, TSV)) {
    expect(piece.byteLength).toBeGreaterThan(0);
    break;
  }
  expect(await session.countRows({ name: 't' })).toBe(ROWS.length);
});
