/**
 * Text keys whose collation orders them otherwise than by code point
 * (MySQL/MariaDB's _ci and _ai_ci, latin1's default, a PostgreSQL ICU
 * collation): a correct copy verifies clean in every pair with such a side,
 * with the table in several key ranges and a kill-and-resume in the middle,
 * and a real difference is still found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';

const ROWS = 240;
/** Prefixes that collations order apart from their code points: case, accents, a space, an underscore. */
const PREFIXES = ['a', 'B', 'c', 'Äd', 'éf', 'Z', 'ø', '_', ' x', 'Ég'];
const KEYS = Array.from({ length: ROWS }, (_, i) => `${PREFIXES[i % PREFIXES.length]}${Math.floor(i / PREFIXES.length)}`);

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const insert = (table: string) => `INSERT INTO ${table} (code, n, note) VALUES ${KEYS.map((k, i) => `(${q(k)}, ${i}, ${q(`note ${k}`)})`).join(', ')}`;

/** Source tables: one per collation under test, in each engine's own spelling. */
const SOURCES: Record<'mysql' | 'postgres', Record<string, string>> = {
  mysql: {
    // The server's default collation for utf8mb4 (utf8mb4_general_ci on MariaDB).
    k_default: 'CREATE TABLE k_default (code varchar(20) NOT NULL PRIMARY KEY, n int, note varchar(40)) CHARACTER SET utf8mb4',
    k_ci: 'CREATE TABLE k_ci (code varchar(20) COLLATE utf8mb4_unicode_ci NOT NULL PRIMARY KEY, n int, note varchar(40))',
    k_ai_ci: 'CREATE TABLE k_ai_ci (code varchar(20) COLLATE utf8mb4_uca1400_ai_ci NOT NULL PRIMARY KEY, n int, note varchar(40))',
    k_latin1: 'CREATE TABLE k_latin1 (code varchar(20) NOT NULL PRIMARY KEY, n int, note varchar(40)) CHARACTER SET latin1',
  },
  postgres: {
    k_icu: 'CREATE TABLE k_icu (code varchar(20) COLLATE "en-US-x-icu" NOT NULL PRIMARY KEY, n int, note varchar(40))',
  },
};

/** Pairs with a MySQL/MariaDB side, plus the ICU source into the other two engines. */
const PAIRS: Array<[EngineName, EngineName]> = [
  ['mysql', 'postgres'],
  ['mysql', 'sqlite'],
  ['mysql', 'mysql'],
  ['postgres', 'mysql'],
  ['postgres', 'sqlite'],
  ['sqlite', 'mysql'],
];

