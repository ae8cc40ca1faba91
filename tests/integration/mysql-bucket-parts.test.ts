/**
 * MariaDB range hashes of a level below the first, when the differing buckets
 * hold more keys than one IN list takes (a 10M-row table's scattered change):
 * a statement per part of the buckets, each read through the key's index,
 * gives the same counts and sums as hashing the rows here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { mysqlDialect, MysqlSession } from '../../src/main/engine/dialects/mysql/index.js';
import { listedParts } from '../../src/main/engine/dialects/mysql/read.js';
import type { BucketRequest, HashKind } from '../../src/main/engine/dialects/dialect.js';
import { bucketHashesInProcess } from '../../src/main/engine/pipeline/rowHash.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';

let db: MysqlTestDatabase;
let session: MysqlSession;

beforeAll(async () => {
  db = await createMysqlDatabase();
  await db.admin.query('CREATE TABLE t (id bigint NOT NULL PRIMARY KEY, name varchar(20) NOT NULL, n int NULL)');
  // 4,000 rows, one every 250 keys: buckets of 50,000 keys hold 200 rows.
  await db.admin.query("INSERT INTO t SELECT seq * 250, CONCAT('r', seq), IF(seq % 9 = 0, NULL, seq) FROM seq_1_to_4000");
  session = (await mysqlDialect.open(parseConnectionUrl(db.url), { baseDir: process.cwd(), role: 'source', statementTimeoutMs: 60_000 })) as MysqlSession;
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
});

describe('MariaDB hashes of many keys below the first level', () => {
  it('splits bucket ids into parts of at most 200,000 keys, in order, covering every id once', () => {
    const ids = [9n, 0n, 3n, 1n, 5n, 2n, 7n, 4n, 6n, 8n, 3n];
    const parts = listedParts(1n, 50_000n, ids);
    expect(parts).toEqual([[0n, 1n, 2n, 3n], [4n, 5n, 6n, 7n], [8n, 9n]]);
    expect(listedParts(1n, 1000n, ids)).toHaveLength(1);
    // A bucket wider than a list alone: one part (each is a key range of its own).
    expect(listedParts(1n, 150_000n, ids)).toHaveLength(1);
  });

  it("reads a chunk's single-key leaves and wide far buckets as one IN list, through the key's index", async () => {
    // Leaves of one key beside buckets of 1,000 keys far past the rows (keys only a target holds).
    const set = { lo: '1', narrow: true, levels: [{ width: '1', ids: Array.from({ length: 200 }, (_v, i) => String(i * 500 + 249)) }, { width: '100', ids: ['20000', '20003', '20010'] }] };
    const where = session.bucketCondition('id', set);
    expect(where).toMatch(/^\(`id` IN \(250, 750, /);
    // A scan of the table or its index reads its first row, then the next ones; lookups of keys do not.
    const status = async () => {
      const [r] = await db.admin.query("SHOW SESSION STATUS WHERE Variable_name IN ('Handler_read_first', 'Handler_read_next')");
      return (r as Array<{ Value: string }>).reduce((n, v) => n + Number(v.Value), 0);
    };
    const before = await status();
    const [rows] = await db.admin.query(`SELECT id FROM t WHERE ${where} ORDER BY id`);
    expect(await status()).toBe(before);
    // Keys 250, 750, … up to 99,750: those of the table's (every 250th up to 1,000,000) at an odd multiple of 250.
    expect((rows as Array<{ id: number }>).map((r) => Number(r.id))).toEqual(Array.from({ length: 200 }, (_v, i) => i * 500 + 250));
  });

  it('gives the counts and sums of hashing the rows here, part by part', async () => {
    const columns = (await session.describeTable({ name: 't' }))!.columns;
    // Normalized kinds (as against another engine), so that the rows hashed here compare.
    const kinds: HashKind[] = columns.map((c) => (c.type.kind === 'integer' ? 'int' : 'text'));
    const req: BucketRequest = {
      table: { name: 't' },
      columns,
      orderBy: ['id'],
      batchRows: 1000,
      kinds,
      buckets: { lo: 1n, width: 1000n, narrow: true, within: { width: 50_000n, ids: [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 15n] } },
    };
    const server = await session.bucketHashes(req);
    const here = await bucketHashesInProcess(session, req);
    const sorted = (l: typeof server) => [...l].sort((a, b) => Number(a.bucket - b.bucket));
    expect(sorted(server)).toEqual(sorted(here));
    // Buckets 0-9 and 15 of 50,000 keys: 11 × 50 buckets of 1,000 keys, 4 rows each.
    expect(server).toHaveLength(550);
    expect(server.reduce((n, b) => n + b.rows, 0)).toBe(2200);
  });
});
