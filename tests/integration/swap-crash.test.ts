/**
 * A replace by swap killed the moment it takes effect: on MySQL/MariaDB just
 * before and right after the atomic RENAME TABLE (DDL commits on its own,
 * after the apply's transaction), on PostgreSQL right after the apply's commit. The old table is
 * then the run's backup under its new name, and the local store has not yet
 * been told. `resume` must end with the exact target, and `backups restore`
 * must still put the old table back.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';

const CASES: Array<[EngineName, string]> = [
  ['mysql', 'before-swap-rename'],
  ['mysql', 'after-swap-rename'],
  ['postgres', 'after-apply-commit'],
];

const ROWS = 100;

async function content(db: TestDb): Promise<string> {
  const rows = await db.rows('SELECT id, name FROM items ORDER BY id');
  return JSON.stringify(rows.map((r) => r.map(String)));
}

describe.each(CASES)('replace by swap into %s, killed at %s', (engine, point) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;

  beforeAll(async () => {
    source = await createTestDb(engine, dir);
    target = await createTestDb(engine, dir);
    await source.exec(`CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL)`);
    const values = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'item ${i + 1}')`).join(', ');
    await source.exec(`INSERT INTO items (id, name) VALUES ${values}`);
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('resume ends with the exact target, and backups restore puts the old table back', async () => {
    const job = writeJob(dir, { name: 'items', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode: 'replace' }], options: { verify: 'checksum', schema: 'tables' } });
    const first = await dbferry(['run', job, '--json', '--state', state]);
    expect(first.code, first.stderr).toBe(0);
    await source.exec("UPDATE items SET name = 'changed' WHERE id <= 10");
    await source.exec('DELETE FROM items WHERE id > 90');
    const before = await content(target);

    const killed = await dbferry(['run', job, '--json', '--state', state], { env: { DBFERRY_TEST_KILL_AT: point } });
    expect(killed.code, `the run was not killed at ${point}: ${killed.stderr}`).toBeNull();
    const plan = killed.events.find((e) => e.type === 'plan') as unknown as { tables: Array<{ path?: string }> };
    expect(plan.tables[0].path).toMatch(/^swap/);
    // Killed after the swap took effect, the target holds the new rows already; before it, the old ones.
    expect(await content(target)).toEqual(point === 'before-swap-rename' ? before : await content(source));
    const runId = killed.events[0].runId as string;

    const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
    expect(await content(target)).toEqual(await content(source));

    const listed = await dbferry(['backups', 'list', '--run', runId, '--json', '--state', state]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.events.filter((e) => e.type === 'backup')).toHaveLength(1);
    // The target's copy of the run's backup records is gone once the store has them.
    expect(String((await target.rows('SELECT count(*) FROM _dbferry_applied_backups'))[0][0])).toBe('0');
    const undo = await dbferry(['backups', 'restore', runId, '--state', state]);
    expect(undo.code, `${undo.stdout}${undo.stderr}`).toBe(0);
    expect(await content(target)).toEqual(before);
  });
});
