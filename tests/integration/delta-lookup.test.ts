/**
 * A delta mirror that stages few rows against a big table (PostgreSQL →
 * PostgreSQL): the apply looks the staged keys up in the key index, and the
 * keys the source lacks are found in the server, bucket by bucket, over
 * buckets of several widths (bisection levels). It deletes exactly those,
 * writes exactly the changed rows, and `backups restore` undoes it all.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

process.env.DBFERRY_COMPARE_ROWS = '4';

const ROWS = 4000;

describe('delta mirror, few rows staged (PostgreSQL)', () => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  const job = (mode: string) =>
    writeJob(dir, { name: `lookup ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode }], options: { verify: 'checksum', schema: 'tables' } }, `${mode}.json`);
  const run = async (mode: string) => {
    // Range hashes are what this file tests (between PostgreSQL servers a run could find the rows by their versions: sync-versions.test.ts).
    const r = await dbferry(['run', job(mode), '--json', '--state', state], { env: { ...process.env, DBFERRY_ROW_VERSIONS: '0' } });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const summary = r.events.at(-1) as unknown as { rowsRead: number; tables: Array<{ applied: Record<string, number>; path: string; verified: string }> };
    return { runId: r.events[0].runId as string, summary };
  };
  const rows = (db: TestDb) => db.rows('SELECT id, name, qty FROM items ORDER BY id');

  beforeAll(async () => {
    source = await createTestDb('postgres', dir);
    target = await createTestDb('postgres', dir);
    // Keys 3, 6, 9, …: gaps for keys only the target holds.
    await source.exec('CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int)');
    await source.exec(`INSERT INTO items SELECT g * 3, 'item ' || g, g % 7 FROM generate_series(1, ${ROWS}) AS g`);
    await source.exec('ANALYZE items');
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('deletes exactly the keys the source lacks, writes exactly the changed rows, and restore undoes it', async () => {
    await run('replace');
    const before = await rows(source);
    // In the target: keys the source lacks, in gaps all over and far past the last key; rows changed; rows gone.
    const extra = [1, 2, 301, 3001, 6002, 9000 + 1, 11_998, ROWS * 3 + 1, ROWS * 30];
    await target.exec(`INSERT INTO items (id, name, qty) VALUES ${extra.map((k) => `(${k}, 'extra', 0)`).join(', ')}`);
    await target.exec('UPDATE items SET qty = qty + 100 WHERE id IN (3, 1500, 6000, 11997)');
    await target.exec('DELETE FROM items WHERE id IN (300, 9000)');
    await target.exec('ANALYZE items');
    const changed = await rows(target);

    const mirror = await run('mirror');
    const t = mirror.summary.tables[0];
    expect(t.path).toMatch(/^delta: range hashes/);
    expect(t.applied).toMatchObject({ inserted: 2, updated: 4, deleted: extra.length });
    expect(t.verified).toBe('checksum');
    expect(mirror.summary.rowsRead).toBeLessThan(ROWS / 10);
    expect(await rows(target)).toEqual(before);

    const undo = await dbferry(['backups', 'restore', mirror.runId, '--state', state]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await rows(target)).toEqual(changed);
  });
});
