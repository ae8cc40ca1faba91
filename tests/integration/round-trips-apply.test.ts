/**
 * Over a remote link each statement is a round trip (10 ms in the bench's
 * remote profile): a PostgreSQL -> PostgreSQL delta mirror of a few changed
 * rows sends together what it can without weakening the apply:
 * - the staging table's DROP, CREATE and (a delta's few rows) its key index in
 *   one round trip; its emptying (for frozen rows) with the COPY;
 * - the apply's BEGIN with its planner settings; the delta tables' statements
 *   with the backups'; the savepoint, the update, the insert and the release
 *   together; the delta and staging tables' DROP and the marker with the COMMIT;
 * - dbferry's own tables looked for in one query, the backend pid known since
 *   connecting, each side's privileges in one query.
 * A counting proxy records each request turn of each connection (as in
 * round-trips.test.ts). Also: a row the target refuses inside the batched
 * savepoint is still isolated and dead-lettered, and statements that go with
 * a BEGIN or a COMMIT roll the whole transaction back when one fails.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';
import { countingProxy, through } from '../helpers/countingProxy.js';

const ROWS = 4000;

describe('round trips of a PostgreSQL delta mirror, statement by statement', () => {
  const dir = tempDir();
  let source: TestDb;
  let target: TestDb;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  const state = join(dir, 'state');
  const job = (name: string, url: (u: string) => string, mode: string, options: Record<string, unknown>) =>
    writeJob(dir, { name, source: { url: url(source.url) }, target: { url: url(target.url) }, tables: [{ source: 'items', mode }], options }, `${name}.json`);

  beforeAll(async () => {
    source = await createTestDb('postgres', dir);
    target = await createTestDb('postgres', dir);
    await source.exec(
      `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL);
       INSERT INTO items SELECT i, 'item ' || i, i % 7 FROM generate_series(1, ${ROWS}) i`,
    );
    proxy = await countingProxy(Number(new URL(target.url).port || 5432));
    const first = await dbferry(['run', job('first', (u) => u, 'replace', { verify: 'none' }), '--json', '--state', state]);
    expect(first.code, first.stderr).toBe(0);
  });

  afterAll(async () => {
    await proxy?.close();
    await source?.drop();
    await target?.drop();
  });

  it('sends the staging, the apply and the commit in as few round trips as the guarantees allow', async () => {
    await target.exec(`UPDATE items SET qty = qty + 1 WHERE id % 500 = 1; DELETE FROM items WHERE id % 500 = 2; INSERT INTO items SELECT id + ${ROWS * 10}, name, qty FROM items WHERE id % 500 = 3`);
    proxy.turns.length = 0;
    const r = await dbferry(['run', job('delta', (u) => through(u, proxy.port), 'mirror', { compare: 'always', verify: 'checksum' }), '--json', '--state', state]);
    expect(r.code, r.stderr).toBe(0);
    const summary = r.events.find((e) => e.type === 'summary') as unknown as { status: string; tables: Array<{ applied: Record<string, number>; verified: string }> };
    expect(summary.status).toBe('succeeded');
    expect(summary.tables[0].applied).toMatchObject({ inserted: 8, updated: 8, deleted: 8 });
    expect(summary.tables[0].verified).not.toBe('skipped');
    const sql = 'SELECT id, name, qty FROM items ORDER BY id';
    expect(await target.rows(sql)).toEqual(await source.rows(sql));

    const targetConn = proxy.turns.find((t) => t.text.includes('_dbferry_stg_'))!.conn;
    const sourceConn = proxy.turns.find((t) => t.conn !== targetConn && t.text.includes('REPEATABLE READ READ ONLY'))!.conn;
    const onTarget = proxy.turns.filter((t) => t.conn === targetConn).map((t) => t.text.trim());
    const onSource = proxy.turns.filter((t) => t.conn === sourceConn).map((t) => t.text.trim());
    const index = (re: RegExp, from = 0) => onTarget.findIndex((t, i) => i >= from && re.test(t));

    // Each side's privileges in one query (it was two).
    for (const turns of [onTarget, onSource]) expect(turns.filter((t) => /has_(schema|table)_privilege/.test(t)).map((t) => /has_schema_privilege/.test(t) && /has_table_privilege/.test(t))).toEqual([true]);

    // Staging: DROP, CREATE and the key's index in one round trip; the emptying with the COPY; no index built afterwards.
    const create = index(/^DROP TABLE IF EXISTS "[^"]+"\."_dbferry_stg_\w+_0";\s*CREATE TABLE "[^"]+"\."_dbferry_stg_\w+_0" \(.*\);\s*CREATE INDEX IF NOT EXISTS "_dbferry_stg_\w+_0_key"/s);
    expect(create, onTarget.join('\n')).toBeGreaterThan(0);
    const copy = index(/^BEGIN; TRUNCATE "[^"]+"\."_dbferry_stg_\w+_0"; COPY "[^"]+"\."_dbferry_stg_\w+_0" .* FROM STDIN/s);
    expect(copy).toBe(create + 1);
    expect(onTarget.filter((t) => /^CREATE INDEX/.test(t))).toEqual([]);

    // The apply: dbferry's own tables looked for at once, no pg_backend_pid() of its own.
    expect(onTarget.filter((t) => /pg_backend_pid/.test(t) && !/^SET /.test(t))).toEqual([]);
    const own = onTarget.filter((t) => /_dbferry_applied_runs/.test(t) && !/^INSERT|;\s*INSERT/.test(t));
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/_dbferry_applied_backups/);
    const begin = index(/^BEGIN ISOLATION LEVEL SERIALIZABLE;\s*SELECT set_config\('enable_mergejoin'/);
    expect(begin).toBeGreaterThan(copy);
    const commit = index(/(^|;\s*)COMMIT$/, begin);
    const transaction = onTarget.slice(begin, commit + 1);
    // BEGIN + settings; delta tables + backups; DELETE; savepoint + update + insert + release; backup records (bound); row versions + drops + marker + COMMIT.
    expect(transaction, transaction.join('\n')).toHaveLength(6);
    expect(transaction[1]).toMatch(/CREATE TABLE "[^"]+"\."_dbferry_stg_\w+_0_d" AS .*CREATE TABLE "[^"]+"\."_dbferry_bak_\w+_0_k" AS /s);
    expect(transaction[2]).toMatch(/^DELETE FROM "[^"]+"\."items"/);
    expect(transaction[3]).toMatch(/^SAVEPOINT "dbferry_sp_\d+";\s*UPDATE .*;\s*INSERT INTO .*;\s*RELEASE SAVEPOINT "dbferry_sp_\d+"$/s);
    expect(transaction[5]).toMatch(/^DELETE FROM "[^"]+"\."_dbferry_sync_state" .*;\s*INSERT INTO "[^"]+"\."_dbferry_sync_state" .*;\s*DROP TABLE IF EXISTS "[^"]+"\."_dbferry_stg_\w+_0_d", "[^"]+"\."_dbferry_stg_\w+_0_g", "[^"]+"\."_dbferry_stg_\w+_0";\s*INSERT INTO "[^"]+"\."_dbferry_applied_runs" .*;\s*COMMIT$/s);
    // After the commit, before verification: only the backup records the store now has leave the target's ledger.
    const verify = onTarget.findIndex((t, i) => i > commit && /^COPY \(/.test(t));
    expect(onTarget.slice(commit + 1, verify)).toEqual([expect.stringMatching(/^DELETE FROM "[^"]+"\."_dbferry_applied_backups"/)]);
    expect((await target.tables()).filter((t) => t.startsWith('_dbferry_stg_'))).toEqual([]);

    // The whole conversation with the target: 37 turns before these changes, 24 after; two more since: the last run's
    // record of where the rows' versions stood (syncState.ts), and where they stand now (the mark the apply records).
    expect(onTarget.length, onTarget.join('\n')).toBeLessThanOrEqual(26);
  });

  it('still isolates and dead-letters a row the target refuses inside the batched savepoint', async () => {
    await target.exec('ALTER TABLE items ADD CONSTRAINT qty_small CHECK (qty < 100)');
    try {
      await source.exec('UPDATE items SET qty = 500 WHERE id = 1001; UPDATE items SET qty = 50 WHERE id IN (1501, 2501); INSERT INTO items VALUES (90001, $$new$$, 1)');
      const r = await dbferry(['run', job('refused', (u) => through(u, proxy.port), 'mirror', { compare: 'always', verify: 'none' }), '--json', '--state', state]);
      const summary = r.events.find((e) => e.type === 'summary') as unknown as { status: string; rowsDeadLettered: number; tables: Array<{ applied: Record<string, number> }> };
      expect(summary.status, r.stdout).toBe('dead-lettered');
      expect(summary.rowsDeadLettered).toBe(1);
      expect(summary.tables[0].applied).toMatchObject({ inserted: 1, updated: 2 });
      expect((await target.rows('SELECT id, qty FROM items WHERE id IN (1001, 1501, 2501, 90001) ORDER BY id')).map((r) => r.map(Number))).toEqual([
        [1001, 1001 % 7],
        [1501, 50],
        [2501, 50],
        [90001, 1],
      ]);
    } finally {
      await source.exec('UPDATE items SET qty = id % 7 WHERE id IN (1001, 1501, 2501); DELETE FROM items WHERE id = 90001');
      await target.exec('ALTER TABLE items DROP CONSTRAINT qty_small');
    }
  });

  it("rolls the whole transaction back when a statement sent with its BEGIN or its COMMIT fails, and counts each batched statement's rows", async () => {
    const session = await postgresDialect.open(parseConnectionUrl(target.url), { baseDir: '.', role: 'target' });
    try {
      await session.execute('CREATE TABLE tx_rows (x int)');
      expect(await session.executeAll!(['INSERT INTO tx_rows VALUES (1), (2), (3)', 'UPDATE tx_rows SET x = x + 10 WHERE x > 1', 'DELETE FROM tx_rows WHERE x = 1'])).toEqual([3, 2, 1]);
      const count = async () => Number((await target.rows('SELECT count(*) FROM tx_rows'))[0][0]);

      // A failing statement with the COMMIT: nothing fn did stays.
      await expect(
        session.transactionWith!(async () => void (await session.execute('INSERT INTO tx_rows VALUES (4)')), 'serializable', {
          first: ['INSERT INTO tx_rows VALUES (5)'],
          last: () => ['INSERT INTO tx_rows VALUES (6)', 'INSERT INTO no_such_table VALUES (1)'],
        }),
      ).rejects.toThrow(/no_such_table/);
      expect(await count()).toBe(2);

      // A failing statement with the BEGIN: fn never runs, and the session is usable after it.
      let ran = false;
      await expect(
        session.transactionWith!(async () => void (ran = true), undefined, { first: ['INSERT INTO tx_rows VALUES (7)', 'INSERT INTO no_such_table VALUES (1)'] }),
      ).rejects.toThrow(/no_such_table/);
      expect(ran).toBe(false);
      expect(await count()).toBe(2);

      // All well: the statements with the BEGIN, fn's, and those with the COMMIT, in that order.
      await session.transactionWith!(async () => void (await session.execute('INSERT INTO tx_rows VALUES (8)')), undefined, {
        first: ['INSERT INTO tx_rows VALUES (7)'],
        last: () => ['UPDATE tx_rows SET x = x * 100 WHERE x = 8'],
      });
      expect((await target.rows('SELECT x FROM tx_rows ORDER BY x')).map((r) => Number(r[0]))).toEqual([7, 12, 13, 800]);
    } finally {
      await session.execute('DROP TABLE IF EXISTS tx_rows').catch(() => undefined);
      await session.close();
    }
  });
});
