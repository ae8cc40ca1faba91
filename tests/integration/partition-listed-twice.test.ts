/**
 * A partition listed in "tables" beside its partitioned parent: reading the
 * parent reads the partition's rows too, so both targets get them. The plan
 * says so (plan.ts, copiedTwice), naming both; a partition listed alone, or
 * the parent alone, gets no such warning.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const dir = tempDir('dbferry-partition-twice-');
let source: TestDb;
let target: TestDb;

beforeAll(async () => {
  source = await createTestDb('postgres', dir);
  await source.exec(`CREATE TABLE readings (id int NOT NULL, at date NOT NULL, v int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE readings_2023 PARTITION OF readings FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
    CREATE TABLE readings_2024 PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    INSERT INTO readings SELECT i, date '2023-06-01' + (i % 400), i FROM generate_series(1, 800) i`);
  target = await createTestDb('postgres', dir);
});

afterAll(async () => {
  await source?.drop();
  await target?.drop();
});

async function warnings(tables: string[]): Promise<string[]> {
  const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: tables.map((t) => ({ source: t, mode: 'replace' })) }, `job-${tables.join('-')}.json`);
  const plan = await dbferry(['plan', job, '--json']);
  expect(plan.code, plan.stderr).toBe(0);
  return (plan.events[0].warnings as string[]).filter((w) => /copied twice/.test(w));
}

it('says a partition listed beside its parent is copied twice, into both targets', async () => {
  const said = await warnings(['readings', 'readings_2024']);
  expect(said).toHaveLength(1);
  expect(said[0]).toMatch(/readings_2024 is listed in "tables" and is also a partition of (public\.)?readings\b/);
  expect(said[0]).toMatch(/into (public\.)?readings_2024 and into (public\.)?readings\b/);
});

it('says nothing of the kind for the parent alone or a partition alone', async () => {
  expect(await warnings(['readings'])).toEqual([]);
  expect(await warnings(['readings_2023', 'readings_2024'])).toEqual([]);
});
