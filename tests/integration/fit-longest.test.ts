/**
 * A column whose values may not fit the target's width: the plan says how long
 * the source's longest value is now, where that is cheap to know (a table of
 * at most 100k rows by the engine's estimate), and whether it fits, in the
 * warnings, the planned columns of --json and the CLI's plan.
 */
import { describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName } from '../helpers/targets.js';

type PlannedColumns = Array<{ columns: Array<{ name: string; mayNotFit?: string; longest?: number }> }>;

describe('the longest value now, beside "values may be longer than"', () => {
  it('SQLite into PostgreSQL varchar: one column too long now, one that fits; the CLI says the same', async () => {
    const dir = tempDir('dbferry-longest-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb('postgres', dir);
    try {
      await source.exec(`CREATE TABLE pets (id INTEGER PRIMARY KEY, owner TEXT, name TEXT);
        INSERT INTO pets VALUES (1, 'ann', 'Rex'), (2, 'a name far too long for it', 'Bo'), (3, NULL, 'Émile'), (4, 'cy', NULL)`);
      await target.exec('CREATE TABLE pets (id int PRIMARY KEY, owner varchar(10), name varchar(5))');
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'pets', mode: 'upsert' }] });
      const plan = await dbferry(['plan', job, '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const warnings = (plan.events[0].warnings as string[]).join('\n');
      expect(warnings).toContain("pets.owner (TEXT → character varying(10)): values may be longer than the target's 10 characters (longest in the source now: 26); a row with such a value is dead-lettered");
      // 'Émile' is five characters (six bytes): it fits.
      expect(warnings).toContain("pets.name (TEXT → character varying(5)): values may be longer than the target's 5 characters (longest in the source now: 5, fits)");
      const columns = (plan.events[0].tables as PlannedColumns)[0].columns;
      expect(columns.find((c) => c.name === 'owner')).toMatchObject({ longest: 26 });
      expect(columns.find((c) => c.name === 'name')).toMatchObject({ longest: 5 });

      const human = await dbferry(['plan', job]);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout + human.stderr).toContain('(longest in the source now: 26)');
      expect(human.stdout + human.stderr).toContain('(longest in the source now: 5, fits)');
    } finally {
      await target.drop();
      await source.drop();
    }
  });

  it.each([
    ['mysql', 'postgres'],
    ['postgres', 'mysql'],
  ] as [EngineName, EngineName][])('%s text into %s varchar(8): counted in characters, within "where"', async (from, to) => {
    const dir = tempDir('dbferry-longest-');
    const source = await createTestDb(from, dir);
    const target = await createTestDb(to, dir);
    try {
      await source.exec("CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'ääääääääää'), (2, 'short'), (3, 'longer than twenty chars')");
      await target.exec('CREATE TABLE notes (id int PRIMARY KEY, body varchar(8))');
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'notes', mode: 'upsert', where: 'id < 3' }] });
      const plan = await dbferry(['plan', job, '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const body = (plan.events[0].tables as PlannedColumns)[0].columns.find((c) => c.name === 'body');
      expect(body).toMatchObject({ longest: 10 });
      expect(body?.mayNotFit).toMatch(/values may be longer than the target's 8 characters \(longest in the source now: 10\)$/);
    } finally {
      await target.drop();
      await source.drop();
    }
  });

  it('a table past 100k rows is not scanned at plan time: the warning stays without it', async () => {
    const dir = tempDir('dbferry-longest-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb('postgres', dir);
    try {
      await source.exec(`CREATE TABLE big (id INTEGER PRIMARY KEY, owner TEXT);
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100001) INSERT INTO big SELECT n, 'owner ' || n FROM g`);
      await target.exec('CREATE TABLE big (id int PRIMARY KEY, owner varchar(8))');
      const plan = await dbferry(['plan', writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'big', mode: 'upsert' }] }), '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const owner = (plan.events[0].tables as PlannedColumns)[0].columns.find((c) => c.name === 'owner');
      expect(owner).toMatchObject({ mayNotFit: "values may be longer than the target's 8 characters" });
      expect(owner?.longest).toBeUndefined();
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});