describe('text keys in case- and accent-insensitive collations', () => {
  const dir = tempDir('dbferry-collations-');
  const sources = new Map<EngineName, TestDb>();
  const tablesOf = (engine: EngineName) => (engine === 'sqlite' ? ['k_binary'] : Object.keys(SOURCES[engine]));

  beforeAll(async () => {
    for (const engine of ['mysql', 'postgres', 'sqlite'] as const) {
      const db = await createTestDb(engine, dir);
      const ddl = engine === 'sqlite' ? { k_binary: 'CREATE TABLE k_binary (code TEXT NOT NULL PRIMARY KEY, n int, note TEXT)' } : SOURCES[engine];
      for (const [table, sql] of Object.entries(ddl)) {
        await db.exec(sql);
        await db.exec(insert(table));
      }
      sources.set(engine, db);
    }
  });
  afterAll(async () => {
    for (const db of sources.values()) await db.drop();
  });

  const spec = (source: TestDb, target: TestDb, options: Record<string, unknown> = {}, rules = false) => ({
    source: { url: source.url },
    target: { url: target.url },
    tables: tablesOf(source.engine).map((t) => ({ source: t, mode: 'upsert', ...(rules ? { rules: { n: { min: 0 } } } : {}) })),
    // Several key ranges per table: chunk bounds read on the source must mean the same rows in the target.
    options: { chunkRows: 50, verify: 'checksum', ...options },
  });

  for (const [from, to] of PAIRS) {
    it(`${from} → ${to}: verifies clean in several key ranges, and a changed or missing row is found`, async () => {
      const source = sources.get(from)!;
      const target = await createTestDb(to, dir);
      try {
        const job = writeJob(dir, spec(source, target), `job-${from}-${to}.json`);
        const r = await dbferry(['run', job, '--json', '--state', dir]);
        expect(r.code, r.stderr.slice(-2000)).toBe(0);
        for (const table of tablesOf(from)) {
          const v = r.events.find((e) => e.type === 'verify' && String(e.table).endsWith(table));
          expect(v, table).toMatchObject({ ok: true, method: 'checksum', sourceRows: ROWS, targetRows: ROWS });
          expect((await target.rows(`SELECT count(DISTINCT n) FROM ${table}`))[0].map(Number)).toEqual([ROWS]);
        }
        // A real difference is still found: a changed value, then a missing row, each named by its key.
        const table = tablesOf(from)[0];
        const said = async () => {
          const checked = await dbferry(['verify', job, '--json']);
          expect(checked.code).not.toBe(0);
          const found = checked.events.find((e) => e.type === 'verify' && String(e.table).endsWith(table));
          return (found?.mismatches as string[]).join('\n');
        };
        await target.exec(`UPDATE ${table} SET note = 'changed' WHERE n = 7`);
        expect(await said()).toContain(`row ${KEYS[7]} differs in "note"`);
        await target.exec(`UPDATE ${table} SET note = ${q(`note ${KEYS[7]}`)} WHERE n = 7`);
        await target.exec(`DELETE FROM ${table} WHERE n = 13`);
        expect(await said()).toContain(`row ${KEYS[13]} is missing in the target`);
      } finally {
        await target.drop();
      }
    });
  }

  for (const [from, to] of [['mysql', 'postgres'], ['mysql', 'sqlite']] as Array<[EngineName, EngineName]>) {
    it(`${from} → ${to}: killed mid-run in several key ranges, resumed: every row once, verified`, async () => {
      const source = sources.get(from)!;
      const target = await createTestDb(to, dir);
      try {
        // A rule keeps the rows on the row path, small batches make the run last long enough to be killed.
        const job = writeJob(dir, spec(source, target, { batch: { maxRows: 5 } }, true), `job-kill-${from}-${to}.json`);
        const killed = await dbferryUntil(['run', job, '--state', dir], (e) => e.type === 'table-started', (c) => void c.kill('SIGKILL'), { delayMs: 150 });
        if (killed.signal === 'SIGKILL') {
          const runId = killed.events[0].runId as string;
          const resumed = await dbferry(['resume', runId, '--json', '--state', dir]);
          expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
          for (const e of resumed.events.filter((x) => x.type === 'verify')) expect(e, String(e.table)).toMatchObject({ ok: true });
        } else {
          expect(killed.code, killed.stderr.slice(-2000)).toBe(0);
        }
        for (const table of tablesOf(from)) {
          expect((await target.rows(`SELECT count(*), count(DISTINCT n) FROM ${table}`))[0].map(Number), table).toEqual([ROWS, ROWS]);
        }
      } finally {
        await target.drop();
      }
    });
  }
});

describe('into an existing table whose key collation merges keys', () => {
  it('the plan warns, and validation dead-letters the second of two keys that differ only in case or accents', async () => {
    const dir = tempDir('dbferry-collations-');
    // The source compares by code point (a _bin collation), the target's key does not.
    const source = await createTestDb('mysql', dir);
    const target = await createTestDb('mysql', dir);
    try {
      await source.exec('CREATE TABLE users (login varchar(10) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, n int)');
      await source.exec("INSERT INTO users VALUES ('a', 1), ('A', 2), ('b', 3), ('e', 4), ('é', 5)");
      await target.exec('CREATE TABLE users (login varchar(10) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, n int)');
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'users', mode: 'upsert' }], options: { maxInvalidRows: 10 } });
      const plan = await dbferry(['plan', job]);
      expect(plan.stderr + plan.stdout).toMatch(/key column "login" has the collation utf8mb4_general_ci.*'a' and 'A' would merge/);
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code, r.stderr.slice(-2000)).toBe(3);
      expect(r.events.at(-1)).toMatchObject({ type: 'summary', status: 'dead-lettered', rowsRead: 5, rowsWritten: 3, rowsDeadLettered: 2 });
      // Read in code point order, the first of each pair is kept: 'A' before 'a', 'e' before 'é'.
      expect((await target.rows('SELECT CAST(login AS BINARY), n FROM users ORDER BY n')).map((row) => [Buffer.from(row[0] as Buffer).toString(), Number(row[1])])).toEqual([
        ['A', 2],
        ['b', 3],
        ['e', 4],
      ]);
      const dead = await dbferry(['dead-letters', 'list', '--run', r.events[0].runId as string, '--all', '--json', '--state', dir]);
      expect(dead.stdout).toMatch(/equals a key already copied under the target's collation utf8mb4_general_ci/);
      expect(dead.stdout).toContain('"a"');
      expect(dead.stdout).toContain('"é"');
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});
