/**
 * A target table damaged by dbferry before 0.2 (here: it lost its key) is
 * rebuilt by a replace, in its transaction (plan.ts, damageOf). The rebuilt
 * table keeps the target's generated columns, computed from the new rows, as
 * a user who had them would check: the column is there, generated, and right.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const dir = tempDir('dbferry-rebuild-generated-');
let source: TestDb;
let target: TestDb;

beforeAll(async () => {
  source = await createTestDb('postgres', dir);
  await source.exec('CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, price numeric(10,2) NOT NULL)');
  await source.exec('INSERT INTO items SELECT i, i % 7, i * 1.5 FROM generate_series(1, 500) i');
  target = await createTestDb('postgres', dir);
  // As an old dbferry left it: no key; the user added a computed total.
  await target.exec('CREATE TABLE items (id int NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL, total numeric GENERATED ALWAYS AS (qty * price) STORED)');
  await target.exec('INSERT INTO items (id, qty, price) VALUES (1, 1, 1), (1, 2, 2)');
});

afterAll(async () => {
  await source?.drop();
  await target?.drop();
});

it('a replace that rebuilds a damaged table keeps its generated column, computed from the new rows', async () => {
  const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode: 'replace' }], options: { verify: 'checksum' } }, 'job.json');
  const run = await dbferry(['run', job, '--json', '--state', tempDir('dbferry-rebuild-generated-state-')]);
  expect(run.events.at(-1)!.status, run.stderr).toBe('succeeded');
  expect(run.events.some((e) => e.type === 'warning' && /rebuilds it/.test(String(e.message)))).toBe(true);
  expect(await target.rows(`SELECT column_name::text, is_generated::text, coalesce(generation_expression, '')::text FROM information_schema.columns WHERE table_name = 'items' ORDER BY ordinal_position`)).toEqual([
    ['id', 'NEVER', ''],
    ['qty', 'NEVER', ''],
    ['price', 'NEVER', ''],
    ['total', 'ALWAYS', '((qty)::numeric * price)'],
  ]);
  expect(await target.rows('SELECT count(*)::text, sum(total)::text, count(*) FILTER (WHERE total IS DISTINCT FROM qty * price)::text FROM items')).toEqual([['500', (await source.rows('SELECT sum(qty * price)::text FROM items'))[0][0], '0']]);
  expect(await target.rows(`SELECT count(*)::text FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'p'`)).toEqual([['1']]);
});
