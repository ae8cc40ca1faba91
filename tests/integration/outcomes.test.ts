/**
 * Outcomes that explain themselves: a run that refused too many rows names
 * the reasons, grouped and counted, with an example key each and the command
 * that lists them all; and its summary counts the rows it staged as staged,
 * not as written, since none of them reached the target.
 */
import { describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName } from '../helpers/targets.js';

const ROWS = 2000;

describe.each(['postgres', 'mysql'] as EngineName[])('a run that refused too many rows, into %s', (engine) => {
  it('at apply: names the reason (duplicate key), its count, an example key and how to list them; nothing written', async () => {
    const dir = tempDir('dbferry-outcomes-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb(engine, dir);
    try {
      await source.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
        WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) INSERT INTO items SELECT i, 'item ' || i FROM c`);
      await target.exec('CREATE TABLE items (id int PRIMARY KEY, name varchar(40))');
      await target.exec(`INSERT INTO items VALUES ${Array.from({ length: 100 }, (_, i) => `(${i + 1}, 'old')`).join(', ')}`);
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode: 'append' }] });
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code).toBe(1);
      const summary = r.events.at(-1)!;
      expect(summary).toMatchObject({ type: 'summary', status: 'failed', errorKind: 'data', rowsRead: ROWS, rowsWritten: 0, rowsStaged: ROWS });
      expect((summary.tables as Array<Record<string, unknown>>)[0]).toMatchObject({ rowsWritten: 0, rowsStaged: ROWS });
      const error = String(summary.error);
      expect(error).toMatch(/rows were refused by the target, more than options\.maxInvalidRows \(1% of the rows read\)/);
      expect(error).toMatch(/dbferry dead-letters list --run [0-9a-f]{8} --all/);
      // One reason, counted, with an example key: PostgreSQL's and MariaDB's own words for a duplicate key.
      expect(error).toMatch(/Why:\n {2}- \d+ × items: .*(duplicate key value violates unique constraint "items_pkey"|Duplicate entry '\d+' for key 'PRIMARY').* \(e\.g\. key \d+\)$/);
      expect(await target.rows('SELECT count(*), min(name), max(name) FROM items')).toEqual([[expect.anything(), 'old', 'old']]);
      expect(Number((await target.rows('SELECT count(*) FROM items'))[0][0])).toBe(100);
      // The terminal says the same, and does not call staged rows written.
      const text = await dbferry(['run', job, '--state', dir]);
      expect(text.stdout).toMatch(/FAILED: 2,000 rows read, 2,000 staged but not applied, 0 written/);
      expect(text.stdout).toMatch(/items → \S*items \[append\]: 2,000 rows staged, none applied/);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});

it('in validation: each reason once, most rows first, with its count', async () => {
  const dir = tempDir('dbferry-outcomes-');
  const source = await createTestDb('sqlite', dir);
  const target = await createTestDb('sqlite', dir);
  try {
    await source.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER, sku TEXT);
      WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300) INSERT INTO items SELECT i, CASE WHEN i % 10 = 0 THEN -i ELSE i END, CASE WHEN i % 30 = 1 THEN 'bad sku' ELSE 'SKU-' || i END FROM c`);
    const job = writeJob(dir, {
      source: { url: source.url },
      target: { url: target.url },
      tables: [{ source: 'items', rules: { qty: { min: 0 }, sku: { pattern: '^SKU-[0-9]+$' } } }],
    });
    const r = await dbferry(['run', job, '--json', '--state', dir]);
    expect(r.code).toBe(1);
    const error = String(r.events.at(-1)!.error);
    const why = error.slice(error.indexOf('Why:'));
    expect(why).toMatch(/^Why:\n {2}- 30 × items: qty: -\d+ is .*\(e\.g\. key 10\)\n {2}- 10 × items: sku: .*bad sku.*\(e\.g\. key 1\)$/);
    expect(await target.tables()).not.toContain('items');
  } finally {
    await target.drop();
    await source.drop();
  }
});

describe.each([['sqlite', 'sqlite'], ['postgres', 'sqlite'], ['mysql', 'sqlite'], ['sqlite', 'postgres'], ['sqlite', 'mysql']] as Array<[EngineName, EngineName]>)('an orphan row from %s into a %s target with a declared foreign key', (from, engine) => {
  it('is refused and dead-lettered with the reason, like any refused row; the other rows apply', async () => {
    const dir = tempDir('dbferry-outcomes-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb(engine, dir);
    try {
      await source.exec(`CREATE TABLE pets (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL, name TEXT);
        INSERT INTO pets VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 99, 'orphan'), (4, 1, 'd')`);
      await target.exec('CREATE TABLE parents (id int PRIMARY KEY)');
      await target.exec('INSERT INTO parents VALUES (1), (2)');
      await target.exec('CREATE TABLE pets (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parents (id), name varchar(20))');
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'pets', mode: 'upsert' }], options: { maxInvalidRows: 5 } });
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code, r.stderr.slice(-2000)).toBe(3);
      expect(r.events.at(-1)).toMatchObject({ status: 'dead-lettered', rowsRead: 4, rowsWritten: 3, rowsDeadLettered: 1 });
      expect((await target.rows('SELECT id FROM pets ORDER BY id')).map((row) => Number(row[0]))).toEqual([1, 2, 4]);
      const dead = await dbferry(['dead-letters', 'list', '--run', r.events[0].runId as string, '--all', '--json', '--state', dir]);
      expect(dead.stdout).toMatch(/"key":\[3\]/);
      expect(dead.stdout).toMatch(/FOREIGN KEY|foreign key/);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});
