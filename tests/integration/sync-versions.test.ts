/**
 * A re-sync between PostgreSQL tables that finds the rows changed since the
 * last sync by both servers' row versions (xmin), recorded by the last run
 * (pipeline/syncState.ts), instead of hashing every row. It must find every
 * change either side made (an update, a NULL, a decimal's trailing zero, a
 * timestamp's fraction, a case-only change, a new key, a key only the target
 * has), leave the target exactly equal to the source, and fall back to range
 * hashes, saying why, whenever the record cannot be trusted: a key deleted, a
 * row that left the `where`, the spec changed, the table rewritten, a row
 * refused by the last run.
 *
 * On a PostgreSQL server of its own (privatePg.ts, autovacuum off): transaction
 * ids are the whole server's, and another test file's transaction running
 * during a run would hold its marks back (safe: more rows found to look at,
 * fewer trusted), which would make the counts below vary.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { privatePgMissing, startPrivatePg, type PrivatePg } from '../helpers/privatePg.js';
import pg from 'pg';

const missing = privatePgMissing();
let server: PrivatePg | undefined;
const src = { url: '' };
const tgt = { url: '' };
const ROWS = 5000;

const pgExec = (url: string, sql: string) => server!.exec(new URL(url).pathname.slice(1), sql);

beforeAll(async () => {
  if (missing) return;
  server = await startPrivatePg(['autovacuum=off']);
  await server.exec('postgres', 'CREATE DATABASE versions_s');
  await server.exec('postgres', 'CREATE DATABASE versions_t');
  src.url = server.url('versions_s');
  tgt.url = server.url('versions_t');
});

afterAll(() => {
  server?.stop();
});

beforeEach(async () => {
  if (missing) return;
  await pgExec(tgt.url, 'DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS _dbferry_sync_state');
  await pgExec(
    src.url,
    `DROP TABLE IF EXISTS items;
     CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, n int, price numeric, at timestamp(6) NOT NULL);
     INSERT INTO items SELECT g, 'Row ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE g END, (g % 100) / 4.0, timestamp '2024-01-01' + g * interval '1 second'
     FROM generate_series(1, ${ROWS}) g`,
  );
  await pgExec(src.url, 'VACUUM (FREEZE, ANALYZE) items');
});

async function rows(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ t: string }>('SELECT (id, name, n, price::text, at::text)::text AS t FROM items ORDER BY id');
    return r.rows.map((x) => x.t);
  } finally {
    await c.end();
  }
}

interface TableResult {
  path: string;
  applied: { inserted: number; updated: number; deleted: number; unchanged: number };
  verified: string;
}

async function run(dir: string, table: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<{ table: TableResult; status: string }> {
  const job = writeJob(dir, { name: 'versions', source: { url: src.url }, target: { url: tgt.url }, tables: [{ source: 'items', ...table }], options: { verify: 'checksum' } }, `${String(table.mode)}.json`);
  const r = await dbferry(['run', job, '--json', '--state', join(dir, 'state')], { env });
  const summary = r.events.at(-1) as unknown as { status: string; tables: TableResult[] };
  expect(summary?.tables, r.stderr + r.stdout.slice(-2000)).toBeDefined();
  return { table: summary.tables[0], status: summary.status };
}

async function expectEqual(): Promise<void> {
  expect(await rows(tgt.url)).toEqual(await rows(src.url));
}

const BY_VERSIONS = "by both servers' row versions";

describe.skipIf(missing)(`re-sync by row versions (PostgreSQL → PostgreSQL)${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('finds every change on either side since the last sync, and nothing more the run after', async () => {
    const dir = tempDir();
    // A new table: its state is taken inside the apply, after the rename.
    const first = await run(dir, { mode: 'replace' });
    expect(first.status).toBe('succeeded');
    await pgExec(
      src.url,
      `UPDATE items SET name = 'row 10' WHERE id = 10;
       UPDATE items SET n = NULL WHERE id = 20;
       UPDATE items SET price = 7.50 WHERE id = 30 AND price = 7.5;
       UPDATE items SET at = at + interval '1 microsecond' WHERE id = 40;
       UPDATE items SET n = n WHERE id = 45;
       INSERT INTO items VALUES (${ROWS + 1000}, 'new', 1, 1.0, '2025-01-01')`,
    );
    // Someone else's writes into the target: an update, and a key the source lacks (a mirror deletes it).
    await pgExec(tgt.url, `UPDATE items SET name = 'changed' WHERE id = 50; INSERT INTO items VALUES (${ROWS + 2000}, 'extra', 2, 2.0, '2025-01-02')`);
    // plan --diff finds them the same way, and says what the run then does.
    const job = writeJob(dir, { name: 'versions', source: { url: src.url }, target: { url: tgt.url }, tables: [{ source: 'items', mode: 'mirror' }] }, 'diff.json');
    const planned = await dbferry(['plan', job, '--diff', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    const diff = (planned.events[0] as unknown as { tables: Array<{ diff: { inserted: number; updated: number; deleted: number; unchanged: number; method: string } }> }).tables[0].diff;
    expect(diff.method).toContain(`${BY_VERSIONS} (8 keys)`);
    // The plan says which way the table is compared.
    expect((planned.events[0] as unknown as { tables: Array<{ path: string }> }).tables[0].path).toMatch(/^delta: where the last run's record of both tables' row versions still holds, only the rows written since are staged/);
    const second = await run(dir, { mode: 'mirror' });
    expect(second.table.applied).toEqual({ inserted: diff.inserted, updated: diff.updated, deleted: diff.deleted, unchanged: diff.unchanged });
    expect(second.table.path).toContain(BY_VERSIONS);
    // id 45's update changed nothing: staged, compared, not written.
    expect(second.table.path).toContain('are 8 keys');
    expect(second.table.applied).toEqual({ inserted: 1, updated: 5, deleted: 1, unchanged: ROWS - 5 });
    expect(second.table.verified).toBe('checksum');
    await expectEqual();
    // The run's own writes are not changes to the next one.
    const third = await run(dir, { mode: 'mirror' });
    expect(third.table.path).toContain(`${BY_VERSIONS} (`);
    expect(third.table.path).toContain('are 0 keys');
    expect(third.table.applied).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: ROWS + 1 });
    await pgExec(tgt.url, "UPDATE items SET name = 'again' WHERE id = 60");
    // Another mode, the same rows: the record holds.
    const fourth = await run(dir, { mode: 'upsert' });
    expect(fourth.table.path).toContain(BY_VERSIONS);
    expect(fourth.table.path).toContain('are 1 key ');
    expect(fourth.table.applied.updated).toBe(1);
    await expectEqual();
  });

  it('finds keys deleted on either side, or rows that left the where, by range hashes of the key alone', async () => {
    const dir = tempDir();
    await run(dir, { mode: 'mirror' });
    await pgExec(src.url, 'DELETE FROM items WHERE id = 100; UPDATE items SET name = name || \'!\' WHERE id = 200');
    const a = await run(dir, { mode: 'mirror' });
    expect(a.table.path).toContain(`${BY_VERSIONS}, are 1 key, and range hashes of the key alone`);
    expect(a.table.applied).toMatchObject({ updated: 1, deleted: 1, inserted: 0 });
    await expectEqual();
    await pgExec(tgt.url, 'DELETE FROM items WHERE id = 300');
    const b = await run(dir, { mode: 'mirror' });
    expect(b.table.path).toContain(`${BY_VERSIONS}, are 0 keys, and range hashes of the key alone`);
    expect(b.table.applied).toMatchObject({ inserted: 1, deleted: 0 });
    await expectEqual();
    // A row that leaves the `where` without changing (the where reads another table): the mirror deletes it.
    await pgExec(src.url, 'DROP TABLE IF EXISTS limits; CREATE TABLE limits (max_id int); INSERT INTO limits VALUES (4000)');
    const where = { mode: 'mirror', where: 'id <= (SELECT max_id FROM limits)' };
    await run(dir, where);
    expect((await rows(tgt.url)).length).toBe(4000 - 1);
    expect((await run(dir, where)).table.path).toContain('are 0 keys');
    await pgExec(src.url, 'UPDATE limits SET max_id = 3999');
    const c = await run(dir, where);
    expect(c.table.path).toContain(`${BY_VERSIONS}, are 0 keys, and range hashes of the key alone`);
    expect(c.table.applied.deleted).toBe(1);
  });

  it('does not trust a record once the target table was rewritten', async () => {
    const dir = tempDir();
    await run(dir, { mode: 'mirror' });
    await pgExec(tgt.url, 'UPDATE items SET n = 0 WHERE id = 70');
    await pgExec(tgt.url, 'VACUUM FULL items');
    const r = await run(dir, { mode: 'mirror' });
    expect(r.table.path).toContain('row versions not used: the target table was truncated, rewritten or created again');
    expect(r.table.applied.updated).toBe(1);
    await expectEqual();
    // Recorded again: the next run trusts it.
    const next = await run(dir, { mode: 'mirror' });
    expect(next.table.path).toContain('are 0 keys');
  });

  it('records nothing for a table with inheritance children (a child attached with old rows brings no new version)', async () => {
    const dir = tempDir();
    await pgExec(src.url, 'DROP TABLE IF EXISTS items_child; CREATE TABLE items_child () INHERITS (items)');
    try {
      await run(dir, { mode: 'mirror' });
      await pgExec(src.url, `INSERT INTO items_child VALUES (${ROWS + 500}, 'child', 1, 1.0, '2025-01-01')`);
      const r = await run(dir, { mode: 'mirror' });
      expect(r.table.path).toMatch(/^delta: range hashes/);
      expect(r.table.path).not.toContain('row versions');
      expect(r.table.applied.inserted).toBe(1);
      await expectEqual();
    } finally {
      await pgExec(src.url, 'DROP TABLE IF EXISTS items_child');
    }
  });

  it('resumes a run killed at any point to the exact target, and the next run still finds every change', async () => {
    const dir = tempDir();
    await run(dir, { mode: 'mirror' });
    const job = writeJob(dir, { name: 'versions', source: { url: src.url }, target: { url: tgt.url }, tables: [{ source: 'items', mode: 'mirror' }], options: { verify: 'checksum' } }, 'kill.json');
    for (const [i, at] of ['compared', 'table-staged', 'apply-started', 'apply-committed'].entries()) {
      await pgExec(src.url, `UPDATE items SET name = 'kill ${i}' WHERE id = ${1000 + i}; DELETE FROM items WHERE id = ${2000 + i}`);
      await pgExec(tgt.url, `UPDATE items SET n = -1 WHERE id = ${3000 + i}`);
      const killed = await dbferryUntil(['run', job, '--state', join(dir, 'state')], (e) => e.type === at, (c) => void c.kill('SIGKILL'));
      expect(killed.triggered, `${at}: ${killed.stderr}`).toBe(true);
      if (killed.signal === 'SIGKILL') {
        const resumed = await dbferry(['resume', killed.events[0].runId as string, '--json', '--state', join(dir, 'state')]);
        if (!(resumed.code === 2 && /nothing to resume/.test(resumed.stderr))) expect(resumed.code, `${at}: ${resumed.stderr}`).toBe(0);
      }
      await expectEqual();
      // A change after the interrupted run: found, whichever record the interruption left.
      await pgExec(src.url, `UPDATE items SET name = 'after ${i}' WHERE id = ${4000 + i}`);
      const next = await run(dir, { mode: 'mirror' });
      expect(next.table.applied.updated, `${at}: ${next.table.path}`).toBe(1);
      await expectEqual();
    }
  });

  it('records nothing for a run that refused rows: the next run tries them again', async () => {
    const dir = tempDir();
    await run(dir, { mode: 'mirror' });
    await pgExec(tgt.url, 'ALTER TABLE items ADD CONSTRAINT n_small CHECK (n IS NULL OR n < 1000000)');
    await pgExec(src.url, 'UPDATE items SET n = 2000000 WHERE id = 80');
    const refused = await run(dir, { mode: 'mirror' });
    expect(refused.status).toBe('dead-lettered');
    expect(refused.table.path).toContain(BY_VERSIONS);
    await pgExec(tgt.url, 'ALTER TABLE items DROP CONSTRAINT n_small');
    // Nothing changed on either side since: only the refused row, which the last record (from before it) still finds.
    const again = await run(dir, { mode: 'mirror' });
    expect(again.status).toBe('succeeded');
    expect(again.table.applied.updated).toBe(1);
    await expectEqual();
  });
});
