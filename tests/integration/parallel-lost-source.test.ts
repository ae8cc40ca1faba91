/**
 * One lane passing bytes through on the main thread loses its source connection
 * mid-table (continued from parallel.test.ts). Both targets read the same source
 * database, made once: each run kills that database's sessions, one run at a time.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

let dir: string;
let state: string;
let server: TestDb;
let expectedBig: { rows: number; sha: string } | null;
beforeAll(async () => {
  dir = tempDir('dbferry-parallel-');
  state = join(dir, 'state');
  server = await createTestDb('postgres', dir);
  await server.exec(`CREATE TABLE big (id int PRIMARY KEY, pad varchar(100) NOT NULL);
    INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 800000) g; ANALYZE big`);
  expectedBig = await server.checksum('big', 'id');
});
afterAll(() => server?.drop());

describe.each(['postgres', 'sqlite'] as const)('one lane passing bytes through into %s, on the main thread', (engine) => {
  it('loses its source connection mid-table and still copies every row once: the rest is read in a new snapshot, said in a warning', async () => {
    const target = await createTestDb(engine, dir);
    try {
      const spec = writeJob(dir, {
        source: { url: server.url },
        target: { url: target.url },
        tables: [{ source: 'big', mode: 'replace' }],
        options: { chunkRows: 30000, verify: 'checksum', retries: { max: 5, baseDelayMs: 50 } },
      }, `job-${Math.random().toString(36).slice(2)}.json`);
      let killed = 0;
      const r = await dbferryUntil(['run', spec, '--json', '--state', state], (e) => e.type === 'progress' && Number(e.rowsRead ?? 0) >= 30000, async () => {
        killed = await server.killSessions();
      });
      expect(killed, 'the run had source sessions to kill').toBeGreaterThan(0);
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
      const warnings = r.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
      expect(warnings.join('\n')).toMatch(/snapshot was lost|lost the source connection/);
      expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 800000, rowsWritten: 800000, rowsDeadLettered: 0 });
      expect(expectedBig?.rows).toBe(800000);
      expect(await target.checksum('big', 'id')).toEqual(expectedBig);
    } finally {
      await target.drop();
    }
  });
});
