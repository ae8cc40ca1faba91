/**
 * A comparison's first level hashed in two halves of the key on two sessions
 * a side (splitHashes: a MariaDB or PostgreSQL hash statement runs on one core). The
 * helper of the source joins the run's snapshot with the run's own session
 * (lanes.ts beginSnapshot): it must not see a commit made after the snapshot,
 * and the halves must find exactly what one session finds: every bucket once,
 * a change below and above the middle, a deleted key, a key only the target
 * has, with a `where` on the source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJobSpec, type JobSpec } from '../../src/shared/jobSpec.js';
import { openEndpoint } from '../../src/main/engine/connect.js';
import { Endpoint } from '../../src/main/engine/pipeline/endpoint.js';
import { buildPlan } from '../../src/main/engine/pipeline/plan.js';
import { compareEligibility, compareTable, type CompareResult } from '../../src/main/engine/pipeline/compare.js';
import { openLanes } from '../../src/main/engine/workers/lanes.js';
import type { Session } from '../../src/main/engine/dialects/dialect.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';
import { createPgDatabase, pgExec, type PgTestDatabase } from '../helpers/postgres.js';
import { join } from 'node:path';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

let my: MysqlTestDatabase;
let pgdb: PgTestDatabase;
const open: Session[] = [];

const ROWS = 20_000;

beforeAll(async () => {
  [my, pgdb] = await Promise.all([createMysqlDatabase('dbferry_split'), createPgDatabase('dbferry_split')]);
  // In each database: t_src as the source has it, t_tgt as the target has it.
  for (const t of ['t_src', 't_tgt']) {
    await my.admin.query(`CREATE TABLE ${t} (id bigint NOT NULL PRIMARY KEY, name varchar(20) NOT NULL, n int NULL, at datetime(3) NOT NULL) CHARSET utf8mb4 COLLATE utf8mb4_general_ci`);
    await my.admin.query(`INSERT INTO ${t} SELECT seq, CONCAT('Row ', seq), IF(seq % 7 = 0, NULL, seq), '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_${ROWS}`);
    await pgExec(pgdb.url, `CREATE TABLE ${t} (id bigint PRIMARY KEY, name varchar(20) NOT NULL, n int, at timestamp(3) NOT NULL)`);
    await pgExec(pgdb.url, `INSERT INTO ${t} SELECT g, 'Row ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE g END, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, ${ROWS}) g`);
  }
  // Below the middle: a case-only change and a NULL; above it: a fraction of a second, a deleted key; past the end: a key only the target has.
  const changes = [
    "UPDATE t_tgt SET name = 'row 100' WHERE id = 100",
    'UPDATE t_tgt SET n = NULL WHERE id = 9001',
    'DELETE FROM t_tgt WHERE id = 19999',
    `INSERT INTO t_tgt VALUES (${ROWS + 500}, 'extra', 1, '2025-01-01')`,
  ];
  for (const sql of changes) {
    await my.admin.query(sql);
    await pgExec(pgdb.url, sql);
  }
  await my.admin.query('UPDATE t_tgt SET at = at + INTERVAL 1000 MICROSECOND WHERE id = 15000');
  await pgExec(pgdb.url, "UPDATE t_tgt SET at = at + interval '1 millisecond' WHERE id = 15000");
});

afterAll(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
  await Promise.allSettled([my?.drop(), pgdb?.drop()]);
});

type Direction = 'mysql → postgres' | 'postgres → mysql';

const urls = (d: Direction) => (d === 'mysql → postgres' ? { from: my.url, to: pgdb.url } : { from: pgdb.url, to: my.url });

function spec(d: Direction, where?: string): JobSpec {
  const { from, to } = urls(d);
  const parsed = parseJobSpec({ name: 'split', source: { url: from }, target: { url: to }, tables: [{ source: 't_src', target: 't_tgt', mode: 'mirror', ...(where ? { where } : {}) }] });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

async function session(url: string, role: 'source' | 'target'): Promise<Session> {
  const s = await openEndpoint(url, { baseDir: process.cwd(), role, statementTimeoutMs: 60_000 });
  open.push(s);
  return s;
}

async function endpoint(url: string, role: 'source' | 'target'): Promise<Endpoint> {
  const e = await Endpoint.open(url, { baseDir: process.cwd(), role, statementTimeoutMs: 60_000 });
  open.push(e.session);
  return e;
}

async function compare(d: Direction, where: string | undefined, helpers: boolean): Promise<CompareResult> {
  const j = spec(d, where);
  const { from, to } = urls(d);
  const source = await endpoint(from, 'source');
  const target = await endpoint(to, 'target');
  const plan = (await buildPlan(j, source.session, target.session)).tables[0];
  const eligible = compareEligibility(plan, source.session, target.session);
  if (!('kinds' in eligible)) throw new Error(eligible.reason);
  let helper: Session | undefined;
  if (helpers) {
    helper = await session(from, 'source');
    const lanes = await openLanes({
      source,
      target,
      options: j.options,
      urls: { source: from, target: to },
      openOptions: { source: { baseDir: process.cwd(), role: 'source' }, target: { baseDir: process.cwd(), role: 'target' } },
      work: 1,
      allPassThrough: false,
      localServers: 2,
      inlineOnly: true,
      warn: () => undefined,
    });
    // MariaDB: begun while writes are held; PostgreSQL: the exported snapshot imported.
    expect(await lanes.beginSnapshot([helper])).toBe(true);
  } else {
    await source.session.beginSnapshot();
    // PostgreSQL takes a transaction's snapshot at its first statement.
    await source.session.query('SELECT 1');
  }
  // Committed after the snapshot: neither the run's session nor its helper may see it.
  // (A row: a bucket the first level finds changed is hashed again on the run's own session, which would hide a changed value.)
  const late = `INSERT INTO t_src VALUES (${ROWS + 100}, 'late', 1, '2025-01-01')`;
  const gone = `DELETE FROM t_src WHERE id = ${ROWS + 100}`;
  const exec = (sql: string) => (d === 'mysql → postgres' ? my.admin.query(sql) : pgExec(pgdb.url, sql));
  await exec(late);
  try {
    return await compareTable(plan, source.session, target.session, eligible.kinds, { helpers: helper ? { source: helper, target: await session(to, 'target') } : undefined });
  } finally {
    await exec(gone);
  }
}

/** The key spans a result's differing leaves cover ([first, last] key), in key order. */
function spans(r: CompareResult): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const range of r.ranges) {
    const lo = Number(range.buckets!.lo);
    for (const level of range.buckets?.levels ?? []) for (const id of level.ids) out.push([lo + Number(id) * Number(level.width), lo + (Number(id) + 1) * Number(level.width) - 1]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Single keys that differ, and the key only the target has (in a wider leaf past the source's keys). */
function expectChanges(r: CompareResult): void {
  const found = spans(r);
  expect(found.slice(0, 4)).toEqual([[100, 100], [9001, 9001], [15000, 15000], [19999, 19999]]);
  expect(found).toHaveLength(5);
  expect(found[4][0]).toBeGreaterThan(ROWS);
  expect(found[4][0] <= ROWS + 500 && ROWS + 500 <= found[4][1]).toBe(true);
}

describe.each(['mysql → postgres', 'postgres → mysql'] as const)('a first level hashed in two halves on two sessions a side: %s', (d) => {
  it('finds what one session finds: changes on both sides of the middle, a deleted key, a key only the target has; not a later commit', async () => {
    const one = await compare(d, undefined, false);
    const two = await compare(d, undefined, true);
    expectChanges(one);
    expectChanges(two);
    expect(two.sourceRows).toBe(ROWS);
    expect(two.targetRows).toBe(ROWS);
    expect({ ...two, levels: 0, halves: undefined }).toEqual({ ...one, levels: 0 });
    expect(two.halves?.sort()).toEqual(['source', 'target']);
  });

  it("keeps the source's where whole in both halves (an OR in it binds before the half's AND)", async () => {
    const where = 'n IS NULL OR n >= 0';
    const one = await compare(d, where, false);
    const two = await compare(d, where, true);
    expect(two.sourceRows).toBe(ROWS);
    expectChanges(two);
    expect({ ...two, levels: 0, halves: undefined }).toEqual({ ...one, levels: 0 });
  });
});

describe.each([
  ['mysql', 'postgres'],
  ['postgres', 'mysql'],
] as const)("a run whose sides hash in two halves (DBFERRY_SPLIT_HASHES=1; a PostgreSQL source's helper imports the snapshot): %s → %s", (sourceEngine, targetEngine) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  const N = 6_000;
  beforeAll(async () => {
    source = await createTestDb(sourceEngine, dir);
    target = await createTestDb(targetEngine, dir);
    if (sourceEngine === 'mysql') {
      await source.exec('CREATE TABLE items (id bigint NOT NULL PRIMARY KEY, name varchar(40) NOT NULL, qty int NULL) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci');
      await source.exec(`INSERT INTO items SELECT seq, CONCAT('item ', seq), seq % 7 FROM seq_1_to_${N}`);
    } else {
      await source.exec('CREATE TABLE items (id bigint PRIMARY KEY, name varchar(40) NOT NULL, qty int)');
      await source.exec(`INSERT INTO items SELECT g, 'item ' || g, g % 7 FROM generate_series(1, ${N}) g`);
    }
  }, 120_000);
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('puts back a change in each half and says how it hashed', async () => {
    const job = (mode: string) => writeJob(dir, { name: `split ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode }], options: { verify: 'checksum' } }, `${mode}.json`);
    const first = await dbferry(['run', job('replace'), '--json', '--state', state]);
    expect(first.code, first.stderr).toBe(0);
    const text = async (db: TestDb) => (await db.rows('SELECT id, name, qty FROM items ORDER BY id')).map((r) => r.map(String));
    const want = await text(source);
    await target.exec("UPDATE items SET name = 'Item 10' WHERE id = 10");
    await target.exec('UPDATE items SET qty = NULL WHERE id = 5001');
    await target.exec('DELETE FROM items WHERE id = 5999');
    const r = await dbferry(['run', job('mirror'), '--json', '--state', state], { env: { DBFERRY_SPLIT_HASHES: '1' } });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const summary = r.events.at(-1) as unknown as { tables: Array<{ applied: Record<string, number>; path: string; verified: string }> };
    expect(summary.tables[0].path).toContain("both sides' first level in two halves at once");
    expect(summary.tables[0].applied).toEqual({ inserted: 1, updated: 2, deleted: 0, unchanged: N - 3 });
    expect(summary.tables[0].verified).not.toBe('skipped');
    expect(await text(target)).toEqual(want);
  });
});
