/**
 * Compare before copying (options.compare): an upsert or mirror into a table
 * that exists hashes key ranges on both servers, stages only the ranges that
 * differ, and still misses none of the changes a loose comparison would (a
 * NULL, trailing zeros where they count, a timestamp's fraction, a case-only
 * change, bytes). `plan --diff` says beforehand what the run then does.
 * Buckets of a few rows (DBFERRY_COMPARE_ROWS) so that bisection really happens.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, digest, sqliteDb, type EngineName, type TestDb } from '../helpers/targets.js';

process.env.DBFERRY_COMPARE_ROWS = '8';

const PAIRS: Array<[EngineName, EngineName]> = [
  ['postgres', 'postgres'],
  ['mysql', 'postgres'],
  ['postgres', 'mysql'],
  ['sqlite', 'postgres'],
  ['mysql', 'mysql'],
];

const ROWS = 3000;

function createItems(engine: EngineName, samePg: boolean): string {
  const types = {
    postgres: { id: 'int', name: 'varchar(40)', amount: samePg ? 'numeric' : 'numeric(14,4)', at: 'timestamp(6)', note: 'text', bin: 'bytea' },
    mysql: { id: 'int', name: 'varchar(40)', amount: 'decimal(14,4)', at: 'datetime(6)', note: 'text', bin: 'varbinary(16)' },
    sqlite: { id: 'INTEGER', name: 'TEXT', amount: 'TEXT', at: 'TEXT', note: 'TEXT', bin: 'BLOB' },
  }[engine];
  return `CREATE TABLE items (id ${types.id} PRIMARY KEY, name ${types.name} NOT NULL, amount ${types.amount}, at ${types.at}, note ${types.note}, bin ${types.bin})`;
}

function bytes(engine: EngineName, hex: string): string {
  return engine === 'postgres' ? `'\\x${hex}'::bytea` : `X'${hex}'`;
}

/** Even keys 2 … 2 × ROWS: an odd key is a new row in the middle. */
function seedItems(engine: EngineName): string[] {
  const out: string[] = [];
  for (let from = 1; from <= ROWS; from += 1000) {
    const values: string[] = [];
    for (let i = from; i < from + 1000 && i <= ROWS; i++) {
      values.push(
        `(${i * 2}, 'item ${i}', '${i}.10', '2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00.123456', ${i % 10 === 0 ? 'NULL' : `'note ${i}'`}, ${bytes(engine, (i % 256).toString(16).padStart(2, '0') + 'ff')})`,
      );
    }
    out.push(`INSERT INTO items (id, name, amount, at, note, bin) VALUES ${values.join(', ')}`);
  }
  return out;
}

async function sourceDb(engine: EngineName, dir: string): Promise<TestDb> {
  return engine === 'sqlite' ? sqliteDb(join(dir, `source-${Math.random().toString(36).slice(2)}.db`)) : createTestDb(engine, dir);
}

/** PostgreSQL's xmin of each row: the transaction that last wrote it, so an unwritten row keeps it. */
async function rowVersions(db: TestDb): Promise<Map<string, string>> {
  return new Map((await db.rows('SELECT id::text, xmin::text FROM items')).map((r) => [r[0] as string, r[1] as string]));
}

type Applied = { inserted: number; updated: number; deleted: number; unchanged: number };

