/**
 * Re-syncs into a table that already exists: an upsert or mirror writes only
 * the rows that differ, and misses none of the changes that a loose
 * comparison would (a NULL, trailing zeros of a decimal, a timestamp's
 * fraction, a case-only change under a case-insensitive collation).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, digest, sqliteDb, type EngineName, type TestDb } from '../helpers/targets.js';

const PAIRS: Array<[EngineName, EngineName]> = [
  ['postgres', 'postgres'],
  ['mysql', 'mysql'],
  ['postgres', 'mysql'],
  ['mysql', 'postgres'],
  ['sqlite', 'sqlite'],
];

const ROWS = 200;

/** The source table; PostgreSQL → PostgreSQL keeps an unconstrained numeric, whose trailing zeros are part of the value. */
function createItems(engine: EngineName, sameEngine: boolean): string {
  const types = {
    postgres: { id: 'int', name: 'varchar(40)', amount: sameEngine ? 'numeric' : 'numeric(14,4)', at: 'timestamp(6)' },
    mysql: { id: 'int', name: 'varchar(40)', amount: 'decimal(14,4)', at: 'datetime(6)' },
    sqlite: { id: 'INTEGER', name: 'TEXT', amount: 'TEXT', at: 'TEXT' },
  }[engine];
  return `CREATE TABLE items (id ${types.id} PRIMARY KEY, name ${types.name} NOT NULL, amount ${types.amount}, at ${types.at}, note text)`;
}

function seedItems(): string {
  const values: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    values.push(`(${i}, 'item ${i}', '${i}.10', '2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00.123456', ${i % 10 === 0 ? 'NULL' : `'note ${i}'`})`);
  }
  return `INSERT INTO items (id, name, amount, at, note) VALUES ${values.join(', ')}`;
}

async function sourceDb(engine: EngineName, dir: string): Promise<TestDb> {
  return engine === 'sqlite' ? sqliteDb(join(dir, `source-${Math.random().toString(36).slice(2)}.db`)) : createTestDb(engine, dir);
}

/** Rows as the driver gives them; across engines, as digest() normalizes numbers. */
async function content(db: TestDb): Promise<unknown> {
  const rows = await db.rows('SELECT id, name, amount, at, note FROM items ORDER BY id');
  return rows.map((r) => r.map((v) => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : v)));
}

/** PostgreSQL's xmin of each row: the transaction that last wrote it, so an unwritten row keeps it. */
async function rowVersions(db: TestDb): Promise<Map<string, string>> {
  return new Map((await db.rows('SELECT id::text, xmin::text FROM items')).map((r) => [r[0] as string, r[1] as string]));
}

/** MariaDB's own count of rows changed in the table (userstat), when the server keeps it. */
async function rowsChanged(db: TestDb): Promise<number | undefined> {
  try {
    if (String((await db.rows('SELECT @@GLOBAL.userstat'))[0][0]) !== '1') return undefined;
    const r = await db.rows(`SELECT rows_changed FROM information_schema.table_statistics WHERE table_schema = DATABASE() AND table_name = 'items'`);
    return r.length ? Number(r[0][0]) : 0;
  } catch {
    return undefined;
  }
}

