/**
 * One suite for every source × target pair (PostgreSQL, MariaDB, SQLite), in
 * every mode, through the built CLI as a user runs it. The nasty-values
 * fixture is created natively in each source; after each run the target is
 * read back with the native drivers and compared value by value
 * (tests/helpers/compare.ts), never through dbferry's own code.
 *
 * Where a pair cannot hold a value exactly, the suite asserts what dbferry
 * does instead: `plan` names the column, `run` refuses (exit 2) until the spec
 * accepts it ("types" or "allowLossy"), or the row goes to the dead-letter
 * queue with its reason (exit 3). Nothing may change silently.
 *
 * Every (pair, mode) has its own target database, so all of them run
 * concurrently against three shared source databases.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob, type CliResult } from '../helpers/cli.js';
import { diffTables, readNative, type ColumnCheck } from '../helpers/compare.js';
import {
  ENGINES,
  FIXTURES,
  KEYED,
  KEYED_COLUMNS,
  KEYED_ROWS,
  NASTY,
  ODD,
  execNative,
  loadFixture,
  quoteFor,
  type Engine,
  type NativeTarget,
} from '../helpers/fixtures.js';
import { createMysqlDatabase } from '../helpers/mysql.js';
import { createPgDatabase } from '../helpers/postgres.js';

type Mode = 'replace' | 'append' | 'upsert' | 'mirror';
type Accept = { types?: Record<string, string>; allowLossy?: boolean };

interface PairExpectation {
  /** Columns of the nasty table `plan` must flag as lossy (by name), before anything is accepted. */
  lossy: string[];
  /** How the job accepts them: "types" overrides that keep every value, or allowLossy. */
  accept: Accept;
  /** Ids of the `odd` table the target cannot hold: dead-lettered with a reason. */
  deadOdd: number[];
}

/**
 * What each pair does with the traps. `accept` picks, per lossy column, the
 * override that keeps every value exactly where one exists.
 */
const PAIRS: Record<Engine, Record<Engine, PairExpectation>> = {
  postgres: {
    postgres: { lossy: [], accept: {}, deadOdd: [] },
    // numeric beyond DECIMAL(65,30) → kept as text; timestamptz → DATETIME as UTC wall-clock (accepted).
    // NaN, Infinity and the date 'infinity' have no MySQL form: dead-lettered.
    mysql: { lossy: ['num_free', 'tstz'], accept: { types: { num_free: 'longtext' }, allowLossy: true }, deadOdd: [1, 2, 3] },
    // SQLite would store NaN as NULL: dead-lettered instead.
    sqlite: { lossy: [], accept: {}, deadOdd: [1] },
  },
  mysql: {
    // zero date, zero datetime and TIME beyond 24h have no PostgreSQL form: dead-lettered.
    postgres: { lossy: [], accept: {}, deadOdd: [1, 2, 3] },
    // Every column keeps its own type (a TIMESTAMP stays a TIMESTAMP): nothing to accept.
    mysql: { lossy: [], accept: {}, deadOdd: [] },
    // BIGINT UNSIGNED above 2^63 does not fit SQLite's INTEGER: keep it as text.
    sqlite: { lossy: ['bu'], accept: { types: { bu: 'text' } }, deadOdd: [] },
  },
  sqlite: {
    // An untyped column's values become their text form (accepted). The odd rows
    // (text in INTEGER/REAL/DATE columns, a NUL in text) are refused by PostgreSQL.
    postgres: { lossy: ['dyn'], accept: { allowLossy: true }, deadOdd: [1, 2, 3, 4] },
    mysql: { lossy: ['dyn'], accept: { allowLossy: true }, deadOdd: [1, 2, 3] },
    sqlite: { lossy: [], accept: {}, deadOdd: [] },
  },
};

const root = tempDir('dbferry-pairs-');
const cleanups: (() => Promise<void>)[] = [];
const sources = {} as Record<Engine, NativeTarget>;
let serial = 0;

async function newDatabase(engine: Engine, label: string): Promise<NativeTarget> {
  if (engine === 'postgres') {
    const db = await createPgDatabase('dbferry_pairs');
    cleanups.push(db.drop);
    return { engine, url: db.url };
  }
  if (engine === 'mysql') {
    const db = await createMysqlDatabase('dbferry_pairs');
    cleanups.push(db.drop);
    return { engine, url: db.url };
  }
  return { engine, url: join(root, `${label}-${++serial}.db`) };
}

const urlOf = (db: NativeTarget) => (db.engine === 'sqlite' ? `sqlite://${db.url}` : db.url);

