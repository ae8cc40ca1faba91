/**
 * PostgreSQL partitioned tables and inheritance parents are copied once,
 * through their parent: with "tables": "*", a declarative range-partitioned
 * table (two ranges and a DEFAULT partition) and an inheritance parent with a
 * child arrive as one table each, every row exactly once, in PostgreSQL,
 * MariaDB and SQLite; the partitions and the child are not copied again as
 * tables of their own. The plan says so, and its row estimates count the
 * partitions' rows (a partitioned parent has none of its own: reltuples -1).
 * Chunks are planned on the parent (small chunkRows: several chunks), and
 * checksum verification passes. A partition named on its own is copied alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { ENGINES, createTestDb, type TestDb } from '../helpers/targets.js';

const SOURCE = [
  `CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, what text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
  `CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
  `CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`,
  `CREATE TABLE events_other PARTITION OF events DEFAULT`,
  // 300 rows: 2023 (default partition), 2024, 2025 and 2026 (default again).
  `INSERT INTO events SELECT i, date '2023-07-01' + (i * 3), 'event ' || i FROM generate_series(1, 300) i`,
  `CREATE TABLE measure (id int PRIMARY KEY, v int NOT NULL)`,
  `CREATE TABLE measure_2024 (CHECK (v > 1000)) INHERITS (measure)`,
  `ALTER TABLE measure_2024 ADD PRIMARY KEY (id)`,
  `INSERT INTO measure SELECT i, i FROM generate_series(1, 50) i`,
  `INSERT INTO measure_2024 SELECT i, 1000 + i FROM generate_series(51, 120) i`,
  // As autovacuum leaves them: the partitions analyzed, the partitioned parent never (reltuples -1).
  `ANALYZE events_2024`,
  `ANALYZE events_2025`,
  `ANALYZE events_other`,
  `ANALYZE measure`,
  `ANALYZE measure_2024`,
];

const dir = tempDir('dbferry-partitions-');
let source: TestDb;

beforeAll(async () => {
  source = await createTestDb('postgres', dir);
  for (const sql of SOURCE) await source.exec(sql);
});
afterAll(async () => {
  await source?.drop();
});

const ids = async (db: TestDb, table: string) => (await db.rows(`SELECT id FROM ${table} ORDER BY id`)).map(([v]) => Number(v));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('partitioned tables and inheritance parents', () => {
  it.each(ENGINES)('are copied once, through the parent, into %s', async (into) => {
    const target = await createTestDb(into, dir);
    try {
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: '*', options: { verify: 'checksum', chunkRows: 40 } }, `job-${into}.json`);

      const plan = await dbferry(['plan', job]);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/public\.events → (public\.)?events .*~300 rows/);
      expect(plan.stdout).toMatch(/public\.measure → (public\.)?measure .*~120 rows/);
      expect(plan.stdout).toContain('partitioned: 3 partitions (events_2024, events_2025, events_other) copied through the parent, each row once');
      expect(plan.stdout).toContain('inheritance: 1 child table (measure_2024) copied through the parent, each row once');
      if (into === 'postgres') {
        expect(plan.stdout).toContain('into one ordinary table (the partitioning is not recreated)');
        expect(plan.stdout).toContain('into one ordinary table (the inheritance is not recreated)');
      }
      expect(plan.stdout).not.toMatch(/events_2024 →|measure_2024 →/);

      const run = await dbferry(['run', job, '--json', '--state', tempDir('dbferry-partitions-state-')]);
      const summary = run.events.at(-1)! as unknown as { status: string; error?: string; tables: { source: string; rowsRead: number; chunks: number; verified?: string }[] };
      expect(summary.status, `${summary.error}\n${run.stderr}`).toBe('succeeded');
      expect(summary.tables.map((t) => t.source).sort()).toEqual(['public.events', 'public.measure']);
      for (const t of summary.tables) {
        expect(t.verified, t.source).toBe('checksum');
        expect(t.chunks, `${t.source} is read in key-range chunks through the parent`).toBeGreaterThan(1);
      }
      const verify = run.events.filter((e) => e.type === 'verify');
      expect(verify.map((e) => [e.table, e.ok, e.sourceRows, e.targetRows])).toEqual([
        ['public.events', true, 300, 300],
        ['public.measure', true, 120, 120],
      ]);

      // One table each, every row exactly once; no partition or child became a table of its own.
      expect((await target.tables()).filter((t) => !t.startsWith('_dbferry')).sort()).toEqual(['events', 'measure']);
      expect(await ids(target, 'events')).toEqual(range(1, 300));
      expect(await ids(target, 'measure')).toEqual(range(1, 120));
      expect((await target.rows(`SELECT v FROM measure WHERE id IN (50, 51) ORDER BY id`)).map(([v]) => Number(v))).toEqual([50, 1051]);
      if (into === 'postgres') {
        // An ordinary table: the partitioning is not recreated.
        expect(await target.rows(`SELECT relkind::text FROM pg_class WHERE relname = 'events'`)).toEqual([['r']]);
      }
    } finally {
      await target.drop();
    }
  });

  it('a partition named on its own is copied alone, and the plan says so', async () => {
    const target = await createTestDb('sqlite', dir);
    try {
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'events_2024' }, { source: 'measure_2024' }], options: { verify: 'checksum' } }, 'job-one.json');
      const plan = await dbferry(['plan', job]);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('a partition of events: only its own rows are copied');
      expect(plan.stdout).toContain('a partition of measure: only its own rows are copied');
      const run = await dbferry(['run', job, '--json', '--state', tempDir('dbferry-partitions-state-')]);
      expect(run.events.at(-1)!.status, run.stderr).toBe('succeeded');
      const in2024 = (await source.rows(`SELECT id FROM events_2024 ORDER BY id`)).map(([v]) => Number(v));
      expect(in2024.length).toBeGreaterThan(50);
      expect(await ids(target, 'events_2024')).toEqual(in2024);
      expect(await ids(target, 'measure_2024')).toEqual(range(51, 120));
    } finally {
      await target.drop();
    }
  });
});