describe.each(PAIRS)('re-sync %s → %s', (sourceEngine, targetEngine) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  let userstat: string | undefined;
  const same = sourceEngine === targetEngine;
  // compare "never": these runs stage every row and write only what differs (tests/integration/delta.test.ts compares first).
  // schema "tables": the first copy makes a table of columns and a key only, which a replace can swap; a carried
  // AUTOINCREMENT or identity keeps replace in place (its counter would not come with the staged table).
  const job = (mode: string) =>
    writeJob(dir, { name: `items ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode }], options: { verify: 'checksum', schema: 'tables', compare: 'never' } }, `${mode}.json`);
  const expectTargetEqualsSource = async () => {
    if (same) expect(await content(target)).toEqual(await content(source));
    else expect(digest(await target.rows('SELECT * FROM items ORDER BY id'))).toEqual(digest(await source.rows('SELECT * FROM items ORDER BY id')));
  };
  const run = async (mode: string) => {
    const r = await dbferry(['run', job(mode), '--json', '--state', state]);
    expect(r.code, r.stderr).toBe(0);
    const summary = r.events.at(-1) as unknown as { tables: Array<{ applied?: Record<string, number> }> };
    const plan = r.events.find((e) => e.type === 'plan') as unknown as { tables: Array<{ path?: string }> };
    const applying = r.events.filter((e) => e.type === 'progress' && e.phase === 'applying').map((e) => [e.rowsApplied, e.estimate]);
    return { runId: r.events[0].runId as string, applied: summary.tables[0].applied!, stdout: r.stdout, path: plan.tables[0].path ?? '', applying };
  };

  beforeAll(async () => {
    source = await sourceDb(sourceEngine, dir);
    target = await createTestDb(targetEngine, dir);
    await source.exec(createItems(sourceEngine, same));
    await source.exec(seedItems());
    // MariaDB counts rows changed per table only with userstat on: on for this test, then as it was.
    if (targetEngine === 'mysql') {
      userstat = String((await target.rows('SELECT @@GLOBAL.userstat').catch(() => [['']]))[0][0]);
      if (userstat === '0') await target.exec('SET GLOBAL userstat = 1').catch(() => undefined);
    }
  });
  afterAll(async () => {
    if (userstat === '0') await target.exec('SET GLOBAL userstat = 0').catch(() => undefined);
    await source?.drop();
    await target?.drop();
  });

  it('writes nothing when nothing changed, and every kind of change when something did', async () => {
    await run('replace');
    await expectTargetEqualsSource();
    // A collation that calls 'a' and 'A' equal must not hide a case-only change.
    // (The database's too, which staging tables take: a _bin side would make the comparison binary anyway.)
    if (targetEngine === 'mysql') {
      await target.exec('ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci');
      await target.exec('ALTER TABLE items MODIFY name varchar(40) COLLATE utf8mb4_general_ci NOT NULL');
    }

    const versions = targetEngine === 'postgres' ? await rowVersions(target) : undefined;
    const changedBefore = await rowsChanged(target);
    for (const mode of ['upsert', 'mirror']) {
      const again = await run(mode);
      expect(again.applied).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: ROWS });
    }
    if (versions) expect(await rowVersions(target)).toEqual(versions);
    if (changedBefore !== undefined) expect(await rowsChanged(target)).toBe(changedBefore);
    await expectTargetEqualsSource();

    const changes = [
      "UPDATE items SET name = 'renamed' WHERE id = 3",
      'DELETE FROM items WHERE id = 4',
      "INSERT INTO items (id, name, amount, at, note) VALUES (1000, 'new', '1.5', '2025-01-01 00:00:00.654321', NULL)",
      'UPDATE items SET note = NULL WHERE id = 5',
      "UPDATE items SET note = 'was null' WHERE id = 10",
      "UPDATE items SET at = '2024-01-07 10:00:00.123457' WHERE id = 6",
      "UPDATE items SET name = 'ITEM 7' WHERE id = 7",
      // MySQL's collations pad with spaces ('a' = 'a ', even utf8mb4_bin): bytes tell them apart.
      "UPDATE items SET name = 'item 9 ' WHERE id = 9",
      // Trailing zeros are a change only where the type keeps them (an unconstrained numeric).
      ...(same && sourceEngine === 'postgres' ? ["UPDATE items SET amount = '8.1' WHERE id = 8"] : []),
    ];
    for (const sql of changes) await source.exec(sql);
    const updates = changes.filter((c) => c.startsWith('UPDATE')).length;
    const mirror = await run('mirror');
    expect(mirror.applied).toEqual({ inserted: 1, updated: updates, deleted: 1, unchanged: ROWS - 1 - updates });
    // The apply phase says how far it got: rows applied of rows staged.
    expect(mirror.applying[0]).toEqual([0, ROWS]);
    expect(mirror.applying[mirror.applying.length - 1]).toEqual([ROWS, ROWS]);
    expect(mirror.applying.every(([n], i) => i === 0 || (n as number) >= (mirror.applying[i - 1][0] as number))).toBe(true);
    await expectTargetEqualsSource();
    if (versions) {
      const after = await rowVersions(target);
      const rewritten = [...versions].filter(([id, xmin]) => after.has(id) && after.get(id) !== xmin).map(([id]) => Number(id));
      expect(rewritten.sort((a, b) => a - b)).toEqual([3, 5, 6, 7, 9, 10, ...(same ? [8] : [])].sort((a, b) => a - b));
    }
    if (changedBefore !== undefined) expect((await rowsChanged(target))! - changedBefore).toBe(updates + 2);

    // Undo puts back the rows the mirror changed, deleted and added.
    const before = await content(target);
    await source.exec("UPDATE items SET note = 'again' WHERE id = 11");
    await source.exec('DELETE FROM items WHERE id = 12');
    const last = await run('mirror');
    expect(last.applied).toMatchObject({ updated: 1, deleted: 1 });
    const undo = await dbferry(['backups', 'restore', last.runId, '--state', state]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await content(target)).toEqual(before);

    // The CLI's table line says what the apply did.
    const text = await dbferry(['run', job('mirror'), '--state', state]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`(0 inserted, 1 updated, 1 deleted, ${ROWS - 2} unchanged)`);
    await expectTargetEqualsSource();
  });

  it('replaces an existing table by swapping it, keeps the old one as the backup, and stays in place where something pins it', async () => {
    const first = await run('replace');
    if (targetEngine === 'mysql') {
      // The collation the test above gave a column would not come with a table dbferry creates.
      expect(first.path).toMatch(/^in place.*collation.*name/);
      await target.exec('ALTER TABLE items MODIFY name varchar(40) COLLATE utf8mb4_bin NOT NULL');
    }
    const before = await content(target);
    const rows = (before as unknown[]).length;
    const relation = async () => (targetEngine === 'postgres' ? await target.rows("SELECT 'items'::regclass::oid, (SELECT conname FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'p')") : undefined);
    const oldRelation = await relation();
    await source.exec("UPDATE items SET name = 'swapped' WHERE id = 1");
    const swapped = await run('replace');
    expect(swapped.path).toMatch(/^swap/);
    expect(swapped.applied).toMatchObject({ inserted: rows, deleted: rows });
    await expectTargetEqualsSource();
    if (oldRelation) expect(await relation()).not.toEqual(oldRelation);
    const undo = await dbferry(['backups', 'restore', swapped.runId, '--state', state]);
    expect(undo.code, undo.stderr).toBe(0);
    expect(await content(target)).toEqual(before);
    // Undo swaps the old table back: the same relation, its key named as it was.
    if (oldRelation) expect(await relation()).toEqual(oldRelation);
    expect((await target.tables()).filter((t) => t.startsWith('_dbferry_bak_'))).not.toContain(`_dbferry_bak_${swapped.runId.replaceAll('-', '').slice(0, 12)}_0`);

    // PostgreSQL binds a view to the table itself, SQLite renames the view's table with it; MySQL binds
    // views by name, but a trigger stays with the renamed table.
    if (targetEngine !== 'mysql') await target.exec('CREATE VIEW first_items AS SELECT id, name FROM items WHERE id <= 2');
    else await target.exec('CREATE TRIGGER items_touch BEFORE INSERT ON items FOR EACH ROW SET NEW.note = NEW.note');
    await source.exec("UPDATE items SET name = 'in place' WHERE id = 2");
    const inPlace = await run('replace');
    expect(inPlace.path).toMatch(targetEngine !== 'mysql' ? /^in place.*views.*first_items/ : /^in place.*triggers.*items_touch/);
    await expectTargetEqualsSource();
    if (targetEngine !== 'mysql') expect((await target.rows('SELECT id, name FROM first_items ORDER BY id')).map((r) => r.map(String))).toEqual([['1', 'swapped'], ['2', 'in place']]);
    else expect(await target.rows("SELECT trigger_name FROM information_schema.triggers WHERE event_object_schema = DATABASE() AND event_object_table = 'items'")).toEqual([['items_touch']]);
  });

  // A swap's renames and the run's marker commit together (PostgreSQL), or the renames follow the commit and resume finishes them (MySQL).
  it.runIf(same)('SIGKILL around a swap, then resume: the target is the old table or the new one, and after resume the source', async () => {
    if (targetEngine !== 'mysql') await target.exec('DROP VIEW first_items');
    else await target.exec('DROP TRIGGER items_touch');
    const points: Array<[string, number]> = [
      ['plan', 0],
      ['apply-started', 0],
      ['apply-started', 5],
      ['apply-committed', 0],
    ];
    for (const [i, [at, delayMs]] of points.entries()) {
      await source.exec(`UPDATE items SET note = 'kill ${i}' WHERE id = 20`);
      const old = await content(target);
      const fresh = await content(source);
      const killed = await dbferryUntil(['run', job('replace'), '--state', state], (e) => e.type === at, (c) => void c.kill('SIGKILL'), { delayMs });
      const name = `${at} +${delayMs} ms`;
      const plan = killed.events.find((e) => e.type === 'plan') as unknown as { tables: Array<{ path?: string }> } | undefined;
      if (plan) expect(plan.tables[0].path, name).toMatch(/^swap/);
      const now = await content(target);
      expect(JSON.stringify(now) === JSON.stringify(old) || JSON.stringify(now) === JSON.stringify(fresh), `${name}: the target is neither the old table nor the new one`).toBe(true);
      if (killed.signal === 'SIGKILL') {
        const resumed = await dbferry(['resume', killed.events[0].runId as string, '--json', '--state', state]);
        const finished = resumed.code === 2 && /nothing to resume/.test(resumed.stderr);
        if (!finished) expect(resumed.code, `${name}: ${resumed.stderr}`).toBe(0);
      }
      expect(await content(target), name).toEqual(fresh);
    }
  });

  it.runIf(targetEngine === 'postgres')('stays in place where a grant or a foreign key would be lost with the old table, and keeps them', async () => {
    await run('replace');
    await target.exec('CREATE TABLE child (id int PRIMARY KEY, item int REFERENCES items (id))');
    const withKey = await run('replace');
    expect(withKey.path).toMatch(/^in place.*foreign keys reference it.*child/);
    await target.exec('DROP TABLE child');
    await target.exec('GRANT SELECT ON items TO PUBLIC');
    const withGrant = await run('replace');
    expect(withGrant.path).toMatch(/^in place.*grants/);
    expect(await target.rows("SELECT has_table_privilege('public', 'items', 'SELECT')")).toEqual([['t']]);
    await expectTargetEqualsSource();
  });
});
