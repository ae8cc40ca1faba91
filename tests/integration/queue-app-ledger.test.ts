/**
 * The app on a queue shows a queued run's dead letters and backups (issue 17),
 * though a `dbferry worker` process ran it in its own store: the worker leaves
 * them in the job at the run's end, the app records them in its store and
 * takes them out of Redis; retry and restore then work from the app.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/events.js';
import { AppQueuedRuns } from '../../src/main/queue/appRuns.js';
import { parseQueueUrl } from '../../src/main/queue/redisUrl.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { tempDir } from '../helpers/cli.js';
import { REDIS_URL, redisAnswers, startWorker, stopWorkers, testQueue, type TestQueue, type TestWorker } from '../helpers/queue.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const redis = await redisAnswers();

let dir: string;
let queue: TestQueue;
let worker: TestWorker;
let app: BrowserMode;
let target: TestDb;

async function call<T>(command: string, input: unknown): Promise<T> {
  const r = await app.router.handle(command, input);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
}

function finished(runId: string): Promise<RunSummary> {
  return new Promise((resolve) => {
    const off = app.router.subscribe((event, payload) => {
      if (event === 'run/finished' && (payload as RunSummary).runId === runId) {
        off();
        resolve(payload as RunSummary);
      }
    });
  });
}

describe.skipIf(!redis)('a queued run\'s dead letters and backups in the app (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-queue-ledger-');
    queue = testQueue();
    const db = new Database(join(dir, 'people.db'));
    db.exec("CREATE TABLE people (id INTEGER PRIMARY KEY, age INTEGER NOT NULL); INSERT INTO people VALUES (1, '30'), (2, 'about forty'), (3, '40')");
    db.close();
    target = await createTestDb('postgres', dir);
    await target.exec('CREATE TABLE people (id int PRIMARY KEY, age int NOT NULL); INSERT INTO people VALUES (1, 99)');
    worker = startWorker(queue.url, dir, 'ledger-worker');
    const location = parseQueueUrl(queue.url);
    app = await startBrowserMode({ stateDir: join(dir, 'app'), baseDir: dir, queued: (store) => new AppQueuedRuns(location, store) });
    await worker.ready;
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    if (worker) await stopWorkers([worker]);
    await target?.drop();
    await queue?.drop();
  });

  it('a worker runs it; the app lists its dead letter and its backup, Redis keeps neither, and retry and restore work from the app', async () => {
    const spec = { name: 'people', source: { url: `sqlite:${join(dir, 'people.db')}` }, target: { url: target.url }, tables: [{ source: 'people', mode: 'upsert' }], options: { maxInvalidRows: 5 } };
    const { runId } = await call<{ runId: string }>('runs/start', { spec });
    const summary = await finished(runId);
    expect(summary, summary.error).toMatchObject({ status: 'dead-lettered', rowsWritten: 2, rowsDeadLettered: 1 });
    expect(worker.log()).toContain(`starting run ${runId}`);
    expect(await target.rows('SELECT id, age FROM people ORDER BY id')).toEqual([['1', '30'], ['3', '40']]);

    const letters = await call<{ total: number; items: { runId: string; row: Record<string, unknown>; reasons: string[]; status: string }[] }>('deadLetters/list', { runId });
    expect(letters.total).toBe(1);
    expect(letters.items[0]).toMatchObject({ runId, row: { id: 2, age: 'about forty' }, status: 'open' });
    expect(letters.items[0]!.reasons.join(' ')).toMatch(/age/);
    const backups = await call<{ runId: string; targetTable: string }[]>('backups/list', { runId });
    expect(backups.length).toBeGreaterThanOrEqual(1);
    expect(backups[0]).toMatchObject({ runId, targetTable: 'public.people' });

    // The refused row's values left Redis once the app had them.
    const q = new Queue('runs', { connection: { url: REDIS_URL }, prefix: queue.prefix });
    try {
      expect((await q.getJob(runId))?.data.ledger).toBeUndefined();
    } finally {
      await q.close();
    }
    expect(await queue.dataset()).not.toContain('about forty');

    // Restore from the app, with the worker's backup record: the table as it was before the run.
    const restored = await call<{ tables: unknown[] }>('backups/restore', { runId });
    expect(restored.tables.length).toBeGreaterThanOrEqual(1);
    expect(await target.rows('SELECT id, age FROM people ORDER BY id')).toEqual([['1', '99']]);

    // Retry from the app: the row is still not a number, so it is refused again, by the retry run.
    const retry = await call<{ runId: string }>('deadLetters/retry', { runId });
    const retried = await finished(retry.runId);
    expect(retried.rowsDeadLettered).toBe(1);
    expect((await call<{ items: { status: string }[] }>('deadLetters/list', { runId })).items[0]!.status).toBe('retried');
  }, 90_000);

  it('a run the app stopped following when it closed is followed again when it starts: its end and dead letters reach the history', async () => {
    const state = join(dir, 'app-restarted');
    const location = parseQueueUrl(queue.url);
    const db = new Database(join(dir, 'slow.db'));
    db.exec('CREATE TABLE stock (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO stock VALUES (?, ?)');
    for (let i = 1; i <= 60; i++) insert.run(i, i === 7 ? -1 : i);
    db.close();
    const first = await startBrowserMode({ stateDir: state, baseDir: dir, queued: (store) => new AppQueuedRuns(location, store) });
    let runId: string;
    try {
      const started = new Promise<void>((resolve) => first.router.subscribe((event, payload) => event === 'run/event' && (payload as { event: { type: string } }).event.type === 'run-started' && resolve()));
      const r = await first.router.handle('runs/start', {
        spec: { name: 'slow stock', source: { url: `sqlite:${join(dir, 'slow.db')}` }, target: { url: `sqlite:${join(dir, 'slow-target.db')}` }, tables: [{ source: 'stock', rules: { qty: { min: 0 } } }], options: { createTables: true, maxInvalidRows: 5, batch: { maxRows: 10 }, rateLimit: { rowsPerSecond: 30 } } },
      });
      if (!r.ok) throw new Error(r.error.message);
      runId = (r.value as { runId: string }).runId;
      await started;
    } finally {
      await first.close();
    }
    // Closed mid-run: the app's history says it stopped following; the worker goes on.
    const check = new Database(join(state, 'dbferry.db'), { readonly: true });
    try {
      expect(check.prepare('SELECT status, error FROM runs WHERE id = ?').get(runId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^no longer followed here/) });
    } finally {
      check.close();
    }
    await queue.finished([runId], 30_000);

    const again = await startBrowserMode({ stateDir: state, baseDir: dir, queued: (store) => new AppQueuedRuns(location, store) });
    try {
      const call2 = async <T>(command: string, input: unknown): Promise<T> => {
        const res = await again.router.handle(command, input);
        if (!res.ok) throw new Error(res.error.message);
        return res.value as T;
      };
      const status = async () => {
        const { run } = await call2<{ run: { status: string; error: string | null } }>('runs/get', { runId });
        return `${run.status} ${run.error ?? ''}`.trim();
      };
      await expect.poll(status, { timeout: 15_000 }).toBe('dead-lettered');
      const detail = await call2<{ run: { rowsWritten: number; rowsDeadLettered: number } }>('runs/get', { runId });
      expect(detail.run).toMatchObject({ rowsWritten: 59, rowsDeadLettered: 1 });
      const letters = await call2<{ total: number; items: { row: Record<string, unknown> }[] }>('deadLetters/list', { runId });
      expect(letters.total).toBe(1);
      expect(letters.items[0]!.row).toMatchObject({ id: 7, qty: -1 });
    } finally {
      await again.close();
    }
  }, 90_000);
});
