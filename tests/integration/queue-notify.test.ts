/**
 * The failure webhook of a queued run fires once per failure, not once per
 * worker that tried (issue 17). A run whose workers keep dying is failed by
 * BullMQ in the next worker without being run: no run reaches its end there,
 * and before, no one told the webhook at all. Here a worker is SIGKILLed
 * mid-run with no takeover allowed (DBFERRY_QUEUE_MAX_TAKEOVERS=0), and the
 * next worker fails the run and tells the webhook, once.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { redisAnswers, startWorker, stopWorkers, testQueue, waitFor, type TestQueue, type TestWorker } from '../helpers/queue.js';

const redis = await redisAnswers();

let dir: string;
let queue: TestQueue;
let hook: Server;
const heard: Record<string, unknown>[] = [];
const workers: TestWorker[] = [];

describe.skipIf(!redis)('the failure webhook of a queued run (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-queue-notify-');
    queue = testQueue();
    const db = new Database(join(dir, 'source.db'));
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO items VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 3000; i++) insert.run(i, `item ${i}`);
    })();
    db.close();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        heard.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await stopWorkers(workers);
    hook?.close();
    await queue?.drop();
  });

  it('a run failed after its worker died is told to the webhook once, by the worker that failed it', async () => {
    const env = { env: { DBFERRY_QUEUE_LOCK_MS: '2000', DBFERRY_QUEUE_MAX_TAKEOVERS: '0' } };
    const first = startWorker(queue.url, dir, 'dying', env);
    workers.push(first);
    await first.ready;
    const job = writeJob(dir, {
      name: 'dies mid-run',
      source: { url: `sqlite:${join(dir, 'source.db')}` },
      target: { url: `sqlite:${join(dir, 'target.db')}` },
      tables: [{ source: 'items' }],
      notify: { webhook: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook` },
      options: { createTables: true, batch: { maxRows: 100 }, rateLimit: { rowsPerSecond: 500 } },
    });
    const queued = await dbferry(['run', job, '--queue', queue.url, '--detach']);
    expect(queued.code, queued.stderr).toBe(0);
    const runId = queued.stdout.trim();
    await waitFor('the first worker to start the run', async () => (first.log().includes(`starting run ${runId}`) ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startWorker(queue.url, dir, 'next', env);
    workers.push(second);
    await queue.finished([runId], 30_000);
    await waitFor('the webhook', async () => (heard.length ? true : undefined), 10_000);
    // Nothing more comes.
    await new Promise((r) => setTimeout(r, 1500));
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ runId, status: 'failed', job: 'dies mid-run' });
    expect(heard[0]!.error).toMatch(/taken over .* and failed: job stalled more than allowable limit/);
    expect(second.log()).toContain(`run ${runId}: the run was taken over`);
    const listed = await dbferry(['runs', '--queue', queue.url, '--json']);
    expect(listed.events.find((e) => e.runId === runId)).toMatchObject({ state: 'failed' });
  }, 90_000);
});
