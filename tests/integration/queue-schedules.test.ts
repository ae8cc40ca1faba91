/**
 * Schedules on the queue (issue 17): with `dbferry ui --queue`, a schedule is
 * a BullMQ job scheduler, so two apps (each with its own store, as on two
 * machines) with the same schedule fire each slot once, never start a second
 * run of the job while one is on the queue, and a slot missed while no app
 * was up runs once when one starts. The apps run in this process, each with
 * its own Redis connections; one `dbferry worker` process runs the runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvents } from '../../src/shared/api.js';
import { AppQueuedRuns } from '../../src/main/queue/appRuns.js';
import { schedulerKey } from '../../src/main/queue/queueScheduler.js';
import { localTimeZone } from '../../src/main/queue/cron.js';
import { parseQueueUrl } from '../../src/main/queue/redisUrl.js';
import type { RetryPolicy } from '../../src/main/queue/retryPolicy.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { BIN, ROOT, tempDir } from '../helpers/cli.js';
import { REDIS_URL, redisAnswers, startWorker, stopWorkers, testQueue, waitFor, type TestQueue, type TestWorker } from '../helpers/queue.js';

const redis = await redisAnswers();
const EVERY_SECOND = '* * * * * *';

let dir: string;
let queue: TestQueue;
let worker: TestWorker;
const apps: BrowserMode[] = [];

type Fired = ApiEvents['schedule/fired'] & { app: number };

async function startApp(n: number, fired: Fired[], log: string[] = [], retry?: RetryPolicy): Promise<BrowserMode> {
  const location = parseQueueUrl(queue.url);
  const app = await startBrowserMode({
    stateDir: join(dir, `app-${n}-${apps.length}`),
    baseDir: dir,
    scheduler: { log: (line) => log.push(line), retry },
    queued: (store) => new AppQueuedRuns(location, store),
  });
  apps.push(app);
  app.router.subscribe((event, payload) => {
    if (event === 'schedule/fired') fired.push({ ...(payload as ApiEvents['schedule/fired']), app: n });
  });
  return app;
}

async function call<T>(app: BrowserMode, command: string, input: unknown): Promise<T> {
  const r = await app.router.handle(command, input);
  if (!r.ok) throw new Error(r.error.message);
  return r.value as T;
}

/** The same saved job and schedule in an app's own store, as a user on each machine would save them. */
async function saveSchedule(app: BrowserMode, name: string, spec: Record<string, unknown>, cron = EVERY_SECOND): Promise<{ jobId: string; scheduleId: string }> {
  const job = await call<{ id: string }>(app, 'jobs/save', { spec: { name, ...spec } });
  const schedule = await call<{ id: string }>(app, 'schedules/save', { jobId: job.id, cron, enabled: true });
  return { jobId: job.id, scheduleId: schedule.id };
}