describe.each(PAIRS)('delta %s → %s', (sourceEngine, targetEngine) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  const same = sourceEngine === targetEngine;
  const job = (mode: string, extra: Record<string, unknown> = {}) =>
    writeJob(
      dir,
      { name: `items ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode }], options: { verify: 'checksum', schema: 'tables', ...extra } },
      `${mode}.json`,
    );
  const expectTargetEqualsSource = async () => {
    const sql = (db: TestDb) => `SELECT id, name, amount, at, note, ${db.engine === 'postgres' ? "encode(bin, 'hex')" : 'CASE WHEN bin IS NULL THEN NULL ELSE lower(hex(bin)) END'} FROM items ORDER BY id`;
    const [t, s] = [await target.rows(sql(target)), await source.rows(sql(source))];
    if (process.env.DELTA_DEBUG) {
      const norm = (r: unknown[]) => JSON.stringify(r.map((v) => (v === null ? null : String(v))));
      const sset = new Set(s.map(norm));
      console.log('target-only', t.map(norm).filter((x) => !sset.has(x)).slice(0, 5), 'source sample', s.slice(0, 2).map(norm));
    }
    expect(digest(t)).toEqual(digest(s));
  };
  const run = async (mode: string, extra: Record<string, unknown> = {}) => {
    // Range hashes are what this file tests (between PostgreSQL servers a run could find the rows by their versions: sync-versions.test.ts).
    const r = await dbferry(['run', job(mode, extra), '--json', '--state', state], { env: { ...process.env, DBFERRY_ROW_VERSIONS: '0' } });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const summary = r.events.at(-1) as unknown as { rowsRead: number; tables: Array<{ applied?: Applied; path?: string; verified?: string }> };
    const compared = r.events.find((e) => e.type === 'compared') as unknown as { delta: boolean; rowsToStage?: number; ranges?: number; path: string } | undefined;
    const plan = r.events.find((e) => e.type === 'plan') as unknown as { tables: Array<{ path?: string }> };
    return { runId: r.events[0].runId as string, applied: summary.tables[0].applied!, rowsRead: summary.rowsRead, compared, plan: plan.tables[0].path ?? '', summary, stdout: r.stdout };
  };

  beforeAll(async () => {
    source = await sourceDb(sourceEngine, dir);
    target = await createTestDb(targetEngine, dir);
    await source.exec(createItems(sourceEngine, same && sourceEngine === 'postgres'));
    for (const sql of seedItems(sourceEngine)) await source.exec(sql);
    if (sourceEngine === 'postgres') await source.exec('ANALYZE items');
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('stages only the key ranges that differ, misses no kind of change, and plan --diff says what the run does', async () => {
    const first = await run('replace');
    expect(first.compared).toBeUndefined();
    await expectTargetEqualsSource();
    if (targetEngine === 'postgres') await target.exec('ANALYZE items');

    // Nothing changed: nothing staged, nothing written.
    const versions = targetEngine === 'postgres' ? await rowVersions(target) : undefined;
    for (const mode of ['upsert', 'mirror']) {
      const again = await run(mode);
      expect(again.plan).toMatch(/^delta/);
      expect(again.compared?.delta, again.compared?.path).toBe(true);
      expect(again.compared?.rowsToStage).toBe(0);
      expect(again.rowsRead).toBe(0);
      expect(again.applied).toEqual({ inserted: 0, updated: 0, deleted: 0, unchanged: ROWS });
      expect(again.summary.tables[0].verified).toBe('checksum');
    }
    if (versions) expect(await rowVersions(target)).toEqual(versions);

    const changes = [
      "UPDATE items SET name = 'renamed' WHERE id = 6",
      'DELETE FROM items WHERE id = 40',
      // A new key in the middle, and one past the last.
      `INSERT INTO items (id, name, amount, at, note, bin) VALUES (21, 'new', '1.5', '2025-01-01 00:00:00.654321', NULL, NULL)`,
      `INSERT INTO items (id, name, amount, at, note, bin) VALUES (${ROWS * 2 + 1}, 'last', '2', '2025-01-01 00:00:00.000001', '', ${bytes(sourceEngine, '00')})`,
      // Only a NULL.
      'UPDATE items SET note = NULL WHERE id = 1002',
      // Only '' where there was a NULL.
      "UPDATE items SET note = '' WHERE id = 1200",
      // Only a timestamp's fraction, by a microsecond.
      "UPDATE items SET at = '2024-01-07 10:00:00.123457' WHERE id = 1600",
      // Only the case.
      "UPDATE items SET name = 'ITEM 1000' WHERE id = 2000",
      // Only trailing zeros of a decimal in text: a change there.
      "UPDATE items SET note = 'note 1.50' WHERE id = 2400",
      // Only bytes.
      `UPDATE items SET bin = ${bytes(sourceEngine, '0102')} WHERE id = 2800`,
      // Trailing zeros of a decimal are a change only where the target keeps them (an unconstrained numeric).
      ...(same && sourceEngine === 'postgres' ? ["UPDATE items SET amount = '1700.1' WHERE id = 3400"] : []),
    ];
    const changedIds = [6, 1002, 1200, 1600, 2000, 2400, 2800, ...(same && sourceEngine === 'postgres' ? [3400] : [])];
    for (const sql of changes) await source.exec(sql);

    // plan --diff: what the mirror will do, nothing written.
    const before = targetEngine === 'postgres' ? await rowVersions(target) : undefined;
    const planned = await dbferry(['plan', job('mirror'), '--diff', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    const diff = (planned.events[0] as unknown as { tables: Array<{ diff: Applied & { examples: { updated: Array<{ key: string; columns: string[] }>; inserted: string[]; deleted: string[] } } }> }).tables[0].diff;
    expect({ inserted: diff.inserted, updated: diff.updated, deleted: diff.deleted }).toEqual({ inserted: 2, updated: changedIds.length, deleted: 1 });
    expect(diff.unchanged).toBe(ROWS - 1 - changedIds.length);
    expect(diff.examples.inserted).toEqual(['21', String(ROWS * 2 + 1)]);
    expect(diff.examples.deleted).toEqual(['40']);
    expect(diff.examples.updated[0]).toEqual({ key: '6', columns: ['name'] });
    if (before) expect(await rowVersions(target)).toEqual(before);
    const text = await dbferry(['plan', job('mirror'), '--diff']);
    expect(text.stdout).toContain(`diff: 2 to insert, ${changedIds.length} to update, 1 to delete`);
    expect(text.stdout).toContain('update: key 6 (name)');

    const mirror = await run('mirror');
    expect(mirror.compared?.delta, mirror.compared?.path).toBe(true);
    // What plan --diff said is what the run did.
    expect(mirror.applied).toEqual({ inserted: diff.inserted, updated: diff.updated, deleted: diff.deleted, unchanged: diff.unchanged });
    // Only the ranges around the changes were staged.
    expect(mirror.rowsRead).toBeGreaterThanOrEqual(2 + changedIds.length);
    // At most the buckets (of about 8 rows) that hold a change.
    expect(mirror.rowsRead).toBeLessThanOrEqual((changedIds.length + 3) * 16);
    expect(mirror.summary.tables[0].verified).toBe('checksum');
    expect(mirror.summary.tables[0].path).toMatch(/^delta: range hashes/);
    await expectTargetEqualsSource();
    if (before) {
      const after = await rowVersions(target);
      const rewritten = [...after].filter(([id, xmin]) => before.get(id) !== xmin).map(([id]) => Number(id));
      expect(rewritten.sort((a, b) => a - b)).toEqual([...changedIds, 21, ROWS * 2 + 1].sort((a, b) => a - b));
    }

    // Upsert keeps a key the source lacks; the next delta run stages that range again and leaves it.
    await source.exec('DELETE FROM items WHERE id = 100');
    const upsert = await run('upsert');
    expect(upsert.applied).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    expect((await target.rows('SELECT count(*) FROM items WHERE id = 100'))[0].map(Number)).toEqual([1]);
    await run('mirror');
    await expectTargetEqualsSource();

    // options.compare "never": every row is staged, the same rows written.
    await source.exec("UPDATE items SET name = 'never' WHERE id = 8");
    const never = await run('mirror', { compare: 'never' });
    expect(never.compared).toBeUndefined();
    expect(never.rowsRead).toBe(ROWS);
    expect(never.applied).toMatchObject({ inserted: 0, updated: 1, deleted: 0 });
    await expectTargetEqualsSource();
  });

  it('falls back to the full copy when most rows differ, and says so', async () => {
    await source.exec("UPDATE items SET note = concat('changed ', id) WHERE id > 100");
    const r = await run('mirror');
    expect(r.compared?.delta).toBe(false);
    expect(r.compared?.path).toMatch(/^full copy.*% of the rows lie in key ranges that differ/);
    expect(r.summary.tables[0].path).toMatch(/^full copy/);
    await expectTargetEqualsSource();
    // "always" compares all the same.
    await source.exec("UPDATE items SET note = concat('again ', id) WHERE id > 100");
    const always = await run('mirror', { compare: 'always' });
    expect(always.compared?.delta).toBe(true);
    await expectTargetEqualsSource();
  });

  it.runIf(targetEngine === 'postgres' && sourceEngine !== 'sqlite')('resumes a delta run killed at any point to the exact target', async () => {
    const points: Array<[string, number]> = [
      ['compared', 0],
      ['table-staged', 0],
      ['apply-started', 0],
    ];
    for (const [i, [at, delayMs]] of points.entries()) {
      await source.exec(`UPDATE items SET note = 'kill ${i}' WHERE id = ${200 + i * 400}`);
      await source.exec(`DELETE FROM items WHERE id = ${202 + i * 400}`);
      const killed = await dbferryUntil(['run', job('mirror'), '--state', state], (e) => e.type === at, (c) => void c.kill('SIGKILL'), { delayMs });
      const name = `${at} +${delayMs} ms`;
      expect(killed.triggered, `${name}: ${killed.stderr}`).toBe(true);
      if (killed.signal === 'SIGKILL') {
        const resumed = await dbferry(['resume', killed.events[0].runId as string, '--json', '--state', state]);
        const finished = resumed.code === 2 && /nothing to resume/.test(resumed.stderr);
        if (!finished) expect(resumed.code, `${name}: ${resumed.stderr}`).toBe(0);
      }
      await expectTargetEqualsSource();
    }
  });

  it.runIf(sourceEngine === 'postgres' && targetEngine === 'postgres')('compares within "where": a mirror of a filtered source', async () => {
    const where = 'id <= 2000';
    const filtered = async () => (await target.rows('SELECT count(*) FROM items'))[0].map(Number)[0];
    const first = await run('mirror', {});
    expect(first.compared?.delta).toBe(true);
    const spec = (extra: Record<string, unknown>) =>
      writeJob(dir, { name: 'items where', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode: 'mirror', where }], options: { verify: 'checksum', schema: 'tables', ...extra } }, 'where.json');
    // The first run with the filter deletes what lies outside it.
    let r = await dbferry(['run', spec({}), '--json', '--state', state], { env: { DBFERRY_ROW_VERSIONS: '0' } });
    expect(r.code, r.stderr).toBe(0);
    const inSource = Number((await source.rows(`SELECT count(*) FROM items WHERE ${where}`))[0][0]);
    expect(await filtered()).toBe(inSource);
    // Then a change inside the filter: found by range hashes, a few rows staged.
    await source.exec("UPDATE items SET name = 'where' WHERE id = 1500");
    r = await dbferry(['run', spec({}), '--json', '--state', state], { env: { DBFERRY_ROW_VERSIONS: '0' } });
    expect(r.code, r.stderr).toBe(0);
    const compared = r.events.find((e) => e.type === 'compared') as unknown as { delta: boolean; rowsToStage: number };
    expect(compared.delta).toBe(true);
    expect(compared.rowsToStage).toBeLessThanOrEqual(16);
    const summary = r.events.at(-1) as unknown as { tables: Array<{ applied: Applied; verified: string }> };
    expect(summary.tables[0].applied).toMatchObject({ inserted: 0, updated: 1, deleted: 0 });
    expect(summary.tables[0].verified).toBe('checksum');
    expect((await target.rows("SELECT name FROM items WHERE id = 1500"))[0][0]).toBe('where');
  });
});
