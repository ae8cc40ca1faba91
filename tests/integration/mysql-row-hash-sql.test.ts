/**
 * MariaDB's bucket hashes in the cheaper SQL (read.ts bucketHashes): a signed
 * integer key subtracted without CAST, one SELECT grouped by the bucket's
 * expression, CONCAT_WS joining a NOT NULL column's length and text, and
 * IF(MICROSECOND(x), ...) for fractional DATETIMEs give what rowHash.ts gives
 * in process, bucket by bucket: negative keys, keys near ±2^62, unsigned keys
 * (narrow and not), NOT NULL and nullable text, fractions and none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { mysqlDialect, MysqlSession } from '../../src/main/engine/dialects/mysql/index.js';
import type { BucketHash, BucketRequest, HashKind } from '../../src/main/engine/dialects/dialect.js';
import { bucketHashesInProcess } from '../../src/main/engine/pipeline/rowHash.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';

let db: MysqlTestDatabase;
let session: MysqlSession;

const ROWS = 120;
const BIG = 2n ** 62n - 1n;

/** Columns after the key: NOT NULL and nullable text, a fixed char, bytes, fractional DATETIMEs, a decimal. */
const body = `name varchar(40) NOT NULL, note text NULL, code char(6) NOT NULL, bin varbinary(8) NOT NULL,
  at datetime(6) NOT NULL, at2 datetime(3) NULL, amount decimal(12,2) NOT NULL`;
const KINDS: HashKind[] = ['int', 'text', 'text', 'textfixed', 'bytes', 'ts', 'ts', 'decx'];
const values = (key: string) => `SELECT ${key}, CONCAT('Größe|', seq), IF(seq % 4 = 0, NULL, IF(seq % 5 = 0, '', CONCAT('n:', seq))),
  LPAD(seq % 1000, 4, 'x'), UNHEX(LPAD(HEX(seq), 4, '0')),
  TIMESTAMP'2024-01-01 00:00:00' + INTERVAL (seq * 37) SECOND + INTERVAL IF(seq % 3 = 0, 0, seq * 1001) MICROSECOND,
  IF(seq % 6 = 0, NULL, TIMESTAMP'2024-02-01 00:00:00' + INTERVAL (seq % 4) * 250000 MICROSECOND), seq - 60.5 FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_${ROWS}) AS s`;

beforeAll(async () => {
  db = await createMysqlDatabase('dbferry_myhash');
  // Signed keys around 0 and at both ends of the narrow range; a signed INT key; unsigned keys narrow and wide.
  await db.admin.query(`CREATE TABLE s64 (id bigint NOT NULL PRIMARY KEY, ${body})`);
  await db.admin.query(`INSERT INTO s64 ${values('seq - 60')}`);
  await db.admin.query(`CREATE TABLE s64x (id bigint NOT NULL PRIMARY KEY, ${body})`);
  await db.admin.query(`INSERT INTO s64x ${values('seq - 60')}`);
  await db.admin.query(`INSERT INTO s64x ${values(`IF(seq % 2 = 0, -${BIG} + seq, ${BIG} - seq)`)} LIMIT 20`);
  await db.admin.query(`CREATE TABLE s32 (id int NOT NULL PRIMARY KEY, ${body})`);
  await db.admin.query(`INSERT INTO s32 ${values('seq * 1000 - 70000')}`);
  await db.admin.query(`CREATE TABLE u64 (id bigint unsigned NOT NULL PRIMARY KEY, ${body})`);
  await db.admin.query(`INSERT INTO u64 ${values('seq * 3')}`);
  await db.admin.query(`CREATE TABLE u64wide (id bigint unsigned NOT NULL PRIMARY KEY, ${body})`);
  await db.admin.query(`INSERT INTO u64wide ${values('18446744073709551615 - seq * 7')}`);
  session = (await mysqlDialect.open(parseConnectionUrl(db.url), { baseDir: process.cwd(), role: 'source', statementTimeoutMs: 60_000 })) as MysqlSession;
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
});

const sorted = (list: BucketHash[]) => [...list].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));

async function agree(name: string, buckets: BucketRequest['buckets']): Promise<BucketHash[]> {
  const columns = (await session.describeTable({ name }))!.columns;
  const req: BucketRequest = { table: { name }, columns, orderBy: ['id'], batchRows: 1000, kinds: KINDS, buckets };
  const server = await session.bucketHashes(req);
  const here = await bucketHashesInProcess(session, req);
  expect(sorted(server)).toEqual(sorted(here));
  return server;
}

describe('MariaDB bucket hashes of the normalized text', () => {
  it('puts negative and large signed BIGINT keys in the buckets rowHash.ts does', async () => {
    const all = await agree('s64x', { lo: -BIG + 2n, width: 2n ** 40n, narrow: true });
    expect(all.reduce((n, b) => n + b.rows, 0)).toBe(ROWS + 20);
    // Around zero, 7 keys a bucket: lo not a multiple of the width.
    const near = await agree('s64', { lo: -59n, width: 7n, narrow: true });
    expect(near.length).toBeGreaterThan(ROWS / 7);
    // A level below: some buckets' keys only.
    const within = await agree('s64', { lo: -59n, width: 1n, narrow: true, within: { width: 7n, ids: [0n, 3n, 8n, 17n] } });
    expect(within.reduce((n, b) => n + b.rows, 0)).toBe(22);
  });

  it('puts signed INT keys, unsigned keys and keys beyond 2^62 in the buckets rowHash.ts does', async () => {
    await agree('s32', { lo: -69000n, width: 5000n, narrow: true });
    await agree('u64', { lo: 3n, width: 10n, narrow: true });
    const wide = await agree('u64wide', { lo: 18446744073709551615n - 7n * 120n, width: 64n, narrow: false });
    expect(wide.reduce((n, b) => n + b.rows, 0)).toBe(ROWS);
  });

  it('hashes NOT NULL and nullable text, fractional and whole DATETIMEs alike on the server and in process, one row a bucket', async () => {
    const rows = await agree('s32', { lo: -69000n, width: 1000n, narrow: true });
    expect(rows.length).toBe(ROWS);
    expect(rows.every((b) => b.rows === 1)).toBe(true);
  });
});
