/**
 * Compare before copying for keys that are not one integer column (buckets of
 * a hash of the key, compareKeys.ts): a varchar key in MariaDB's
 * utf8mb4_general_ci ('a' = 'A', 'a' = 'a ') against PostgreSQL's exact text,
 * keys that change only in case or trailing spaces, a composite (text, int)
 * key, a uuid key, a char(3) key. A changed row, a deleted key and an inserted
 * key are each found, and a mirror never deletes a row the source has: the
 * target equals the source after each run. Buckets of a few rows
 * (DBFERRY_COMPARE_ROWS) so that bisection really happens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';

process.env.DBFERRY_COMPARE_ROWS = '8';

const PAIRS: Array<[EngineName, EngineName]> = [
  ['mysql', 'postgres'],
  ['postgres', 'mysql'],
  ['postgres', 'postgres'],
  ['mysql', 'mysql'],
];
const ROWS = 1200;
const TABLES = ['codes', 'pairs', 'ids', 'countries'] as const;

function ddl(engine: EngineName): string[] {
  const ci = engine === 'mysql' ? ' CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci' : '';
  return [
    `CREATE TABLE codes (code varchar(20)${ci} PRIMARY KEY, name varchar(40), n int)`,
    `CREATE TABLE pairs (region varchar(10)${ci} NOT NULL, seq int NOT NULL, val varchar(40), PRIMARY KEY (region, seq))`,
    `CREATE TABLE ids (id uuid PRIMARY KEY, val varchar(40))`,
    `CREATE TABLE countries (iso char(3)${ci} PRIMARY KEY, name varchar(40))`,
  ];
}

const uuid = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${(i * 7919).toString(16).padStart(12, '0')}`;
const iso = (i: number) => `${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}${i % 10}`;

function seed(): string[] {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  return [
    `INSERT INTO codes (code, name, n) VALUES ${range(ROWS).map((i) => `('k${String(i).padStart(4, '0')}', 'name ${i}', ${i})`).join(', ')}`,
    `INSERT INTO pairs (region, seq, val) VALUES ${range(ROWS).map((i) => `('${['north', 'south', 'East'][i % 3]}', ${i}, 'v${i}')`).join(', ')}`,
    `INSERT INTO ids (id, val) VALUES ${range(ROWS).map((i) => `('${uuid(i)}', 'u${i}')`).join(', ')}`,
    `INSERT INTO countries (iso, name) VALUES ${range(600).map((i) => `('${iso(i)}', 'c${i}')`).join(', ')}`,
  ];
}

/** Every kind of change, keys that change only in case or trailing spaces among them. */
const CHANGES = [
  "UPDATE codes SET name = 'changed' WHERE code = 'k0005'",
  "DELETE FROM codes WHERE code = 'k0007'",
  "INSERT INTO codes (code, name, n) VALUES ('k0007x', 'new', 7)",
  "UPDATE codes SET code = 'K0011' WHERE code = 'k0011'",
  "UPDATE codes SET name = 'NAME 20' WHERE code = 'k0020'",
  "UPDATE pairs SET val = 'changed' WHERE region = 'south' AND seq = 4",
  "DELETE FROM pairs WHERE region = 'north' AND seq = 3",
  "INSERT INTO pairs (region, seq, val) VALUES ('west', 3, 'new')",
  "UPDATE pairs SET region = 'EAST' WHERE region = 'East' AND seq = 5",
  `UPDATE ids SET val = 'changed' WHERE id = '${uuid(9)}'`,
  `DELETE FROM ids WHERE id = '${uuid(10)}'`,
  `INSERT INTO ids (id, val) VALUES ('${uuid(99999)}', 'new')`,
  `UPDATE countries SET name = 'changed' WHERE iso = '${iso(30)}'`,
  `DELETE FROM countries WHERE iso = '${iso(31)}'`,
  "INSERT INTO countries (iso, name) VALUES ('ZZZ', 'new')",
];

type Applied = { inserted: number; updated: number; deleted: number; unchanged: number };

