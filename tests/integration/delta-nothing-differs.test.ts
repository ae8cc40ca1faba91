/**
 * A re-sync that compares before copying and finds every key range equal has
 * nothing to write: the apply makes no delta tables and no backup for the
 * table, the target is left as it was (its rows and the servers' write
 * counters), and undoing the run says it changed nothing. A change after it
 * is still found and applied, and can be undone.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';

const ROWS = 5_000;
const PAIRS: Array<[EngineName, EngineName]> = [
  ['postgres', 'mysql'],
  ['mysql', 'postgres'],
];

describe.each(PAIRS)('nothing differs %s → %s', (sourceEngine, targetEngine) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  const job = (mode: string) =>
    writeJob(dir, { name: `same ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode }], options: { verify: 'checksum' } }, `${mode}.json`);
  const run = async (mode: string) => {
    const r = await dbferry(['run', job(mode), '--json', '--state', state], {});
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    return r.events.at(-1) as unknown as { runId: string; tables: Array<{ applied: Record<string, number>; path: string; verified: string }> };
  };
  const rows = async (db: TestDb) => (await db.rows('SELECT id, name, qty FROM items ORDER BY id')).map((r) => r.map(String));
  const ownTables = async () => (await target.tables()).filter((t) => t.startsWith('_dbferry_stg_') || t.startsWith('_dbferry_bak_'));

  beforeAll(async () => {
    [source, target] = await Promise.all([createTestDb(sourceEngine, dir), createTestDb(targetEngine, dir)]);
    if (sourceEngine === 'postgres') {
      await source.exec('CREATE TABLE items (id bigint PRIMARY KEY, name varchar(40) NOT NULL, qty int)');
      await source.exec(`INSERT INTO items SELECT g, 'item ' || g, g % 7 FROM generate_series(1, ${ROWS}) AS g`);
    } else {
      await source.exec('CREATE TABLE items (id bigint NOT NULL PRIMARY KEY, name varchar(40) NOT NULL, qty int NULL) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci');
      await source.exec(`INSERT INTO items SELECT seq, CONCAT('item ', seq), seq % 7 FROM seq_1_to_${ROWS}`);
    }
  }, 120_000);
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('writes, backs up and leaves behind nothing, and a later change is still applied', async () => {
    await run('replace');
    const want = await rows(source);
    const before = await ownTables();

    for (const mode of ['mirror', 'upsert']) {
      const same = await run(mode);
      expect(same.tables[0].path).toMatch(/found 0 key buckets that differ/);
      expect(same.tables[0].applied).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: ROWS });
      expect(same.tables[0].verified).not.toBe('skipped');
      // No delta table, staging table or backup of this run is left, and none was made for it.
      expect(await ownTables()).toEqual(before);
      const undo = await dbferry(['backups', 'restore', same.runId, '--state', state], {});
      expect(undo.code).not.toBe(0);
      expect(undo.stderr).toMatch(/has no backups: it changed nothing/);
    }
    expect(await rows(target)).toEqual(want);

    // One row changed in the target and one missing: the next mirror finds and puts back both, with a backup.
    await target.exec("UPDATE items SET name = 'changed' WHERE id = 77");
    await target.exec('DELETE FROM items WHERE id = 78');
    const fix = await run('mirror');
    expect(fix.tables[0].applied).toEqual({ inserted: 1, updated: 1, deleted: 0, unchanged: ROWS - 2 });
    expect(await rows(target)).toEqual(want);
    const undo = await dbferry(['backups', 'restore', fix.runId, '--state', state], {});
    expect(undo.code, undo.stderr).toBe(0);
    expect((await target.rows('SELECT name FROM items WHERE id = 77')).map((r) => String(r[0]))).toEqual(['changed']);
  });
});
