/**
 * The app on a queue puts a failed queued run back on the queue (issue 17):
 * BullMQ's failed set is the dead-letter queue of runs, and the run screen's
 * Resume (runs/resume) on a queued run retries its job under the same id, for
 * a worker, instead of running it in the app.
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

const redis = await redisAnswers();

let dir: string;
let queue: TestQueue;
let worker: TestWorker;
let app: BrowserMode;

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

describe.skipIf(!redis)('a failed queued run put back on the queue from the app (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-queue-requeue-');
    queue = testQueue();
    new Database(join(dir, 'source.db')).close();
    worker = startWorker(queue.url, dir, 'requeue-worker');
    const location = parseQueueUrl(queue.url);
    app = await startBrowserMode({ stateDir: join(dir, 'app'), baseDir: dir, queued: (store) => new AppQueuedRuns(location, store) });
    await worker.ready;
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    if (worker) await stopWorkers([worker]);
    await queue?.drop();
  });

  it('a run that failed on a missing table succeeds, on the worker, once the table is there and the app puts it back', async () => {
    const spec = { name: 'late table', source: { url: `sqlite:${join(dir, 'source.db')}` }, target: { url: `sqlite:${join(dir, 'target.db')}` }, tables: [{ source: 'late' }], options: { createTables: true } };
    const { runId } = await call<{ runId: string }>('runs/start', { spec });
    const failed = await finished(runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/late/);
    const q = new Queue('runs', { connection: { url: REDIS_URL }, prefix: queue.prefix });
    try {
      expect(await q.getJobState(runId)).toBe('failed');
      const db = new Database(join(dir, 'source.db'));
      db.exec("CREATE TABLE late (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO late VALUES (1, 'one'), (2, 'two')");
      db.close();

      const again = finished(runId);
      const resumed = await call<{ runId: string }>('runs/resume', { runId });
      expect(resumed.runId).toBe(runId);
      expect((await call<{ run: { status: string } }>('runs/get', { runId })).run.status).toBe('running');
      expect(await again).toMatchObject({ runId, status: 'succeeded', rowsWritten: 2 });
      // The worker ran it both times, under its id; the app's history shows its end.
      expect(worker.log().split(`starting run ${runId}`).length - 1).toBe(2);
      expect(await q.getJobState(runId)).toBe('completed');
      const detail = await call<{ run: { status: string }; events: { event: { type: string; message?: string } }[] }>('runs/get', { runId });
      expect(detail.run.status).toBe('succeeded');
      expect(detail.events.some((e) => e.event.type === 'warning' && /^put back on redis:/.test(e.event.message ?? ''))).toBe(true);

      // A run that succeeded is not put back.
      const refused = await app.router.handle('runs/resume', { runId });
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.error.message).toMatch(/is completed: only a failed run can be put back on the queue/);
    } finally {
      await q.close();
    }
  }, 60_000);
});