beforeAll(async () => {
  await Promise.all(
    ENGINES.map(async (engine) => {
      sources[engine] = await newDatabase(engine, `source-${engine}`);
      await loadFixture(sources[engine]);
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(cleanups.map((drop) => drop()));
});

// -- helpers ------------------------------------------------------------------------------

const nastyChecks = (engine: Engine): ColumnCheck[] => FIXTURES[engine].nasty.columns.map((c) => ({ name: c.name, kind: c.kind }));
const oddChecks = (engine: Engine): ColumnCheck[] => FIXTURES[engine].odd.columns.map((c) => ({ name: c.name, kind: c.kind }));
const keyedChecks: ColumnCheck[] = KEYED_COLUMNS.map((c) => ({ name: c.name, kind: c.kind }));

interface TableJob {
  source: string;
  target?: string;
  mode: Mode;
  where?: string;
  types?: Record<string, string>;
  allowLossy?: boolean;
}

function job(dir: string, source: NativeTarget, target: NativeTarget, tables: TableJob[], options?: Record<string, unknown>): string {
  const spec = { name: `${source.engine} → ${target.engine}`, source: { url: urlOf(source) }, target: { url: urlOf(target) }, tables, ...(options ? { options } : {}) };
  return writeJob(dir, spec, `job-${++serial}.json`);
}

async function run(dir: string, jobFile: string): Promise<CliResult & { summary: Record<string, unknown> }> {
  const r = await dbferry(['run', jobFile, '--json', '--state', join(dir, 'state')]);
  const summary = r.events.at(-1) ?? { type: 'none' };
  return { ...r, summary };
}

function explain(r: CliResult): string {
  const errors = r.events.filter((e) => e.type === 'error' || e.type === 'verify' || e.type === 'summary');
  return `exit ${r.code}\n${r.stderr.slice(0, 3000)}\n${errors.map((e) => JSON.stringify(e)).join('\n').slice(0, 3000)}`;
}

function applied(r: CliResult): Record<string, { inserted: number; updated: number; deleted: number }> {
  return Object.fromEntries(r.events.filter((e) => e.type === 'table-applied').map((e) => [String(e.table).replace(/^public\./, ''), e as never]));
}

async function expectSame(source: NativeTarget, target: NativeTarget, table: string, checks: ColumnCheck[], opts: { targetTable?: string; dead?: number[]; rows?: number } = {}) {
  const d = await diffTables(source, target, { source: table, target: opts.targetTable ?? table, key: 'id' }, checks, {
    skipKeys: new Set((opts.dead ?? []).map(String)),
  });
  expect(d.diffs, `${table}: ${source.engine} → ${target.engine}`).toEqual([]);
  if (opts.rows !== undefined) expect(d.targetRows).toBe(opts.rows);
  return d;
}

async function tableExists(db: NativeTarget, table: string): Promise<boolean> {
  try {
    await readNative(db, table, ['id'], 'id');
    return true;
  } catch {
    return false;
  }
}

async function deadLetters(dir: string, runId: string): Promise<{ table: string; key: unknown[]; reasons: string[] }[]> {
  const r = await dbferry(['dead-letters', 'list', '--json', '--state', join(dir, 'state'), '--run', runId]);
  expect(r.code).toBe(0);
  return r.events.filter((e) => e.type === 'dead-letter') as never;
}

/** Run statements natively on the target, with that engine's identifier quoting. */
function onTarget(target: NativeTarget, statements: (q: (n: string) => string) => string[]): Promise<void> {
  return execNative(target, statements(quoteFor(target.engine)));
}

const nastyRows = 4;

// -- the suite ------------------------------------------------------------------------------

for (const source of ENGINES) {
  for (const targetEngine of ENGINES) {
    const expected = PAIRS[source][targetEngine];
    const accepted = (t: TableJob): TableJob => ({ ...t, ...expected.accept });
    const deadOdd = expected.deadOdd;
    const oddRows = FIXTURES[source].odd.columns[0].values.length;

    describe.concurrent(`${source} → ${targetEngine}`, () => {
      it('replace: plan names every lossy column, run refuses it, then copies every trap value exactly once accepted', async () => {
        const dir = tempDir('dbferry-pair-');
        const src = sources[source];
        const target = await newDatabase(targetEngine, `${source}-${targetEngine}-replace`);

        // Nothing accepted: plan flags exactly the expected columns, run refuses and touches nothing.
        const refused = job(dir, src, target, [{ source: NASTY, mode: 'replace' }]);
        const plan = await dbferry(['plan', refused, '--json']);
        const report = plan.events[0] as unknown as { ok: boolean; tables: { columns: { name: string; lossy?: string }[] }[]; problems: string[] };
        const flagged = report.tables[0].columns.filter((c) => c.lossy).map((c) => c.name);
        expect(flagged.sort()).toEqual([...expected.lossy].sort());
        expect(plan.code).toBe(expected.lossy.length ? 2 : 0);
        for (const col of expected.lossy) expect(report.problems.join('\n')).toContain(`column "${col}"`);
        if (expected.lossy.length) {
          const r = await run(dir, refused);
          expect(r.code, explain(r)).toBe(2);
          expect(r.summary).toMatchObject({ type: 'summary', status: 'failed', errorKind: 'spec' });
          for (const col of expected.lossy) expect(String(r.summary.error)).toContain(`column "${col}"`);
          expect(await tableExists(target, NASTY)).toBe(false);
        }

        // Accepted: every value arrives, or its row is dead-lettered with a reason.
        const r = await run(dir, job(dir, src, target, [accepted({ source: NASTY, mode: 'replace' }), accepted({ source: ODD, mode: 'replace' }), { source: KEYED, mode: 'replace' }]));
        const read = nastyRows + oddRows + KEYED_ROWS;
        expect(r.code, explain(r)).toBe(deadOdd.length ? 3 : 0);
        expect(r.summary).toMatchObject({
          status: deadOdd.length ? 'dead-lettered' : 'succeeded',
          rowsRead: read,
          rowsWritten: read - deadOdd.length,
          rowsDeadLettered: deadOdd.length,
        });
        for (const t of r.summary.tables as { verified: string }[]) expect(t.verified).toBe('checksum');
        await expectSame(src, target, NASTY, nastyChecks(source), { rows: nastyRows });
        await expectSame(src, target, ODD, oddChecks(source), { dead: deadOdd, rows: oddRows - deadOdd.length });
        await expectSame(src, target, KEYED, keyedChecks, { rows: KEYED_ROWS });
        if (deadOdd.length) {
          const letters = await deadLetters(dir, String(r.summary.runId));
          expect(letters.map((d) => Number(d.key[0])).sort()).toEqual(deadOdd);
          for (const d of letters) {
            expect(d.table).toMatch(/odd$/);
            expect(d.reasons.join(' ').length).toBeGreaterThan(10);
          }
        }

        // Replace again, into the tables the first run created: still exact, nothing flagged anew.
        await onTarget(target, (q) => [`DELETE FROM ${q(KEYED)} WHERE id > 2000`, `UPDATE ${q(NASTY)} SET ${q('User')} = 'changed'`]);
        const again = await run(dir, job(dir, src, target, [accepted({ source: NASTY, mode: 'replace' }), { source: KEYED, mode: 'replace' }]));
        expect(again.code, explain(again)).toBe(0);
        await expectSame(src, target, NASTY, nastyChecks(source), { rows: nastyRows });
        await expectSame(src, target, KEYED, keyedChecks, { rows: KEYED_ROWS });
      });

      it('upsert: inserts what is missing, restores what changed, and a second run changes nothing', async () => {
        const dir = tempDir('dbferry-pair-');
        const src = sources[source];
        const target = await newDatabase(targetEngine, `${source}-${targetEngine}-upsert`);
        const spec = job(dir, src, target, [accepted({ source: NASTY, mode: 'upsert' }), { source: KEYED, mode: 'upsert' }]);
        const first = await run(dir, spec);
        expect(first.code, explain(first)).toBe(0);
        expect(applied(first)).toMatchObject({ [NASTY]: { inserted: nastyRows }, [KEYED]: { inserted: KEYED_ROWS } });

        await onTarget(target, (q) => [
          `UPDATE ${q(KEYED)} SET ${q('User')} = 'changed', ${q('order')} = -1 WHERE id <= 10`,
          `DELETE FROM ${q(KEYED)} WHERE id > ${KEYED_ROWS - 25}`,
          `DELETE FROM ${q(NASTY)} WHERE id = 2`,
          `UPDATE ${q(NASTY)} SET ${q('User')} = NULL WHERE id = 1`,
        ]);
        const second = await run(dir, spec);
        expect(second.code, explain(second)).toBe(0);
        expect(second.summary).toMatchObject({ status: 'succeeded', rowsDeadLettered: 0 });
        // Compared before copying (options.compare), where range hashes can: only the key ranges that differ are read.
        expect(second.summary.rowsRead).toBeGreaterThanOrEqual(1 + 25);
        expect(second.summary.rowsRead).toBeLessThanOrEqual(nastyRows + KEYED_ROWS);
        expect(applied(second)).toMatchObject({ [NASTY]: { inserted: 1, deleted: 0 }, [KEYED]: { inserted: 25, deleted: 0 } });
        await expectSame(src, target, NASTY, nastyChecks(source), { rows: nastyRows });
        await expectSame(src, target, KEYED, keyedChecks, { rows: KEYED_ROWS });

        const third = await run(dir, spec);
        expect(third.code, explain(third)).toBe(0);
        expect(applied(third)).toMatchObject({ [NASTY]: { inserted: 0, deleted: 0 }, [KEYED]: { inserted: 0, deleted: 0 } });
        await expectSame(src, target, NASTY, nastyChecks(source), { rows: nastyRows });
        await expectSame(src, target, KEYED, keyedChecks, { rows: KEYED_ROWS });
      });

      it('mirror: deletes target rows absent from the source; a second run changes nothing', async () => {
        const dir = tempDir('dbferry-pair-');
        const src = sources[source];
        const target = await newDatabase(targetEngine, `${source}-${targetEngine}-mirror`);
        const spec = job(dir, src, target, [accepted({ source: NASTY, mode: 'mirror' }), { source: KEYED, mode: 'mirror' }]);
        const first = await run(dir, spec);
        expect(first.code, explain(first)).toBe(0);

        await onTarget(target, (q) => [
          `INSERT INTO ${q(KEYED)} (id, ${q('User')}) VALUES (100001, 'ghost'), (100002, 'ghost')`,
          `INSERT INTO ${q(NASTY)} (id, ${q('User')}) VALUES (99, 'ghost')`,
          `DELETE FROM ${q(KEYED)} WHERE id = 7`,
          `UPDATE ${q(KEYED)} SET note = 'changed' WHERE id = 8`,
        ]);
        const second = await run(dir, spec);
        expect(second.code, explain(second)).toBe(0);
        expect(applied(second)).toMatchObject({ [NASTY]: { deleted: 1, inserted: 0 }, [KEYED]: { deleted: 2, inserted: 1 } });
        await expectSame(src, target, NASTY, nastyChecks(source), { rows: nastyRows });
        await expectSame(src, target, KEYED, keyedChecks, { rows: KEYED_ROWS });

        const third = await run(dir, spec);
        expect(third.code, explain(third)).toBe(0);
        expect(applied(third)).toMatchObject({ [NASTY]: { deleted: 0, inserted: 0 }, [KEYED]: { deleted: 0, inserted: 0 } });
        await expectSame(src, target, KEYED, keyedChecks, { rows: KEYED_ROWS });
      });

      it('append: adds rows in parts; appending them again fails and leaves the target as it was', async () => {
        const dir = tempDir('dbferry-pair-');
        const src = sources[source];
        const target = await newDatabase(targetEngine, `${source}-${targetEngine}-append`);
        const appended = 'select appended';
        const half = KEYED_ROWS / 2;
        const first = await run(dir, job(dir, src, target, [accepted({ source: NASTY, mode: 'append' }), { source: KEYED, target: appended, mode: 'append', where: `id <= ${half}` }]));
        expect(first.code, explain(first)).toBe(0);
        expect(first.summary).toMatchObject({ rowsRead: nastyRows + half, rowsWritten: nastyRows + half });
        const secondSpec = job(dir, src, target, [{ source: KEYED, target: appended, mode: 'append', where: `id > ${half}` }]);
        const second = await run(dir, secondSpec);
        expect(second.code, explain(second)).toBe(0);
        expect(applied(second)).toMatchObject({ [KEYED]: { inserted: KEYED_ROWS - half } });
        await expectSame(src, target, NASTY, nastyChecks(source), { rows: nastyRows });
        await expectSame(src, target, KEYED, keyedChecks, { targetTable: appended, rows: KEYED_ROWS });

        // The same rows again collide with the key: the run fails and rolls back.
        const again = await run(dir, secondSpec);
        expect(again.code, explain(again)).toBe(1);
        expect(again.summary).toMatchObject({ status: 'failed' });
        await expectSame(src, target, KEYED, keyedChecks, { targetTable: appended, rows: KEYED_ROWS });
      });

      if (source === 'mysql' && targetEngine === 'sqlite') {
        it('allowLossy instead of a text override: BIGINT UNSIGNED above 2^63 is dead-lettered, never changed', async () => {
          const dir = tempDir('dbferry-pair-');
          const target = await newDatabase(targetEngine, 'bu-lossy');
          const r = await run(dir, job(dir, sources.mysql, target, [{ source: NASTY, mode: 'replace', allowLossy: true }], { maxInvalidRows: 10 }));
          expect(r.code, explain(r)).toBe(3);
          expect(r.summary).toMatchObject({ status: 'dead-lettered', rowsRead: 4, rowsWritten: 2, rowsDeadLettered: 2 });
          const letters = await deadLetters(dir, String(r.summary.runId));
          expect(letters.map((d) => Number(d.key[0])).sort()).toEqual([2, 3]);
          for (const d of letters) expect(d.reasons.join(' ')).toMatch(/"bu".*64-bit INTEGER/);
          await expectSame(sources.mysql, target, NASTY, nastyChecks('mysql'), { dead: [2, 3], rows: 2 });
        });
      }
    });
  }
}
