/**
 * The apply shows its progress: while it runs, --json progress events of
 * phase "applying" name the step, count the staged rows applied (never going
 * back, up to the rows staged) and carry a rate and an ETA. A replace in place
 * (a secondary index keeps it from swapping) of a few hundred thousand rows
 * inserts for a few seconds, long enough to be seen moving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';
import { join } from 'node:path';

const ROWS = 200_000;

const TABLE = {
  postgres: 'CREATE TABLE items (id bigint PRIMARY KEY, customer int NOT NULL, sku varchar(32) NOT NULL, note text)',
  mysql: 'CREATE TABLE items (id bigint PRIMARY KEY, customer int NOT NULL, sku varchar(32) NOT NULL, note text) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
};

const FILL = {
  postgres: `INSERT INTO items SELECT i, i % 5000, 'SKU-' || (i * 31 % 100000), 'note ' || i FROM generate_series(1, ${ROWS}) AS i`,
  mysql: `INSERT INTO items SELECT seq, seq % 5000, CONCAT('SKU-', seq * 31 % 100000), CONCAT('note ', seq) FROM seq_1_to_${ROWS}`,
};

interface Progress {
  type: string;
  phase: string;
  step?: string;
  rowsApplied?: number;
  rowsPerSecond: number;
  etaMs?: number;
  estimate?: number;
}

describe.each<EngineName>(['postgres', 'mysql'])('apply progress into %s', (engine) => {
  const dir = tempDir();
  let source: TestDb;
  let target: TestDb;

  beforeAll(async () => {
    source = await createTestDb(engine, dir);
    target = await createTestDb(engine, dir);
    await source.exec(TABLE[engine as 'postgres' | 'mysql']);
    await source.exec(FILL[engine as 'postgres' | 'mysql']);
    await target.exec(TABLE[engine as 'postgres' | 'mysql']);
    // Indexes besides the key keep replace in place (no swap): the rows are deleted and inserted, a step of seconds.
    await target.exec('CREATE INDEX items_customer ON items (customer)');
    await target.exec('CREATE INDEX items_sku ON items (sku)');
  }, 120_000);
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('a replace in place reports rows applied of rows staged, moving, with a rate and an ETA', async () => {
    const job = writeJob(dir, { name: 'items', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode: 'replace' }], options: { verify: 'count' } });
    const r = await dbferry(['run', job, '--json', '--state', join(dir, 'state')]);
    expect(r.code, r.stderr).toBe(0);
    const plan = r.events.find((e) => e.type === 'plan') as unknown as { tables: Array<{ path?: string }> };
    expect(plan.tables[0].path).toMatch(/^in place/);
    const applying = r.events.filter((e) => e.type === 'progress' && e.phase === 'applying') as unknown as Progress[];
    expect(applying.length).toBeGreaterThan(2);
    const counts = applying.map((e) => e.rowsApplied);
    for (const [i, e] of applying.entries()) {
      expect(e.step, JSON.stringify(e)).toEqual(expect.any(String));
      expect(e.rowsApplied).toEqual(expect.any(Number));
      expect(e.rowsPerSecond).toBeGreaterThan(0);
      expect(e.etaMs).toEqual(expect.any(Number));
      expect(e.estimate).toBe(ROWS);
      if (i > 0) expect(e.rowsApplied!, `applied went back: ${counts.join(', ')}`).toBeGreaterThanOrEqual(applying[i - 1].rowsApplied!);
    }
    expect(counts[counts.length - 1]).toBe(ROWS);
    // Seen moving while the rows went in, not only before and after.
    expect(counts.some((n) => n! > 0 && n! < ROWS), `no count between 0 and ${ROWS}: ${counts.join(', ')}`).toBe(true);
    expect(applying.map((e) => e.step)).toEqual(expect.arrayContaining(['deleting the old rows', 'inserting the staged rows']));
    expect(applying[applying.length - 1].etaMs).toBe(0);
    expect(String((await target.rows('SELECT count(*) FROM items'))[0][0])).toBe(String(ROWS));
  });
});
