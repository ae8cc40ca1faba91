/**
 * PostgreSQL's range hashes (compare before copying) at scale: the hash
 * statement aggregates in memory, whatever the server's work_mem (the planner
 * would sort the whole table, on disk, for want of a group estimate); a level
 * below the first reads only the buckets that differed, through the key's
 * index, not the whole table again; and the statement's planner settings do
 * not outlive it, in a snapshot or not. The answers are those of the plain
 * statement. A delta chunk's few buckets are read through the index too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import type { BucketHash, BucketRequest, BucketSet, Session } from '../../src/main/engine/dialects/dialect.js';
import type { Column } from '../../src/main/engine/types.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import { createPgDatabase, pgExec, type PgTestDatabase } from '../helpers/postgres.js';

const ROWS = 20_000;
const open = (url: string) => postgresDialect.open(parseConnectionUrl(url), { baseDir: '.', role: 'source' });

let db: PgTestDatabase;
let columns: Column[];

async function plain<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    // The reference answers: as much memory as they like.
    await client.query("SET work_mem = '64MB'; SET temp_file_limit = -1");
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The same sums by the plain statement (no planner settings, no index ranges). */
async function expected(width: number, within?: { width: number; ids: number[] }): Promise<Map<string, string>> {
  const filter = within ? ` WHERE (id - 1) / ${within.width} IN (${within.ids.join(', ')})` : '';
  const rows = await plain<{ b: string; n: string; h: string }>(
    `SELECT ((id - 1) / ${width})::text AS b, count(*)::text AS n, sum(hashint8extended(coalesce(hashint8extended(id, 1), -1::int8) # coalesce(hashtextextended(name, 2), -2::int8) # coalesce(hashint4extended(qty, 3), -3::int8), 0))::text AS h FROM items${filter} GROUP BY 1`,
  );
  return new Map(rows.map((r) => [r.b, `${r.n}:${r.h}`]));
}

const asMap = (hs: BucketHash[]) => new Map(hs.map((h) => [h.bucket.toString(), `${h.rows}:${h.hash}`]));

function request(width: number, within?: { width: number; ids: number[] }): BucketRequest {
  return {
    table: { name: 'items' },
    columns,
    orderBy: ['id'],
    batchRows: 1,
    kinds: columns.map(() => 'native'),
    buckets: { lo: 1n, width: BigInt(width), narrow: true, ...(within ? { within: { width: BigInt(within.width), ids: within.ids.map(BigInt) } } : {}) },
  };
}

async function settings(session: Session): Promise<unknown[]> {
  return (await session.query("SELECT current_setting('enable_sort'), current_setting('work_mem'), current_setting('jit')")).rows[0] as unknown[];
}

/** The table's scans so far, once the sessions that scanned it have ended (a backend reports them as it exits). */
async function scans(): Promise<{ seq: number; idx: number }> {
  const r = await plain<{ seq: string; idx: string }>("SELECT seq_scan::text AS seq, coalesce(idx_scan, 0)::text AS idx FROM pg_stat_user_tables WHERE relname = 'items'");
  return { seq: Number(r[0].seq), idx: Number(r[0].idx) };
}

