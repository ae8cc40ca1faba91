/**
 * A delta re-sync with the default bucket sizes stages only the rows that
 * differ: scattered changes fall in buckets of 32 keys at the first level,
 * and each differing bucket is hashed again key by key (through the key's
 * index) before anything is staged, so 40 changed source rows of 20,000 are
 * 40 rows read, not 40 buckets of 32. Across engines too, where the rows are
 * hashed in one normalized text.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';

// The default leaf size, whatever another file of this worker set.
delete process.env.DBFERRY_COMPARE_ROWS;

const ROWS = 20_000;
const PAIRS: Array<[EngineName, EngineName]> = [
  ['mysql', 'mysql'],
  ['mysql', 'postgres'],
  ['postgres', 'mysql'],
];

describe.each(PAIRS)('delta leaves %s → %s', (sourceEngine, targetEngine) => {
  const dir = tempDir();
  const state = join(dir, 'state');
  let source: TestDb;
  let target: TestDb;
  const job = (mode: string) =>
    writeJob(dir, { name: `leaves ${mode}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'items', mode }], options: { verify: 'checksum' } }, `${mode}.json`);
  const run = async (mode: string) => {
    const r = await dbferry(['run', job(mode), '--json', '--state', state], { env: { ...process.env, DBFERRY_COMPARE_ROWS: '', DBFERRY_ROW_VERSIONS: '0' } });
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    return r.events.at(-1) as unknown as { rowsRead: number; tables: Array<{ applied: Record<string, number>; path: string; verified: string }> };
  };
  const rows = async (db: TestDb) => (await db.rows('SELECT id, name, qty, price FROM items ORDER BY id')).map((r) => r.map(String));

  beforeAll(async () => {
    [source, target] = await Promise.all([createTestDb(sourceEngine, dir), createTestDb(targetEngine, dir)]);
    if (sourceEngine === 'postgres') {
      await source.exec('CREATE TABLE items (id bigint PRIMARY KEY, name varchar(40) NOT NULL, qty int, price numeric(10,2) NOT NULL)');
      await source.exec(`INSERT INTO items SELECT g, 'item ' || g, g % 7, g / 8.0 FROM generate_series(1, ${ROWS}) AS g`);
      await source.exec('ANALYZE items');
    } else {
      await source.exec('CREATE TABLE items (id bigint NOT NULL PRIMARY KEY, name varchar(40) NOT NULL, qty int NULL, price decimal(10,2) NOT NULL) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci');
      await source.exec(`INSERT INTO items SELECT seq, CONCAT('item ', seq), seq % 7, seq / 8 FROM seq_1_to_${ROWS}`);
      await source.exec('ANALYZE TABLE items');
    }
  }, 120_000);
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('stages exactly the changed source rows, and the target equals the source', async () => {
    await run('replace');
    const want = await rows(source);
    // 20 rows changed and 20 gone, one every 997 keys; 5 keys only the target has.
    const changed = Array.from({ length: 20 }, (_, i) => 500 + i * 997);
    const gone = changed.map((k) => k + 1);
    await target.exec(`UPDATE items SET qty = 100 WHERE id IN (${changed.join(', ')})`);
    await target.exec(`DELETE FROM items WHERE id IN (${gone.join(', ')})`);
    await target.exec(`INSERT INTO items (id, name, qty, price) VALUES ${[0, -7, ROWS + 3, ROWS * 2, ROWS * 50].map((k) => `(${k}, 'extra', 0, 1)`).join(', ')}`);

    const summary = await run('mirror');
    const t = summary.tables[0];
    expect(t.path).toMatch(/^delta: range hashes/);
    expect(t.applied).toMatchObject({ inserted: 20, updated: 20, deleted: 5, unchanged: ROWS - 40 });
    expect(summary.rowsRead, t.path).toBe(40);
    expect(t.verified).toBe('checksum');
    expect(await rows(target)).toEqual(want);
  });
});
