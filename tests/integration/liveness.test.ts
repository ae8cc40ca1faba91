/**
 * `resume` tells a live run from a killed one by a lock the operating system
 * releases with the process, not by its PID: a killed process nobody has
 * reaped, or another process that got its PID, answers to that PID.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { sqliteAll, sqliteExec } from '../helpers/sqlite.js';

const ROWS = 6000;

function slowJob(dir: string): string {
  sqliteExec(
    join(dir, 'src.db'),
    `CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL);
     WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) INSERT INTO ledger SELECT i, i * 7 FROM c`,
  );
  // A rule keeps the rows on the row path, small batches make the run last long enough to be caught mid-run.
  return writeJob(dir, {
    source: { url: 'sqlite:src.db' },
    target: { url: 'sqlite:copy.db' },
    tables: [{ source: 'ledger', mode: 'upsert', rules: { amount: { min: 0 } } }],
    options: { batch: { maxRows: 20 } },
  });
}

describe('resume and a run\'s liveness', () => {
  it('resumes a killed run whose PID now answers for another process', async () => {
    const dir = tempDir('dbferry-liveness-');
    const state = join(dir, 'state');
    const job = slowJob(dir);
    const killed = await dbferryUntil(['run', job, '--state', state], (e) => e.type === 'table-started', (c) => void c.kill('SIGKILL'), { delayMs: 150 });
    expect(killed.signal).toBe('SIGKILL');
    const runId = killed.events[0].runId as string;
    // Another process now holds the dead run's PID (as a reused PID, or the unreaped killed process, would).
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const store = new Database(join(state, 'dbferry.db'));
      store.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(other.pid, runId);
      store.close();
      const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.events.at(-1)).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS });
      expect(sqliteAll(join(dir, 'copy.db'), 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM ledger')).toEqual([{ n: ROWS, d: ROWS }]);
    } finally {
      other.kill();
    }
  });

  it('refuses to resume a run that is still running, and that run finishes undisturbed', async () => {
    const dir = tempDir('dbferry-liveness-');
    const state = join(dir, 'state');
    const job = slowJob(dir);
    let refusal: Awaited<ReturnType<typeof dbferry>> | undefined;
    const run = await dbferryUntil(['run', job, '--json', '--state', state], (e) => e.type === 'table-started', async () => {
      const runs = new Database(join(state, 'dbferry.db'), { readonly: true });
      const id = (runs.prepare("SELECT id FROM runs WHERE status = 'running'").get() as { id: string }).id;
      runs.close();
      refusal = await dbferry(['resume', id, '--state', state]);
    });
    expect(refusal?.code).not.toBe(0);
    expect(refusal?.stderr + (refusal?.stdout ?? '')).toMatch(/is still running in another process/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.events.at(-1)).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: ROWS });
  });
});
