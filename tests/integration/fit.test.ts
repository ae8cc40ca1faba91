/**
 * What the plan refuses and what it only warns of: a mapping that would store
 * values changed is refused unless accepted; one where some values may not fit
 * (too long, out of range) is a warning, and each such row is dead-lettered
 * with its reason, never cut. Type fit follows declared widths (bit(n)).
 */
import { describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName } from '../helpers/targets.js';

describe.each(['postgres', 'mysql'] as EngineName[])('SQLite into an existing %s table with narrower columns', (engine) => {
  it('warns of values that may not fit, and dead-letters only the rows whose values do not', async () => {
    const dir = tempDir('dbferry-fit-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb(engine, dir);
    try {
      await source.exec(`CREATE TABLE pets (id INTEGER PRIMARY KEY, owner TEXT, qty INTEGER);
        INSERT INTO pets VALUES (1, 'ann', 1), (2, 'a name far too long', 2), (3, 'bob', ${2 ** 40}), (4, 'cy', 4)`);
      await target.exec('CREATE TABLE pets (id int PRIMARY KEY, owner varchar(5), qty int)');
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'pets', mode: 'upsert' }], options: { maxInvalidRows: 10 } });
      const plan = await dbferry(['plan', job, '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const warnings = (plan.events[0].warnings as string[]).join('\n');
      expect(warnings).toMatch(/pets\.owner \(TEXT → (character varying|varchar)\(5\)\): values may be longer than the target's 5 characters \(longest in the source now: 19\); a row with such a value is dead-lettered/);
      expect(warnings).toMatch(/pets\.qty \(INTEGER → int\S*\): 64-bit integer values may not fit a 32-bit integer; a row with such a value is dead-lettered/);
      const columns = (plan.events[0].tables as Array<{ columns: Array<{ name: string; lossy?: string; mayNotFit?: string }> }>)[0].columns;
      expect(columns.find((c) => c.name === 'owner')).toMatchObject({ mayNotFit: "values may be longer than the target's 5 characters (longest in the source now: 19)", longest: 19 });
      expect(columns.find((c) => c.name === 'owner')?.lossy).toBeUndefined();

      const run = await dbferry(['run', job, '--json', '--state', dir]);
      expect(run.code, run.stderr.slice(-2000)).toBe(3);
      expect(run.events.at(-1)).toMatchObject({ status: 'dead-lettered', rowsRead: 4, rowsWritten: 2, rowsDeadLettered: 2 });
      expect((await target.rows('SELECT id, owner, qty FROM pets ORDER BY id')).map((r) => r.map(String))).toEqual([
        ['1', 'ann', '1'],
        ['4', 'cy', '4'],
      ]);
      const dead = await dbferry(['dead-letters', 'list', '--run', run.events[0].runId as string, '--all', '--json', '--state', dir]);
      expect(dead.stdout).toMatch(/owner: .{0,4}a name far t.* is 19 characters; the target column [^"]* holds at most 5/);
      expect(dead.stdout).toMatch(/qty: 1099511627776 is out of range/);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});

describe('width-bounded types', () => {
  it('a MySQL bit(16) goes into a new SQLite table: its width, not BIGINT UNSIGNED, decides the fit', async () => {
    const dir = tempDir('dbferry-fit-');
    const source = await createTestDb('mysql', dir);
    const target = await createTestDb('sqlite', dir);
    try {
      await source.exec('CREATE TABLE flags (id int PRIMARY KEY, mask bit(16) NOT NULL, wide bit(64))');
      await source.exec("INSERT INTO flags VALUES (1, b'1111111111111111', NULL), (2, b'101', b'1')");
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'flags', columns: ['id', 'mask'] }] });
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await target.rows('SELECT id, mask FROM flags ORDER BY id')).toEqual([
        [1, 65535],
        [2, 5],
      ]);
      // A bit(64) still does not fit SQLite's signed INTEGER whole: that mapping is refused as before.
      const wide = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'flags', target: 'flags_wide' }] }, 'wide.json');
      const refused = await dbferry(['plan', wide]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/column "wide" \(bit\(64\)/);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});

describe.each(['postgres', 'mysql'] as EngineName[])('SQLite TEXT that is not UTF-8, into %s', (engine) => {
  it('is dead-lettered naming the column, the byte and its offset, not stored changed', async () => {
    const dir = tempDir('dbferry-fit-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb(engine, dir);
    try {
      // 0x96 is a latin1/cp1252 en dash written by an old application; 'é' is valid UTF-8.
      await source.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
        INSERT INTO notes VALUES (1, 'plain'), (2, CAST(X'31309620756E697473' AS TEXT)), (3, 'café'), (4, NULL)`);
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'notes' }], options: { maxInvalidRows: 5 } });
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(3);
      expect(r.events.at(-1)).toMatchObject({ status: 'dead-lettered', rowsRead: 4, rowsWritten: 3, rowsDeadLettered: 1 });
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      expect((await target.rows('SELECT id, body FROM notes ORDER BY id')).map((row) => [Number(row[0]), row[1]])).toEqual([
        [1, 'plain'],
        [3, 'café'],
        [4, null],
      ]);
      const dead = await dbferry(['dead-letters', 'list', '--run', r.events[0].runId as string, '--all', '--json', '--state', dir]);
      expect(dead.stdout).toMatch(/body: the TEXT value is not valid UTF-8: byte 0x96 at offset 2/);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});
