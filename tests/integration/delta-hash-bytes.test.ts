/**
 * Over a remote link a delta re-sync's cost is mostly the range hashes the
 * servers send back (issue 16, the remote profile): a scattered change of
 * 0.6% of the rows, PostgreSQL → PostgreSQL, through a proxy that counts each
 * side's bytes. The run stages exactly the changed source rows and ends with
 * the exact target, and each server's answers stay within a few bytes per
 * row of the table: a bucket of 32 keys that differs is narrowed through
 * buckets of 4 keys (8 of them, then the keys of those that differ) instead
 * of all 32 keys at once, and a level's buckets come as a few rows of text
 * rather than a row of three columns each.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import type { BucketHash, BucketRequest } from '../../src/main/engine/dialects/dialect.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';
import { countingProxy, through } from '../helpers/countingProxy.js';

// The default leaf size, whatever another file of this worker set.
delete process.env.DBFERRY_COMPARE_ROWS;

const ROWS = 20_000;
/** One key in STEP updated, one gone, one new: 40 each, each update and deletion in a bucket of its own at the first level. */
const STEP = 500;

describe('bytes of a delta mirror PostgreSQL → PostgreSQL', () => {
  const dir = tempDir('dbferry-test-remote2-');
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  let sourceLink: Awaited<ReturnType<typeof countingProxy>>;
  let targetLink: Awaited<ReturnType<typeof countingProxy>>;
  const rows = (db: TestDb) => db.rows('SELECT id, name, qty, price, note FROM items ORDER BY id');

  beforeAll(async () => {
    [source, target] = await Promise.all([createTestDb('postgres', dir), createTestDb('postgres', dir)]);
    await source.exec(
      `CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int, price numeric(12,2) NOT NULL, note text);
       INSERT INTO items SELECT g, 'item ' || g, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 100 END, g / 8.0, CASE WHEN g % 3 = 0 THEN 'note ' || g END FROM generate_series(1, ${ROWS}) AS g;
       ANALYZE items`,
    );
    [sourceLink, targetLink] = await Promise.all([countingProxy(Number(new URL(source.url).port || 5432)), countingProxy(Number(new URL(target.url).port || 5432))]);
  }, 120_000);

  afterAll(async () => {
    await sourceLink?.close();
    await targetLink?.close();
    await source?.drop();
    await target?.drop();
  });

  it('stages exactly the changed rows, ends with the exact target, and each server sends a few bytes per row', async () => {
    const job = (name: string, link: boolean, mode: string, options: Record<string, unknown>) =>
      writeJob(
        dir,
        {
          name,
          source: { url: link ? through(source.url, sourceLink.port) : source.url },
          target: { url: link ? through(target.url, targetLink.port) : target.url },
          tables: [{ source: 'items', mode }],
          options,
        },
        `${name}.json`,
      );
    const first = await dbferry(['run', job('first', false, 'replace', { verify: 'none' }), '--json', '--state', state]);
    expect(first.code, first.stderr).toBe(0);
    await target.exec(
      `UPDATE items SET qty = coalesce(qty, 0) + 1 WHERE id % ${STEP} = 1;
       DELETE FROM items WHERE id % ${STEP} = 2;
       INSERT INTO items SELECT id + ${ROWS * 10}, name, qty, price, note FROM items WHERE id % ${STEP} = 3`,
    );
    const changed = ROWS / STEP;
    sourceLink.reset();
    targetLink.reset();

    const r = await dbferry(['run', job('delta', true, 'mirror', { compare: 'always', verify: 'none' }), '--json', '--state', state], { env: { ...process.env, DBFERRY_COMPARE_ROWS: '', DBFERRY_ROW_VERSIONS: '0' } });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const summary = r.events.at(-1) as unknown as { rowsRead: number; tables: Array<{ applied: Record<string, number>; path: string }> };
    const t = summary.tables[0];
    expect(t.path).toMatch(/^delta: range hashes/);
    expect(t.applied).toMatchObject({ inserted: changed, updated: changed, deleted: changed, unchanged: ROWS - 2 * changed });
    // Staged: the source rows of the updated and of the deleted keys, no other.
    expect(summary.rowsRead, t.path).toBe(2 * changed);
    expect(await rows(target)).toEqual(await rows(source));

    // What each server sent: its session's start and catalog reads, and the range hashes (the source: and 80 rows).
    // Before (single keys under each differing bucket of 32, a row per bucket): 4.7 and 4.4 bytes per row; now about 2.
    const perRow = { source: sourceLink.down() / ROWS, target: targetLink.down() / ROWS };
    expect(perRow.source, JSON.stringify(perRow)).toBeLessThan(3);
    expect(perRow.target, JSON.stringify(perRow)).toBeLessThan(3);
  });
});

describe('PostgreSQL range hashes as lists of text', () => {
  const dir = tempDir('dbferry-test-remote2-');
  let db: TestDb;

  beforeAll(async () => {
    db = await createTestDb('postgres', dir);
    // Keys far apart (ids of many hex digits), a bucket or two past 4,096 ids from the others (an answer of several rows).
    await db.exec(
      `CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
       INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 9000) AS g;
       INSERT INTO items VALUES (4611686018427387000, 'far'), (-4611686018427387000, 'far below')`,
    );
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('answers the same buckets, counts and exact sums whether the bucket ids are int8 or numeric', async () => {
    const session = await postgresDialect.open(parseConnectionUrl(db.url), { baseDir: '.', role: 'source' });
    try {
      const columns = (await session.describeTable({ name: 'items' }))!.columns;
      const request = (narrow: boolean, width: bigint, within?: { width: bigint; ids: bigint[] }): BucketRequest => ({
        table: { name: 'items' },
        columns,
        orderBy: ['id'],
        batchRows: 1,
        kinds: columns.map(() => 'native'),
        buckets: { lo: -4611686018427387000n, width, narrow, ...(within ? { within } : {}) },
      });
      const asMap = (hs: BucketHash[]) => new Map(hs.map((h) => [h.bucket.toString(), `${h.rows}:${h.hash}`]));
      const levels: Array<[bigint, { width: bigint; ids: bigint[] } | undefined]> = [
        [1n << 40n, undefined],
        [1n, { width: 1n << 40n, ids: [4194303n, 4194304n, 8388607n] }],
      ];
      for (const [width, within] of levels) {
        const [ints, numeric] = await Promise.all([session.bucketHashes!(request(true, width, within)), session.bucketHashes!(request(false, width, within))]);
        expect(asMap(ints)).toEqual(asMap(numeric));
        expect(ints.reduce((n, h) => n + h.rows, 0)).toBe(within ? 9001 : 9002);
        // Exact sums: the last bucket, of one row, sums its own hash, the plain statement's.
        const far = ints.reduce((a, b) => (b.bucket > a.bucket ? b : a));
        expect(far.rows).toBe(1);
        const [[own]] = await db.rows(`SELECT hashint8extended(coalesce(hashint8extended(id, 1), -1::int8) # coalesce(hashtextextended(name, 2), -2::int8), 0)::text FROM items WHERE name = 'far'`);
        expect(far.hash).toBe(String(own));
      }
    } finally {
      await session.close();
    }
  });
});