beforeAll(async () => {
  db = await createPgDatabase('dbferry_bucket');
  await pgExec(
    db.url,
    `CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int);
     INSERT INTO items SELECT i, 'item ' || i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 100 END FROM generate_series(1, ${ROWS}) AS i;
     ALTER DATABASE "${db.name}" SET work_mem = '64kB';
     ALTER DATABASE "${db.name}" SET temp_file_limit = '64kB';`,
  );
  await pgExec(db.url, 'VACUUM ANALYZE items');
  const session = await open(db.url);
  try {
    columns = (await session.describeTable({ name: 'items' }))!.columns;
  } finally {
    await session.close();
  }
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

describe('PostgreSQL range hashes', () => {
  it('aggregates the whole table in memory on a server whose work_mem is small (a sort would spill past temp_file_limit)', async () => {
    const session = await open(db.url);
    try {
      const before = await settings(session);
      const got = await session.bucketHashes!(request(64));
      expect(got.length).toBe(Math.ceil(ROWS / 64));
      expect(asMap(got)).toEqual(await expected(64));
      expect(await settings(session)).toEqual(before);
    } finally {
      await session.close();
    }
  });

  it('hashes a level below the first through the key index, only the buckets named, with the same sums', async () => {
    const within = { width: 64, ids: [0, 5, 77, Math.floor((ROWS - 1) / 64)] };
    const start = await scans();
    const session = await open(db.url);
    let got: BucketHash[];
    try {
      got = await session.bucketHashes!(request(2, within));
    } finally {
      await session.close();
    }
    let end = start;
    for (let i = 0; i < 50 && end.idx === start.idx; i++) {
      await new Promise((r) => setTimeout(r, 100));
      end = await scans();
    }
    // Every row of the named buckets, first and last keys included (the last bucket is partial).
    expect(got.reduce((n, h) => n + h.rows, 0)).toBe(3 * 64 + (ROWS - Math.floor((ROWS - 1) / 64) * 64));
    expect(asMap(got)).toEqual(await expected(2, within));
    expect(end.idx).toBeGreaterThan(start.idx);
    expect(end.seq).toBe(start.seq);
  });

  it("sets its planner settings back inside the run's snapshot, and after a failure", async () => {
    const session = await open(db.url);
    try {
      await session.beginSnapshot();
      const before = await settings(session);
      await session.bucketHashes!(request(64));
      await session.bucketHashes!(request(2, { width: 64, ids: [3] }));
      expect(await settings(session)).toEqual(before);
      await expect(session.bucketHashes!({ ...request(64), table: { name: 'no_such_table' } })).rejects.toThrow();
      expect(await settings(session)).toEqual(before);
      // The snapshot is still usable.
      expect((await session.query('SELECT count(*)::int FROM items')).rows[0]).toEqual([ROWS]);
      await session.endSnapshot();
      await expect(session.bucketHashes!({ ...request(64), table: { name: 'no_such_table' } })).rejects.toThrow();
      expect(await settings(session)).toEqual(before);
      expect((await session.query('SELECT 1')).rows[0]).toEqual([1]);
    } finally {
      await session.close();
    }
  });

  it("reads a chunk's few buckets through the key index, and many by their ids, the same rows", async () => {
    let where = '';
    const read = async (set: BucketSet) => {
      const session = await open(db.url);
      const ids: number[] = [];
      try {
        where = session.bucketCondition!('id', set);
        for await (const batch of session.readRows({ table: { name: 'items' }, columns, orderBy: ['id'], where, batchRows: 1000 })) for (const row of batch) ids.push(Number(row[0]));
      } finally {
        await session.close();
      }
      return ids;
    };
    const keysOf = (set: BucketSet) => {
      const out: number[] = [];
      for (let id = 1; id <= ROWS; id++) if (set.levels.some((l) => l.ids.includes(String(Math.floor((id - 1) / Number(l.width)))))) out.push(id);
      return out;
    };
    // Neighbours (merged into one range), a bucket of a finer level, the last, partial bucket.
    const few: BucketSet = { lo: '1', narrow: true, levels: [{ width: '64', ids: ['3', '4', '5', String(Math.floor((ROWS - 1) / 64))] }, { width: '2', ids: ['1000', '5000'] }] };
    const start = await scans();
    const got = await read(few);
    let end = start;
    for (let i = 0; i < 50 && end.idx === start.idx; i++) {
      await new Promise((r) => setTimeout(r, 100));
      end = await scans();
    }
    expect(got).toEqual(keysOf(few));
    expect(end.idx).toBeGreaterThan(start.idx);
    expect(end.seq).toBe(start.seq);
    // More buckets than ranges a condition is written with, of few keys (a delta run's single-key leaves): the keys, looked up.
    const scattered: BucketSet = { lo: '1', narrow: true, levels: [{ width: '1', ids: Array.from({ length: 300 }, (_v, i) => String(i * 61)) }, { width: '2', ids: ['7001', '9001'] }] };
    expect(await read(scattered)).toEqual(keysOf(scattered));
    expect(where).toMatch(/= ANY \('\{1,62,/);
    // Single-key leaves beside wide buckets far past the rows (keys only a target holds): each level in its own
    // form, ORed, through the index: no table scan.
    const mixed: BucketSet = { lo: '1', narrow: true, levels: [{ width: '1', ids: Array.from({ length: 300 }, (_v, i) => String(i * 61)) }, { width: '160', ids: Array.from({ length: 400 }, (_v, i) => String(1000 + i * 3)) }] };
    const before = await scans();
    expect(await read(mixed)).toEqual(keysOf(mixed));
    expect(where).toMatch(/= ANY .* OR \(.* BETWEEN 160001::int8 AND /);
    let after = before;
    for (let i = 0; i < 50 && after.idx === before.idx; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scans();
    }
    expect(after.seq).toBe(before.seq);
    // … of more keys than are listed: by their ids, every row read.
    const many: BucketSet = { lo: '1', narrow: true, levels: [{ width: '40', ids: Array.from({ length: 600 }, (_v, i) => String(i * 7)) }] };
    expect(await read(many)).toEqual(keysOf(many));
    expect(where).not.toMatch(/ANY/);
  });
});
