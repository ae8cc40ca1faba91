/**
 * Over a remote link every statement is a network round trip (issue 16, the
 * remote profile): a delta mirror of a few changed rows must not spend its
 * time in turns it could save. The job connects through a counting proxy that
 * records each request of each connection (a client message after the
 * server's answer), so the test sees the run's conversation with the target:
 * - the source and the target connect at once, not one after the other;
 * - the delta tables (`_d`, `_g`) go with the apply's commit (PostgreSQL's DDL
 *   is transactional), not in statements of their own after it;
 * - statements without parameters that follow one another go together
 *   (StatementBatch), and a failing one stops the rest;
 * and the run still ends with the exact target, verified.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import { StatementBatch } from '../../src/main/engine/pipeline/batch.js';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';
import { countingProxy, through, type Turn } from '../helpers/countingProxy.js';

const ROWS = 4000;

describe('round trips of a delta mirror into PostgreSQL', () => {
  const dir = tempDir();
  let source: TestDb;
  let target: TestDb;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;

  beforeAll(async () => {
    source = await createTestDb('postgres', dir);
    target = await createTestDb('postgres', dir);
    await source.exec(
      `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL);
       INSERT INTO items SELECT i, 'item ' || i, i % 7 FROM generate_series(1, ${ROWS}) i`,
    );
    proxy = await countingProxy(Number(new URL(target.url).port || 5432));
  });

  afterAll(async () => {
    await proxy?.close();
    await source?.drop();
    await target?.drop();
  });

  it('connects both sides at once, drops its delta tables with the commit, and ends with the exact target', async () => {
    const state = join(dir, 'state');
    const job = (name: string, url: (u: string) => string, mode: string, options: Record<string, unknown>) =>
      writeJob(dir, { name, source: { url: url(source.url) }, target: { url: url(target.url) }, tables: [{ source: 'items', mode }], options }, `${name}.json`);
    const first = await dbferry(['run', job('first', (u) => u, 'replace', { verify: 'none' }), '--json', '--state', state]);
    expect(first.code, first.stderr).toBe(0);
    // A few rows changed, scattered: some updated, some gone, some new.
    await target.exec(`UPDATE items SET qty = qty + 1 WHERE id % 500 = 1; DELETE FROM items WHERE id % 500 = 2; INSERT INTO items SELECT id + ${ROWS * 10}, name, qty FROM items WHERE id % 500 = 3`);
    proxy.turns.length = 0;
    proxy.connects.length = 0;

    const r = await dbferry(['run', job('delta', (u) => through(u, proxy.port), 'mirror', { compare: 'always', verify: 'checksum' }), '--json', '--state', state]);
    expect(r.code, r.stderr).toBe(0);
    const summary = r.events.find((e) => e.type === 'summary') as unknown as { status: string; tables: Array<{ applied: Record<string, number>; verified: string }> };
    expect(summary.status).toBe('succeeded');
    expect(summary.tables[0].applied).toMatchObject({ inserted: 8, updated: 8, deleted: 8 });
    expect(summary.tables[0].verified).not.toBe('skipped');

    // Both connections opened before either had asked anything but its startup.
    expect(proxy.connects.length).toBeGreaterThanOrEqual(2);
    const [a, b] = proxy.connects;
    expect(proxy.turns.slice(0, b).every((t) => t.type === '')).toBe(true);
    expect(a).toBe(0);

    // The target's connection: the one whose turns mention the staging table.
    const targetConn = proxy.turns.find((t) => t.text.includes('_dbferry_stg_'))!.conn;
    const onTarget = proxy.turns.filter((t) => t.conn === targetConn);
    const marks = (t: Turn) => /INSERT INTO "[^"]+"\."_dbferry_applied_runs"/.test(t.text);
    // The COMMIT: a turn of its own, or the end of the marker's turn (the statements before it run in its round trip).
    const commit = onTarget.findIndex((t) => /(^|;\s*)COMMIT\s*$/.test(t.text.trim()) && onTarget.slice(0, onTarget.indexOf(t) + 1).some(marks));
    expect(commit).toBeGreaterThan(0);
    const afterCommit = onTarget.slice(commit + 1).map((t) => t.text);
    expect(afterCommit.filter((t) => /_dbferry_stg_\w+_[dg]"/.test(t))).toEqual([]);
    // Dropped in the marker's round trip, inside the transaction.
    const marker = onTarget.slice(0, commit + 1).find(marks)!;
    expect(marker.text).toMatch(/DROP TABLE IF EXISTS "[^"]+"\."_dbferry_stg_\w+_d", "[^"]+"\."_dbferry_stg_\w+_g"/);
    expect((await target.tables()).filter((t) => t.startsWith('_dbferry_stg_'))).toEqual([]);

    // The exact target.
    const sql = 'SELECT id, name, qty FROM items ORDER BY id';
    expect(await target.rows(sql)).toEqual(await source.rows(sql));
  });

  it('sends a batch of statements in one round trip, in order, and stops at the first error', async () => {
    const session = await postgresDialect.open(parseConnectionUrl(through(target.url, proxy.port)), { baseDir: '.', role: 'target' });
    try {
      proxy.turns.length = 0;
      const t1 = { name: 'batch_one' };
      const t2 = { name: 'batch_two' };
      await new StatementBatch(session).drop(t1, t2).add('CREATE TABLE batch_one (x int)', 'INSERT INTO batch_one VALUES (1), (2)', 'CREATE TABLE batch_two AS SELECT x * 10 AS x FROM batch_one').flush();
      expect(proxy.turns).toHaveLength(1);
      expect((await target.rows('SELECT x FROM batch_two ORDER BY x')).map((r) => Number(r[0]))).toEqual([10, 20]);

      // A failure: nothing after it runs, and (outside a transaction) nothing before it stays.
      const failing = new StatementBatch(session).add('INSERT INTO batch_one VALUES (3)', 'INSERT INTO no_such_table VALUES (1)', 'INSERT INTO batch_one VALUES (4)');
      await expect(failing.flush()).rejects.toThrow(/no_such_table/);
      expect((await target.rows('SELECT x FROM batch_one ORDER BY x')).map((r) => Number(r[0]))).toEqual([1, 2]);
      // The batch is empty again.
      proxy.turns.length = 0;
      await failing.flush();
      expect(proxy.turns).toHaveLength(0);
      await new StatementBatch(session).drop(t1, t2).flush();
      expect(await target.tables()).not.toContain('batch_one');
    } finally {
      await session.close();
    }
  });
});
