/**
 * A queued run whose worker dies after the apply committed (issue 17): the
 * next worker only verifies it (the target's marker), and the app still gets
 * its backup records, since they travel with the run's state in the job, and
 * restores the target from them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunSummary } from '../../src/shared/events.js';
import { AppQueuedRuns } from '../../src/main/queue/appRuns.js';
import { parseQueueUrl } from '../../src/main/queue/redisUrl.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { tempDir } from '../helpers/cli.js';
import { redisAnswers, startWorker, stopWorkers, testQueue, type TestQueue, type TestWorker } from '../helpers/queue.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const redis = await redisAnswers();
const SHORT_LOCK = { env: { DBFERRY_QUEUE_LOCK_MS: '3000' } };

let dir: string;
let queue: TestQueue;
let app: BrowserMode;
let source: TestDb;
let target: TestDb;
const workers: TestWorker[] = [];

describe.skipIf(!redis)('backups of a run taken over after its apply (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-queue-takeover-');
    queue = testQueue();
    source = await createTestDb('postgres', dir);
    target = await createTestDb('postgres', dir);
    await source.exec("CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big SELECT i, 'row ' || i FROM generate_series(1, 30000) i");
    await target.exec("CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big SELECT i, 'old ' || i FROM generate_series(1, 100) i");
    app = await startBrowserMode({ stateDir: join(dir, 'app'), baseDir: dir, queued: (store) => new AppQueuedRuns(parseQueueUrl(queue.url), store) });
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await stopWorkers(workers);
    await source?.drop();
    await target?.drop();
    await queue?.drop();
  });

  it('the worker is SIGKILLed after the commit; the heir verifies; the app lists the backup and restores from it', async () => {
    // Held before verification, so the kill lands after the commit however fast this machine verifies.
    const doomed = startWorker(queue.url, dir, 'doomed', { env: { ...SHORT_LOCK.env, DBFERRY_TEST_PAUSE_AT: 'before-verify' } });
    workers.push(doomed);
    await doomed.ready;
    let runId = '';
    const ended = new Promise<RunSummary>((resolve) =>
      app.router.subscribe((event, payload) => {
        if (event === 'run/finished' && (payload as RunSummary).runId === runId) resolve(payload as RunSummary);
        if (event === 'run/event' && (payload as { event: RunEvent }).event.type === 'apply-committed' && doomed.child.exitCode === null) {
          // Past the commit, its backup records handed to the job, held before verification.
          setTimeout(() => {
            doomed.child.kill('SIGKILL');
            workers.push(startWorker(queue.url, dir, 'heir', SHORT_LOCK));
          }, 500);
        }
      }),
    );
    const r = await app.router.handle('runs/start', { spec: { name: 'taken over after apply', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'big', mode: 'upsert' }] } });
    if (!r.ok) throw new Error(r.error.message);
    runId = (r.value as { runId: string }).runId;
    const summary = await ended;
    expect(summary, summary.error).toMatchObject({ status: 'succeeded', rowsWritten: 30000 });
    expect(await doomed.exited).toMatchObject({ signal: 'SIGKILL' });
    // The heir continued it (found applied by its marker), not the doomed worker.
    expect(workers[1]!.log()).toContain(`continuing run ${runId}`);
    expect(await target.rows("SELECT count(*), count(*) FILTER (WHERE v LIKE 'old%') FROM big")).toEqual([['30000', '0']]);

    const backups = await app.router.handle('backups/list', { runId });
    expect(backups.ok && (backups.value as unknown[]).length, JSON.stringify(backups)).toBeGreaterThanOrEqual(1);
    const restored = await app.router.handle('backups/restore', { runId });
    expect(restored.ok, JSON.stringify(restored)).toBe(true);
    expect(await target.rows("SELECT count(*), count(*) FILTER (WHERE v LIKE 'old%') FROM big")).toEqual([['100', '100']]);
  }, 90_000);
});