/** Every run on the queue with its slot and when a worker ran it. */
async function queuedRuns(): Promise<{ id: string; job: string; slot?: string; state: string; start?: number; end?: number }[]> {
  const q = new Queue('runs', { connection: { url: REDIS_URL }, prefix: queue.prefix });
  try {
    const jobs = await q.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'], 0, 9_999);
    return Promise.all(jobs.map(async (j) => ({ id: j.id!, job: j.data.spec.name as string, slot: j.data.slot as string | undefined, state: await j.getState(), start: j.processedOn, end: j.finishedOn })));
  } finally {
    await q.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!redis)('schedules on the queue: BullMQ job schedulers (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-queue-schedules-');
    queue = testQueue();
    const db = new Database(join(dir, 'source.db'));
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO items VALUES (?, ?)');
    for (let i = 1; i <= 40; i++) insert.run(i, `item ${i}`);
    db.close();
    worker = startWorker(queue.url, dir, 'sched-worker', { args: ['--concurrency', '3'] });
    await worker.ready;
  }, 30_000);
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    if (worker) await stopWorkers([worker]);
    await queue?.drop();
  });

  it('two apps with the same every-second schedule fire each slot once, and never two runs of the job at once', async () => {
    const fired: Fired[] = [];
    const [a, b] = [await startApp(1, fired), await startApp(2, fired)];
    // Each run takes about two seconds (40 rows at 20 rows/s): slots come while it runs. compare "never":
    // from the second run on, the rows compared equal would otherwise not be copied again, and a run would not last.
    const spec = {
      source: { url: `sqlite:${join(dir, 'source.db')}` },
      target: { url: `sqlite:${join(dir, 'slow-target.db')}` },
      tables: [{ source: 'items' }],
      options: { createTables: true, batch: { maxRows: 10 }, rateLimit: { rowsPerSecond: 20 }, compare: 'never' },
    };
    await saveSchedule(a, 'every second, slow', spec);
    await saveSchedule(b, 'every second, slow', spec);
    const from = Date.now();
    await sleep(8_000);
    await Promise.all(apps.splice(0).map((x) => x.close()));
    const until = Date.now();

    const mine = fired.filter((f) => f.jobName === 'every second, slow');
    // Each slot decided once, by one app: no slot twice, none beyond the seconds that passed.
    const slots = mine.map((f) => f.at);
    expect(new Set(slots).size, JSON.stringify(mine, null, 1)).toBe(slots.length);
    const seconds = Math.floor((until - from) / 1000);
    expect(mine.length, JSON.stringify(mine, null, 1)).toBeLessThanOrEqual(seconds + 1);
    // Not many fewer either (a slot taken late, on a busy machine, merges with the ones it passed).
    expect(mine.length).toBeGreaterThanOrEqual(Math.floor(seconds / 2));
    // Slots that came while a run was on the queue were skipped, and said so.
    const started = mine.filter((f) => f.outcome === 'started');
    const skipped = mine.filter((f) => f.outcome === 'skipped');
    expect(started.length).toBeGreaterThanOrEqual(2);
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    for (const s of skipped) expect(s.message).toMatch(/skipped the run due .*: run [0-9a-f]{8} of this job.* is still/);

    // On the queue: one run per started slot, and no two of them at once.
    await waitFor('the scheduled runs to end', async () => ((await queuedRuns()).filter((r) => r.job === 'every second, slow').every((r) => r.state === 'completed' || r.state === 'failed') ? true : undefined), 30_000);
    const runs = (await queuedRuns()).filter((r) => r.job === 'every second, slow').sort((x, y) => x.start! - y.start!);
    expect(runs.map((r) => r.id).sort()).toEqual(started.map((s) => s.runId).sort());
    expect(new Set(runs.map((r) => r.slot)).size).toBe(runs.length);
    for (const r of runs) expect(r.state).toBe('completed');
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.start!, `run ${runs[i]!.id} started before ${runs[i - 1]!.id} ended`).toBeGreaterThanOrEqual(runs[i - 1]!.end!);
  }, 60_000);

  it('a slot missed while no app was up runs once when an app starts; editing and removing a schedule changes its job scheduler', async () => {
    const fired: Fired[] = [];
    const spec = { source: { url: `sqlite:${join(dir, 'source.db')}` }, target: { url: `sqlite:${join(dir, 'fast-target.db')}` }, tables: [{ source: 'items' }], options: { createTables: true } };
    const first = await startApp(1, fired);
    await saveSchedule(first, 'missed slots', spec);
    const q = new Queue('schedules', { connection: { url: REDIS_URL }, prefix: queue.prefix });
    try {
      const key = schedulerKey('missed slots', EVERY_SECOND, localTimeZone());
      await waitFor('the job scheduler', async () => ((await q.getJobScheduler(key)) ? true : undefined), 10_000);
      await Promise.all(apps.splice(0).map((x) => x.close()));
      // No app for three and a half slots.
      await sleep(3_500);
      const firedBefore = fired.length;
      const restarted = Date.now();
      const second = await startApp(2, fired);
      const { scheduleId } = await saveSchedule(second, 'missed slots', spec);
      await sleep(2_500);
      const after = fired.slice(firedBefore).filter((f) => f.jobName === 'missed slots');
      // The missed slots ran once, as one run (at the first missed slot), then the regular ones.
      const missed = after.filter((f) => Date.parse(f.at) < restarted - 500);
      expect(missed, JSON.stringify(after, null, 1)).toHaveLength(1);
      expect(missed[0]!.outcome).toBe('started');
      expect(Date.parse(missed[0]!.at)).toBeLessThan(restarted - 1_500);
      expect(after.length).toBeGreaterThan(missed.length);

      // The job edited: its job scheduler runs the new spec.
      const jobId = (await call<{ id: string; jobId: string }[]>(second, 'schedules/list', {})).find((s) => s.id === scheduleId)!.jobId;
      const edited = { ...spec, target: { url: `sqlite:${join(dir, 'edited-target.db')}` } };
      await call(second, 'jobs/save', { id: jobId, spec: { name: 'missed slots', ...edited } });
      await waitFor('the job scheduler to carry the edited spec', async () => ((await q.getJobScheduler(key))?.template?.data?.spec?.target?.url === edited.target.url ? true : undefined), 10_000);
      // A new cron replaces the job scheduler; deleting the schedule removes it.
      await call(second, 'schedules/save', { id: scheduleId, jobId, cron: '0 3 * * *', enabled: true });
      const daily = schedulerKey('missed slots', '0 3 * * *', localTimeZone());
      await waitFor('the new job scheduler', async () => ((await q.getJobScheduler(daily)) && !(await q.getJobScheduler(key)) ? true : undefined), 10_000);
      expect((await q.getJobScheduler(daily))?.pattern).toBe('0 3 * * *');
      await call(second, 'schedules/delete', { id: scheduleId });
      await waitFor('the job scheduler removed', async () => ((await q.getJobScheduler(daily)) ? undefined : true), 10_000);
    } finally {
      await q.close();
    }
  }, 60_000);

  it('a scheduled run that could not reach its server is retried by the retry policy, then given up until the next regular slot', async () => {
    const fired: Fired[] = [];
    const log: string[] = [];
    const app = await startApp(1, fired, log, { max: 1, baseDelayMs: 300, maxDelayMs: 300 });
    // Nothing listens on port 1: a connection failure another try may get past.
    const spec = { source: { url: `sqlite:${join(dir, 'source.db')}` }, target: { url: 'postgres://postgres@127.0.0.1:1/nowhere' }, tables: [{ source: 'items' }], options: { retries: { max: 0 } } };
    const { scheduleId } = await saveSchedule(app, 'unreachable target', spec, '*/5 * * * * *');
    await waitFor('the retry to be given up', async () => (log.some((l) => /gave up after 1 retry/.test(l)) ? true : undefined), 20_000);
    const mine = fired.filter((f) => f.jobName === 'unreachable target' && f.outcome === 'started');
    expect(mine.length, log.join('\n')).toBeGreaterThanOrEqual(2);
    expect(mine[0]!.message).not.toMatch(/retry/);
    expect(mine[1]!.message).toMatch(/\(retry 1 of 1\)/);
    // The retry came before the next regular slot, not at it.
    expect(Date.parse(mine[1]!.at) - Date.parse(mine[0]!.at)).toBeLessThan(5_000);
    expect(log.join('\n')).toMatch(/failed \(.*\); retry 1 of 1 at /);
    const [listed] = (await call<{ id: string; lastOutcome: { message: string } | null }[]>(app, 'schedules/list', {})).filter((x) => x.id === scheduleId);
    expect(listed?.lastOutcome?.message).toMatch(/gave up after 1 retry, the next regular run is the next try/);
  }, 60_000);

  it('two `dbferry ui --queue` processes with the same every-second schedule fire each slot once', async () => {
    const uis: { child: ChildProcess; log: () => string; call<T>(command: string, input: unknown): Promise<T> }[] = [];
    try {
      for (const n of [1, 2]) {
        const child = spawn(process.execPath, [BIN, 'ui', '--queue', queue.url, '--state', join(dir, `ui-${n}`)], { cwd: ROOT, env: process.env });
        let log = '';
        let out = '';
        child.stderr!.on('data', (d) => (log += d));
        child.stdout!.on('data', (d) => (out += d));
        const url = new URL(await waitFor(`dbferry ui ${n} to serve`, async () => out.match(/^http\S+/m)?.[0], 20_000));
        const token = url.searchParams.get('token')!;
        uis.push({
          child,
          log: () => log,
          async call<T>(command: string, input: unknown) {
            const res = await fetch(`${url.origin}/api/${command}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-dbferry-token': token }, body: JSON.stringify(input) });
            const body = (await res.json()) as { ok: boolean; value?: T; error?: { message: string } };
            if (!body.ok) throw new Error(body.error!.message);
            return body.value as T;
          },
        });
      }
      const spec = { name: 'every second, two processes', source: { url: `sqlite:${join(dir, 'source.db')}` }, target: { url: `sqlite:${join(dir, 'two-processes.db')}` }, tables: [{ source: 'items' }], options: { createTables: true } };
      for (const ui of uis) {
        const job = await ui.call<{ id: string }>('jobs/save', { spec });
        await ui.call('schedules/save', { jobId: job.id, cron: EVERY_SECOND, enabled: true });
      }
      const from = Date.now();
      await sleep(6_000);
      for (const ui of uis) ui.child.kill('SIGTERM');
      await Promise.all(uis.map((ui) => new Promise((r) => (ui.child.exitCode !== null ? r(undefined) : ui.child.once('exit', r)))));
      const seconds = Math.floor((Date.now() - from) / 1000);
      // What each process decided, slot by slot, from its log.
      const decided = uis.flatMap((ui, n) => [...ui.log().matchAll(/schedule "every second, two processes" \(\* \* \* \* \* \*\): (started run \w+ for the slot (\S+)|skipped the run due (\S+):)/g)].map((m) => ({ n, slot: m[2] ?? m[3]!, started: m[2] !== undefined })));
      const slots = decided.map((d) => d.slot);
      expect(new Set(slots).size, JSON.stringify(decided)).toBe(slots.length);
      expect(slots.length, uis.map((u) => u.log()).join('\n')).toBeLessThanOrEqual(seconds + 1);
      expect(slots.length).toBeGreaterThanOrEqual(Math.floor(seconds / 2));
      await waitFor('the runs to end', async () => ((await queuedRuns()).filter((r) => r.job === spec.name).every((r) => r.state === 'completed' || r.state === 'failed') ? true : undefined), 30_000);
      const runs = (await queuedRuns()).filter((r) => r.job === spec.name).sort((x, y) => x.start! - y.start!);
      expect(runs.length).toBe(decided.filter((d) => d.started).length);
      expect(runs.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < runs.length; i++) expect(runs[i]!.start!).toBeGreaterThanOrEqual(runs[i - 1]!.end!);
    } finally {
      for (const ui of uis) if (ui.child.exitCode === null) ui.child.kill('SIGKILL');
    }
  }, 60_000);
});
