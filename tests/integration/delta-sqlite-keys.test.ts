/**
 * Compare before copying with a SQLite side and a key that is not one integer
 * column (a text key, a text + integer key): SQLite hashes its rows in
 * process and reads its differing key buckets with dbferry's key-hash
 * function, the same hash PostgreSQL and MariaDB compute in SQL. Nothing
 * changed: nothing staged. Every kind of change found, the target equal to
 * the source after the run, `plan --diff` counting what the run does; a key
 * column of another type takes the full path and the plan says why.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';

process.env.DBFERRY_COMPARE_ROWS = '8';

const ROWS = 1500;
const PAIRS: Array<[EngineName, EngineName]> = [
  ['postgres', 'sqlite'],
  ['sqlite', 'mysql'],
];
const TABLES = ['codes', 'pairs'] as const;
type Applied = { inserted: number; updated: number; deleted: number; unchanged: number };

function ddl(engine: EngineName): string[] {
  const ci = engine === 'mysql' ? ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin' : '';
  const text = engine === 'sqlite' ? 'TEXT' : 'varchar(20)';
  return [
    `CREATE TABLE codes (code ${text}${ci} NOT NULL PRIMARY KEY, name ${text}, n int)`,
    `CREATE TABLE pairs (region ${text}${ci} NOT NULL, seq int NOT NULL, val ${text}, PRIMARY KEY (region, seq))`,
  ];
}

const CHANGES = [
  "UPDATE codes SET name = 'changed' WHERE code = 'k0005'",
  "DELETE FROM codes WHERE code = 'k0007'",
  "INSERT INTO codes (code, name, n) VALUES ('k0007x', 'new', 7)",
  "UPDATE codes SET code = 'K0011' WHERE code = 'k0011'",
  "UPDATE codes SET name = NULL WHERE code = 'k0020'",
  "UPDATE codes SET name = 'Größe ✓' WHERE code = 'k0900'",
  "UPDATE pairs SET val = 'changed' WHERE region = 'south' AND seq = 4",
  "DELETE FROM pairs WHERE region = 'north' AND seq = 3",
  "INSERT INTO pairs (region, seq, val) VALUES ('west', 3, 'new')",
];

describe.each(PAIRS)('delta by key buckets %s → %s', (sourceEngine, targetEngine) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  const job = (mode: string, extra: Record<string, unknown> = {}) =>
    writeJob(dir, { name: `lite keys ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: TABLES.map((t) => ({ source: t, mode })), options: { verify: 'checksum', ...extra } }, `${mode}.json`);
  const run = async (mode: string, extra: Record<string, unknown> = {}) => {
    const r = await dbferry(['run', job(mode, extra), '--json', '--state', state]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const summary = r.events.at(-1) as unknown as { tables: Array<{ applied?: Applied; verified?: string }> };
    const compared = r.events.filter((e) => e.type === 'compared') as unknown as Array<{ table: string; delta: boolean; path: string; rowsToStage?: number }>;
    return { summary, compared };
  };
  const rowsOf = async (db: TestDb, table: (typeof TABLES)[number]) => {
    const cols = { codes: 'code, name, n', pairs: 'region, seq, val' }[table];
    return (await db.rows(`SELECT ${cols} FROM ${table}`)).map((r) => JSON.stringify(r.map((v) => (v === null ? null : String(v))))).sort();
  };

  beforeAll(async () => {
    [source, target] = await Promise.all([createTestDb(sourceEngine, dir), createTestDb(targetEngine, dir)]);
    for (const sql of ddl(sourceEngine)) await source.exec(sql);
    for (const sql of ddl(targetEngine)) await target.exec(sql);
    const range = Array.from({ length: ROWS }, (_, i) => i + 1);
    await source.exec(`INSERT INTO codes (code, name, n) VALUES ${range.map((i) => `('k${String(i).padStart(4, '0')}', 'name ${i}', ${i})`).join(', ')}`);
    await source.exec(`INSERT INTO pairs (region, seq, val) VALUES ${range.map((i) => `('${['north', 'south', 'East'][i % 3]}', ${i}, 'v${i}')`).join(', ')}`);
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('compares by key buckets, stages only what differs, and plan --diff says what the run does', async () => {
    await run('mirror', { compare: 'never' });
    const same = await run('mirror');
    for (const c of same.compared) {
      expect(c.delta, `${c.table}: ${c.path}`).toBe(true);
      expect(c.rowsToStage, c.path).toBe(0);
    }
    expect(same.compared).toHaveLength(TABLES.length);

    for (const sql of CHANGES) await source.exec(sql);
    const planned = await dbferry(['plan', job('mirror'), '--diff', '--json']);
    const mirror = await run('mirror');
    for (const c of mirror.compared) {
      expect(c.delta, c.path).toBe(true);
      expect(c.rowsToStage, c.path).toBeLessThan(ROWS / 4);
    }
    for (const t of TABLES) expect(await rowsOf(target, t), t).toEqual(await rowsOf(source, t));
    const applied = mirror.summary.tables.map((t) => t.applied!);
    expect(applied[0]).toMatchObject({ inserted: 2, updated: 3, deleted: 2 });
    expect(applied[1]).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });
    for (const t of mirror.summary.tables) expect(t.verified).toBe('checksum');
    expect(planned.code, planned.stderr).toBe(0);
    const diffs = (planned.events[0] as unknown as { tables: Array<{ diff: Applied }> }).tables.map((t) => t.diff);
    for (const [i, d] of diffs.entries()) expect({ inserted: d.inserted, updated: d.updated, deleted: d.deleted, unchanged: d.unchanged }, TABLES[i]).toEqual(applied[i]);

    // And again: nothing left to do.
    const after = await run('mirror');
    for (const c of after.compared) expect(c.rowsToStage, c.path).toBe(0);
  }, 120_000);
});

describe('a SQLite key column of another type', () => {
  const dir = tempDir();
  let source: TestDb;
  let target: TestDb;
  beforeAll(async () => {
    [source, target] = await Promise.all([createTestDb('postgres', dir), createTestDb('sqlite', dir)]);
    await source.exec('CREATE TABLE days (d date NOT NULL, k varchar(8) NOT NULL, v int, PRIMARY KEY (d, k))');
    await target.exec('CREATE TABLE days (d DATE NOT NULL, k TEXT NOT NULL, v INTEGER, PRIMARY KEY (d, k))');
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('takes the full path, and the plan says why', async () => {
    const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'days', mode: 'mirror' }] }, 'days.json');
    const r = await dbferry(['plan', job, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [t] = (r.events[0] as unknown as { tables: Array<{ path: string }> }).tables;
    expect(t.path).toMatch(/not compared first: key column "d" \(DATE\) of a SQLite table: SQLite hashes key buckets of text or integer columns only/);
  });
});
