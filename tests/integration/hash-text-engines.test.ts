/**
 * Range hashes across engines (compare before copying): PostgreSQL and
 * MariaDB print each value in the normalized text of its hash kind, '|'
 * between the pieces, bare kinds (digits, dates, hex) as they are and text
 * prefixed with its length, and hash it with SHA-256; rowHash.ts does the same
 * in process (a SQLite side). Equal rows hash alike on all three; each kind of
 * difference, including those the bare printing could hide ('|' inside text,
 * NULL against '-', '' against NULL, a negative sign), makes only its bucket differ.
 * Decimals of one scale on both sides are compared as printed (no trailing zeros stripped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { mysqlDialect } from '../../src/main/engine/dialects/mysql/index.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import type { BucketHash, BucketRequest, Session } from '../../src/main/engine/dialects/dialect.js';
import { bucketHashesInProcess, hashKinds, type HashKind } from '../../src/main/engine/pipeline/rowHash.js';
import type { Column } from '../../src/main/engine/types.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';
import { createPgDatabase, type PgTestDatabase } from '../helpers/postgres.js';

const ROWS = 120;
const WIDTH = 4n;

let pgDb: PgTestDatabase;
let myDb: MysqlTestDatabase;
let pgc: pg.Client;
let pgs: Session;
let mys: Session;
let pgCols: Column[];
let myCols: Column[];
let kinds: HashKind[];

// One row's values, as both servers take them: every bare kind (negative, fractional, empty bytes) and text with '|'.
function rowOf(i: number): unknown[] {
  return [
    i,
    i % 5 === 0 ? -i : i * 1000,
    i % 6 === 0 ? null : (i * 1.25 - 40).toFixed(2),
    `name ${i}|${i % 3}`,
    i % 4 === 0 ? null : i % 4 === 1 ? '' : `n${'é'.repeat(i % 3)}`,
    `2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:${String(i % 60).padStart(2, '0')}${i % 3 === 0 ? '' : i % 2 ? '.5' : '.123456'}`,
    `2023-12-${String((i % 28) + 1).padStart(2, '0')}`,
    i % 7 === 0 ? null : i % 2 === 0,
    i % 9 === 0 ? Buffer.alloc(0) : Buffer.from([i, 255 - i]),
    `c${i % 10}`,
    i % 8 === 0 ? null : (i / 4).toFixed(2),
  ];
}

beforeAll(async () => {
  [pgDb, myDb] = await Promise.all([createPgDatabase(), createMysqlDatabase()]);
  pgc = new pg.Client({ connectionString: pgDb.url });
  await pgc.connect();
  await pgc.query(`CREATE TABLE t (id int PRIMARY KEY, n bigint NOT NULL, amount numeric(12,2), name varchar(40) NOT NULL, note text,
    at timestamp(6) NOT NULL, day date NOT NULL, flag boolean, bin bytea NOT NULL, code char(4) NOT NULL, price numeric(10,2))`);
  const myc = myDb.admin;
  await myc.query(`CREATE TABLE t (id int NOT NULL PRIMARY KEY, n bigint NOT NULL, amount decimal(12,3) NULL, name varchar(40) NOT NULL,
    note text NULL, at datetime(6) NOT NULL, day date NOT NULL, flag tinyint(1) NULL, bin varbinary(8) NOT NULL, code varchar(4) NOT NULL, price decimal(10,2) NULL)
    ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`);
  for (let i = 1; i <= ROWS; i++) {
    const r = rowOf(i);
    await pgc.query('INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', r);
    await myc.query('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', r.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
  }
  const opts = { baseDir: process.cwd(), role: 'source' as const, statementTimeoutMs: 60_000 };
  pgs = await postgresDialect.open(parseConnectionUrl(pgDb.url), opts);
  mys = await mysqlDialect.open(parseConnectionUrl(myDb.url), { ...opts, role: 'target' });
  pgCols = (await pgs.describeTable({ name: 't' }))!.columns;
  myCols = (await mys.describeTable({ name: 't' }))!.columns;
  const k = hashKinds(pgCols, myCols, pgs, mys);
  if (!('kinds' in k)) throw new Error(k.reason);
  kinds = k.kinds;
}, 120_000);

afterAll(async () => {
  await pgs?.close();
  await mys?.close();
  await pgc?.end();
  await Promise.all([pgDb?.drop(), myDb?.drop()]);
});

const request = (columns: Column[]): BucketRequest => ({ table: { name: 't' }, columns, orderBy: ['id'], batchRows: 1000, kinds, buckets: { lo: 1n, width: WIDTH, narrow: true } });
const byBucket = (list: BucketHash[]) => new Map(list.map((b) => [b.bucket, `${b.rows}/${b.hash}`]));

async function differing(): Promise<bigint[]> {
  const [a, b] = await Promise.all([pgs.bucketHashes!(request(pgCols)), mys.bucketHashes!(request(myCols))]);
  const [x, y] = [byBucket(a), byBucket(b)];
  return [...new Set([...x.keys(), ...y.keys()])].filter((id) => x.get(id) !== y.get(id)).sort((p, q) => Number(p - q));
}

describe('range hashes of PostgreSQL and MariaDB', () => {
  it('takes a kind per column that prints bare or with its length, and hashes equal rows alike on both servers and in process', async () => {
    expect(kinds).toEqual(['int', 'int', 'dec', 'text', 'text', 'ts', 'date', 'int', 'bytes', 'textfixed', 'decx']);
    const [a, b, c, d] = await Promise.all([
      pgs.bucketHashes!(request(pgCols)),
      mys.bucketHashes!(request(myCols)),
      bucketHashesInProcess(pgs, request(pgCols)),
      bucketHashesInProcess(mys, request(myCols)),
    ]);
    expect(a.length).toBe(ROWS / Number(WIDTH));
    expect(byBucket(b)).toEqual(byBucket(a));
    expect(byBucket(c)).toEqual(byBucket(a));
    expect(byBucket(d)).toEqual(byBucket(a));
  });

  const changes: Array<[string, number, string]> = [
    ["a '|' moved between two text columns", 10, "UPDATE t SET name = 'name 10', note = '1|né' WHERE id = 10"],
    ["'-' where there was NULL", 12, "UPDATE t SET note = '-' WHERE id = 12"],
    ["'' where there was NULL", 16, "UPDATE t SET note = '' WHERE id = 16"],
    ['NULL where there was a value', 19, 'UPDATE t SET amount = NULL WHERE id = 19'],
    ['a sign', 25, 'UPDATE t SET n = 25 WHERE id = 25'],
    ["a decimal's last digit", 33, 'UPDATE t SET amount = amount + 0.01 WHERE id = 33'],
    ["a timestamp's fraction, by a microsecond", 41, "UPDATE t SET at = at + INTERVAL '1 microsecond' WHERE id = 41"],
    ['a case-only change', 50, "UPDATE t SET name = 'NAME 50|2' WHERE id = 50"],
    ['empty bytes where there were two', 55, "UPDATE t SET bin = '\\x' WHERE id = 55"],
    ['a boolean', 62, 'UPDATE t SET flag = NOT flag WHERE id = 62'],
    ["a decimal of one scale on both sides, by a cent", 86, 'UPDATE t SET price = price + 0.01 WHERE id = 86'],
    ['a deleted key', 77, 'DELETE FROM t WHERE id = 77'],
  ];
  it.each(changes)('finds %s in its bucket alone (the PostgreSQL side changed)', async (_what, id, sql) => {
    await pgc.query(sql);
    try {
      expect(await differing()).toEqual([BigInt(id - 1) / WIDTH]);
    } finally {
      await pgc.query('DELETE FROM t WHERE id = $1', [id]);
      await pgc.query('INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', rowOf(id));
    }
    expect(await differing()).toEqual([]);
  });

  it("finds a decimal's trailing zero only where the target keeps a scale: MariaDB's decimal(12,3) stores 1.5 as 1.500", async () => {
    // amount is numeric(12,2) → decimal(12,3): 'dec', compared without trailing zeros; 2.50 = 2.500.
    await myDb.admin.query('UPDATE t SET amount = amount + 0.001 WHERE id = 3');
    try {
      expect(await differing()).toEqual([0n]);
    } finally {
      await myDb.admin.query('UPDATE t SET amount = amount - 0.001 WHERE id = 3');
    }
    expect(await differing()).toEqual([]);
  });
});