describe.each(PAIRS)('delta by key buckets %s → %s', (sourceEngine, targetEngine) => {
  const dir = tempDir();
  const state = `${dir}/state`;
  let source: TestDb;
  let target: TestDb;
  const padSpace = targetEngine === 'mysql';
  const bothPg = sourceEngine === 'postgres' && targetEngine === 'postgres';
  const job = (mode: string, extra: Record<string, unknown> = {}) =>
    writeJob(
      dir,
      { name: `keys ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: TABLES.map((t) => ({ source: t, mode })), options: { verify: 'checksum', schema: 'tables', ...extra } },
      `${mode}.json`,
    );
  const run = async (mode: string, extra: Record<string, unknown> = {}) => {
    const r = await dbferry(['run', job(mode, extra), '--json', '--state', state]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const summary = r.events.at(-1) as unknown as { tables: Array<{ table?: string; source?: string; applied?: Applied; path?: string; verified?: string }> };
    const compared = r.events.filter((e) => e.type === 'compared') as unknown as Array<{ table: string; delta: boolean; path: string; rowsToStage?: number }>;
    return { summary, compared };
  };
  /** The table's rows as text, sorted. */
  const rowsOf = async (db: TestDb, table: (typeof TABLES)[number]) => {
    const cols = { codes: 'code, name, n', pairs: 'region, seq, val', ids: 'id, val', countries: 'iso, name' }[table];
    const rows = (await db.rows(`SELECT ${cols} FROM ${table}`)).map((r) => r.map((v) => (v === null ? null : String(v))));
    return rows.map((r) => JSON.stringify(r)).sort();
  };
  const expectTargetEqualsSource = async () => {
    for (const t of TABLES) expect(await rowsOf(target, t), t).toEqual(await rowsOf(source, t));
  };

  beforeAll(async () => {
    source = await createTestDb(sourceEngine, dir);
    target = await createTestDb(targetEngine, dir);
    for (const sql of [...ddl(sourceEngine), ...seed()]) await source.exec(sql);
    // Keys that differ only in case or trailing spaces, side by side (PostgreSQL keeps them apart).
    if (bothPg) await source.exec("INSERT INTO codes (code, name, n) VALUES ('Case', 'c1', 1), ('case', 'c2', 2), ('CASE', 'c3', 3), ('pad', 'p1', 1), ('pad ', 'p2', 2), ('pad  ', 'p3', 3)");
    for (const sql of ddl(targetEngine)) await target.exec(sql);
    if (sourceEngine === 'postgres') await source.exec('ANALYZE');
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('finds every change by key buckets and never deletes a row the source has', async () => {
    await run('mirror', { compare: 'never' });
    await expectTargetEqualsSource();

    // Nothing changed: every table compared, nothing staged.
    const again = await run('mirror');
    for (const c of again.compared) {
      expect(c.delta, `${c.table}: ${c.path}`).toBe(true);
      expect(c.rowsToStage, c.table).toBe(0);
    }
    expect(again.compared).toHaveLength(TABLES.length);

    for (const sql of CHANGES) await source.exec(sql);
    // A key that changes only by trailing spaces: MariaDB's PAD SPACE keys cannot tell it (the full copy neither).
    if (!padSpace) await source.exec("UPDATE codes SET code = 'k0013 ' WHERE code = 'k0013'");
    // Only one of each family changes: a mirror must leave its neighbours as they are.
    if (bothPg) for (const sql of ["UPDATE codes SET name = 'x' WHERE code = 'case'", "DELETE FROM codes WHERE code = 'pad '", "INSERT INTO codes (code, name, n) VALUES ('Pad', 'p0', 0)"]) await source.exec(sql);
    const planned = await dbferry(['plan', job('mirror'), '--diff', '--json']);
    const mirror = await run('mirror');
    for (const c of mirror.compared) expect(c.delta, `${c.table}: ${c.path}`).toBe(true);
    await expectTargetEqualsSource();
    const applied = mirror.summary.tables.map((t) => t.applied!);
    // codes: a key's case-only (and trailing-space) change is a delete and an insert; into MariaDB's
    // _ci key, where the changed key is the same key, it updates that row's key to the source's bytes.
    expect(applied[0]).toMatchObject(padSpace ? { inserted: 1, updated: 3, deleted: 1 } : bothPg ? { inserted: 4, updated: 3, deleted: 4 } : { inserted: 3, updated: 2, deleted: 3 });
    // pairs: 'East' → 'EAST' likewise (one update into MariaDB).
    expect(applied[1]).toMatchObject(padSpace ? { inserted: 1, updated: 2, deleted: 1 } : { inserted: 2, updated: 1, deleted: 2 });
    expect(applied[2]).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });
    expect(applied[3]).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });
    for (const t of mirror.summary.tables) expect(t.verified).toBe('checksum');
    {
      expect(planned.code, planned.stderr).toBe(0);
      const diffs = (planned.events[0] as unknown as { tables: Array<{ diff: Applied }> }).tables.map((t) => t.diff);
      for (const [i, d] of diffs.entries()) {
        // plan --diff pairs keys by the target's key equality: the case-only change a _ci target updates is one update there too.
        expect({ inserted: d.inserted, updated: d.updated, deleted: d.deleted, unchanged: d.unchanged }, TABLES[i]).toEqual(applied[i]);
      }
    }

    // Upsert keeps what the source lacks; a mirror then deletes it, and nothing else.
    await source.exec("DELETE FROM codes WHERE code = 'k0100'");
    await source.exec("UPDATE codes SET name = 'later' WHERE code = 'k0101'");
    const upsert = await run('upsert');
    expect(upsert.summary.tables[0].applied).toMatchObject({ inserted: 0, updated: 1, deleted: 0 });
    const last = await run('mirror');
    expect(last.summary.tables[0].applied).toMatchObject({ inserted: 0, updated: 0, deleted: 1 });
    await expectTargetEqualsSource();
  }, 180_000);

  it.runIf(sourceEngine === 'mysql' && targetEngine === 'postgres')('resumes a run by key buckets killed at any point to the exact target', async () => {
    for (const [i, at] of ['compared', 'table-staged', 'apply-started'].entries()) {
      await source.exec(`UPDATE codes SET name = 'kill ${i}' WHERE code = 'k0${300 + i * 100}'`);
      await source.exec(`DELETE FROM pairs WHERE region = 'south' AND seq = ${302 + i * 3}`);
      const killed = await dbferryUntil(['run', job('mirror'), '--state', state], (e) => e.type === at, (c) => void c.kill('SIGKILL'));
      expect(killed.triggered, `${at}: ${killed.stderr}`).toBe(true);
      if (killed.signal === 'SIGKILL') {
        const resumed = await dbferry(['resume', killed.events[0].runId as string, '--json', '--state', state]);
        if (!(resumed.code === 2 && /nothing to resume/.test(resumed.stderr))) expect(resumed.code, `${at}: ${resumed.stderr}`).toBe(0);
      }
      await expectTargetEqualsSource();
    }
  }, 180_000);
});

describe('key buckets only where the key normalization is the target’s own equality', () => {
  const dir = tempDir();
  let source: TestDb;
  let target: TestDb;
  let sqlite: TestDb;
  beforeAll(async () => {
    source = await createTestDb('postgres', dir);
    target = await createTestDb('postgres', dir);
    sqlite = await createTestDb('sqlite', dir);
    for (const t of ['uc', 'fx', 'ok']) await source.exec(`CREATE TABLE ${t} (k ${t === 'uc' ? 'uuid' : 'char(4)'} PRIMARY KEY, v int)`);
    // A uuid into case-sensitive text, char(4) into varchar (trailing spaces count there), char(4) into char(4).
    for (const [t, type] of [['uc', 'varchar(36)'], ['fx', 'varchar(4)'], ['ok', 'char(4)']]) await target.exec(`CREATE TABLE ${t} (k ${type} PRIMARY KEY, v int)`);
    await sqlite.exec('CREATE TABLE ok (k TEXT PRIMARY KEY, v INTEGER)');
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('says in the plan why a table is not compared first', async () => {
    const plan = async (into: TestDb, tables: string[]) => {
      const job = writeJob(dir, { source: { url: source.url }, target: { url: into.url }, tables: tables.map((t) => ({ source: t, mode: 'mirror' })), options: { schema: 'tables' } }, `plan-${into.engine}.json`);
      const r = await dbferry(['plan', job, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return (r.events[0] as unknown as { tables: Array<{ path: string }> }).tables.map((t) => t.path);
    };
    const [uc, fx, ok] = await plan(target, ['uc', 'fx', 'ok']);
    expect(uc).toMatch(/not compared first: key column "k" is a uuid compared in lower case/);
    expect(fx).toMatch(/not compared first: key column "k" is compared without trailing spaces/);
    expect(ok).toMatch(/^delta/);
    const [lite] = await plan(sqlite, ['ok']);
    expect(lite).toMatch(/not compared first: key column "k" is compared without trailing spaces/);
  });
});
