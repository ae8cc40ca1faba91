/**
 * Issue 7, schedules: the scheduler inside the API router starts saved jobs
 * when they are due, against real SQLite files (and a real MariaDB login for
 * the password case), and records what it did. A bad cron is refused with its
 * message; a job never runs twice at once; a slot missed while dbferry was
 * closed runs once; a server that cannot be reached is retried with backoff;
 * a password dbferry no longer has gives a message that says what to do.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, CommandName, ScheduleDto } from '../../src/shared/api.js';
import type { RunSummary } from '../../src/shared/events.js';
import { type Router, createRouter } from '../../src/main/api/router.js';
import { MemorySecrets } from '../../src/main/api/secrets.js';
import type { SchedulerOptions } from '../../src/main/queue/scheduler.js';
import { Store } from '../../src/main/store/store.js';
import { tempDir } from '../helpers/cli.js';
import { type MysqlTestDatabase, createMysqlDatabase } from '../helpers/mysql.js';
import { sqliteAll } from '../helpers/sqlite.js';

let dir: string;
const routers: Router[] = [];
const stores: Store[] = [];

function makeSource(path: string, rows: number): void {
  const db = new Database(path);
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, qty INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO orders VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= rows; i++) insert.run(i, `SKU-${i % 40}`, (i % 12) + 1);
  })();
  db.close();
}

/** A router as `dbferry ui` makes one (passwords for the session only), on the state folder `name`. */
function open(name: string, scheduler?: SchedulerOptions): Router {
  const store = Store.open(join(dir, name));
  stores.push(store);
  const router = createRouter({ mode: 'browser', stateDir: join(dir, name), baseDir: dir, store, secrets: new MemorySecrets(), scheduler });
  routers.push(router);
  return router;
}

async function call<T = unknown>(router: Router, command: CommandName, input: unknown): Promise<T> {
  const r: ApiResult = await router.handle(command, input);
  if (!r.ok) throw new Error(`${command}: ${r.error.message}`);
  return r.value as T;
}

function job(name: string, source: string, target: string, options: Record<string, unknown> = {}) {
  return { name, source: { url: source }, target: { url: target }, tables: [{ source: 'orders', mode: 'upsert' }], options: { retries: { max: 0, baseDelayMs: 10 }, ...options } };
}

async function saveJob(router: Router, spec: ReturnType<typeof job>): Promise<string> {
  return (await call<{ id: string }>(router, 'jobs/save', { spec })).id;
}

async function schedule(router: Router, id: string): Promise<ScheduleDto> {
  const all = await call<ScheduleDto[]>(router, 'schedules/list', {});
  return all.find((s) => s.id === id)!;
}

/** The run's end, once the scheduler has recorded what follows it. */
async function finished(router: Router, runId: string): Promise<RunSummary> {
  const active = router.context.activeRuns.get(runId);
  expect(active, `run ${runId} is running`).toBeDefined();
  const summary = (await active!.done) as RunSummary;
  await new Promise((r) => setImmediate(r));
  return summary;
}

function runsOfJob(router: Router, jobId: string) {
  return router.context.store.listRuns(1000).filter((r) => r.jobId === jobId);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  dir = tempDir('dbferry-sched-');
  makeSource(join(dir, 'shop.db'), 1000);
});

afterAll(async () => {
  for (const r of routers) await r.close();
  for (const s of stores) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('schedules through the API', () => {
  it('refuses a bad cron expression with a message naming it, and a job that does not exist', async () => {
    const router = open('state-refuse');
    const jobId = await saveJob(router, job('refused', 'sqlite:shop.db', 'sqlite:refused.db'));
    const bad = await router.handle('schedules/save', { jobId, cron: '61 * * * *' });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.error.code).toBe('invalid-input');
    expect(bad.error.message).toContain('cron: "61 * * * *" is not a valid cron expression');
    expect(bad.error.message).toMatch(/0-59/);

    const fields = await router.handle('schedules/save', { jobId, cron: '0 2 * *' });
    expect(!fields.ok && fields.error.message).toContain('"0 2 * *" is not a valid cron expression: it has 4 fields');
    const empty = await router.handle('schedules/save', { jobId, cron: '  ' });
    expect(!empty.ok && empty.error.message).toMatch(/^schedules\/save: cron: give a cron expression/);
    const noJob = await router.handle('schedules/save', { jobId: 'no-such-job', cron: '0 2 * * *' });
    expect(!noJob.ok && noJob.error.code).toBe('not-found');

    const preview = await call<{ ok: boolean; error?: string }>(router, 'schedules/preview', { cron: 'every night' });
    expect(preview).toEqual({ ok: false, error: expect.stringContaining('"every night" is not a valid cron expression') });
    expect(await call(router, 'schedules/list', {})).toEqual([]);
  });

  it('saves a schedule with its next run and its description; a disabled one has no next run', async () => {
    const router = open('state-save');
    const jobId = await saveJob(router, job('nightly', 'sqlite:shop.db', 'sqlite:nightly.db'));
    const before = Date.now();
    const s = await call<ScheduleDto>(router, 'schedules/save', { jobId, cron: ' 0  2 * * * ' });
    expect(s).toMatchObject({ jobId, jobName: 'nightly', cron: '0 2 * * *', description: 'At 02:00', enabled: true, lastRun: null, lastOutcome: null, warnings: [] });
    const next = new Date(s.nextRunAt!);
    expect(next.getTime()).toBeGreaterThan(before);
    expect(next.getTime() - before).toBeLessThanOrEqual(24 * 3600_000);
    expect([next.getHours(), next.getMinutes(), next.getSeconds()]).toEqual([2, 0, 0]);

    const off = await call<ScheduleDto>(router, 'schedules/save', { id: s.id, jobId, cron: s.cron, enabled: false });
    expect(off).toMatchObject({ id: s.id, enabled: false, nextRunAt: null });
    expect(await call(router, 'schedules/delete', { id: s.id })).toEqual({ deleted: true });
    expect(await call(router, 'schedules/list', {})).toEqual([]);
  });
});

describe('the scheduler', () => {
  it('starts a due job at its time and records the run in the history', async () => {
    let clock = new Date();
    const router = open('state-due', { now: () => clock });
    const jobId = await saveJob(router, job('every five minutes', 'sqlite:shop.db', 'sqlite:due.db'));
    const s = await call<ScheduleDto>(router, 'schedules/save', { jobId, cron: '*/5 * * * *' });

    clock = new Date(Date.parse(s.nextRunAt!) - 1000);
    expect(router.scheduler.tick()).toEqual([]);
    clock = new Date(Date.parse(s.nextRunAt!) + 1500);
    const [fired, ...more] = router.scheduler.tick();
    expect(more).toEqual([]);
    expect(fired).toMatchObject({ scheduleId: s.id, jobId, jobName: 'every five minutes', outcome: 'started' });
    const summary = await finished(router, fired.runId!);
    expect(summary).toMatchObject({ status: 'succeeded', rowsRead: 1000, rowsWritten: 1000 });

    const history = runsOfJob(router, jobId);
    expect(history.map((r) => [r.id, r.status])).toEqual([[fired.runId, 'succeeded']]);
    expect(sqliteAll(join(dir, 'due.db'), 'SELECT count(*) AS n FROM orders')).toEqual([{ n: 1000 }]);

    const after = await schedule(router, s.id);
    expect(after.lastRunAt).toBe(clock.toISOString());
    expect(after.lastRun).toMatchObject({ id: fired.runId, status: 'succeeded' });
    expect(after.lastOutcome).toMatchObject({ kind: 'started', message: `started run ${fired.runId!.slice(0, 8)}` });
    expect(Date.parse(after.nextRunAt!)).toBe(Date.parse(s.nextRunAt!) + 5 * 60_000);
    // The same slot never starts twice.
    expect(router.scheduler.tick()).toEqual([]);
  });

  it('on its own timer: a schedule every second runs the job, until it is disabled', async () => {
    const router = open('state-timer');
    router.scheduler.start();
    const jobId = await saveJob(router, job('every second', 'sqlite:shop.db', 'sqlite:timer.db'));
    const s = await call<ScheduleDto>(router, 'schedules/save', { jobId, cron: '* * * * * *' });
    await until('a scheduled run succeeded', () => runsOfJob(router, jobId).some((r) => r.status === 'succeeded'));
    await call(router, 'schedules/save', { id: s.id, jobId, cron: s.cron, enabled: false });
    for (const r of runsOfJob(router, jobId)) if (router.context.activeRuns.has(r.id)) await finished(router, r.id);
    const count = runsOfJob(router, jobId).length;
    await new Promise((r) => setTimeout(r, 2200));
    expect(runsOfJob(router, jobId).length).toBe(count);
    expect(sqliteAll(join(dir, 'timer.db'), 'SELECT count(*) AS n FROM orders')).toEqual([{ n: 1000 }]);
    router.scheduler.stop();
  });

  it('does not start a second run of a job while one is running: the slot is skipped and the skip recorded', async () => {
    let clock = new Date();
    const router = open('state-busy', { now: () => clock });
    // 1000 rows at 250 rows/s: about four seconds, long enough to be due again meanwhile.
    const jobId = await saveJob(router, job('slow', 'sqlite:shop.db', 'sqlite:busy.db', { rateLimit: { rowsPerSecond: 250 } }));
    const s = await call<ScheduleDto>(router, 'schedules/save', { jobId, cron: '* * * * *' });

    clock = new Date(Date.parse(s.nextRunAt!) + 100);
    const [first] = router.scheduler.tick();
    expect(first.outcome).toBe('started');
    clock = new Date(clock.getTime() + 60_000);
    const [second] = router.scheduler.tick();
    expect(second).toMatchObject({ outcome: 'skipped', jobId });
    expect(second.message).toContain(`run ${first.runId!.slice(0, 8)} of this job`);
    expect(second.message).toContain('is still running');
    expect(second.runId).toBeUndefined();

    const skipped = await schedule(router, s.id);
    expect(skipped.lastOutcome).toMatchObject({ kind: 'skipped', message: second.message });
    expect(skipped.lastRun).toMatchObject({ id: first.runId, status: 'running' });
    expect(runsOfJob(router, jobId)).toHaveLength(1);
    expect((await finished(router, first.runId!)).status).toBe('succeeded');

    // A run of the job started by hand (the Run button) counts too.
    const spec = (await call<{ spec: unknown }>(router, 'jobs/get', { id: jobId })).spec;
    const manual = await call<{ runId: string }>(router, 'runs/start', { spec, jobId });
    clock = new Date(clock.getTime() + 60_000);
    const [third] = router.scheduler.tick();
    expect(third).toMatchObject({ outcome: 'skipped', message: expect.stringContaining(`run ${manual.runId.slice(0, 8)} of this job`) });
    expect((await finished(router, manual.runId)).status).toBe('succeeded');

    clock = new Date(clock.getTime() + 60_000);
    const [fourth] = router.scheduler.tick();
    expect(fourth.outcome).toBe('started');
    expect((await finished(router, fourth.runId!)).status).toBe('succeeded');
    expect(runsOfJob(router, jobId)).toHaveLength(3);
  }, 40_000);

  it('a slot missed while dbferry was closed runs once at start, not once per missed slot', async () => {
    const first = open('state-missed');
    const jobId = await saveJob(first, job('quarter-hourly', 'sqlite:shop.db', 'sqlite:missed.db'));
    const s = await call<ScheduleDto>(first, 'schedules/save', { jobId, cron: '*/15 * * * *' });
    // dbferry was closed for three hours: twelve slots went by.
    first.context.store.db.prepare('UPDATE schedules SET next_run_at = ? WHERE id = ?').run(new Date(Date.now() - 3 * 3600_000).toISOString(), s.id);
    await first.close();

    const router = open('state-missed');
    const started: string[] = [];
    router.subscribe((event, payload) => {
      if (event === 'schedule/fired') started.push((payload as { runId: string }).runId);
    });
    router.scheduler.start();
    expect(started).toHaveLength(1);
    expect((await finished(router, started[0]!)).status).toBe('succeeded');
    router.scheduler.stop();
    expect(runsOfJob(router, jobId)).toHaveLength(1);
    const next = Date.parse((await schedule(router, s.id)).nextRunAt!);
    expect(next).toBeGreaterThan(Date.now());
    expect(next - Date.now()).toBeLessThanOrEqual(15 * 60_000);
  });

  it('tries a run that could not reach its server again with backoff, then waits for the next regular slot', async () => {
    let clock = new Date();
    const router = open('state-retry', { now: () => clock, retry: { max: 2, baseDelayMs: 60_000, maxDelayMs: 600_000 } });
    // Nothing listens on port 1: the connection is refused, a failure another try may get past.
    const jobId = await saveJob(router, job('unreachable', 'postgres://postgres@127.0.0.1:1/shop', 'sqlite:retry.db'));
    const s = await call<ScheduleDto>(router, 'schedules/save', { jobId, cron: '0 * * * *' });
    const regular = Date.parse(s.nextRunAt!);

    const expectRetry = async (attempt: number) => {
      const [fired] = router.scheduler.tick();
      expect(fired.outcome).toBe('started');
      const summary = await finished(router, fired.runId!);
      expect(summary).toMatchObject({ status: 'failed', errorKind: 'connection' });
      const after = await schedule(router, s.id);
      expect(after.lastOutcome).toMatchObject({ kind: 'retry', message: expect.stringContaining(`retry ${attempt} of 2`) });
      expect(after.lastOutcome!.message).toContain('cannot connect');
      expect(Date.parse(after.nextRunAt!)).toBe(clock.getTime() + 60_000 * 2 ** (attempt - 1));
      return after;
    };
    clock = new Date(regular + 10);
    let after = await expectRetry(1);
    clock = new Date(Date.parse(after.nextRunAt!) + 10);
    after = await expectRetry(2);
    clock = new Date(Date.parse(after.nextRunAt!) + 10);
    const [last] = router.scheduler.tick();
    expect(last.message).toContain('(retry 2 of 2)');
    await finished(router, last.runId!);
    after = await schedule(router, s.id);
    expect(after.lastOutcome?.message).toContain('gave up after 2 retries');
    expect(Date.parse(after.nextRunAt!)).toBe(regular + 3600_000);
    expect(runsOfJob(router, jobId).map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
  });
});

describe('a scheduled job whose password dbferry does not have', () => {
  const PASSWORD = 'Sched-Pa55-word';
  const user = `dbferry_sched_${process.pid}`;
  let db: MysqlTestDatabase;

  beforeAll(async () => {
    db = await createMysqlDatabase(`dbferry_sched_${process.pid}`);
    await db.admin.query('CREATE TABLE orders (id INT PRIMARY KEY, sku VARCHAR(16) NOT NULL, qty INT NOT NULL)');
    await db.admin.query("INSERT INTO orders VALUES (1, 'SKU-1', 3), (2, 'SKU-2', 5), (3, 'SKU-3', 7)");
    await db.admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await db.admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await db.admin.query(`GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`);
  });

  afterAll(async () => {
    delete process.env.DBFERRY_SCHED_TEST_PASSWORD;
    await db?.admin.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => {});
    await db?.drop();
  });

  it('fails after a restart with a message telling to use ?passwordEnv=, and runs once the connection has it', async () => {
    const url = new URL(db.url);
    url.username = user;
    // Browser mode: the password typed in the form is kept for this session only.
    const session = open('state-password');
    const conn = await call<{ id: string; url: string; passwordSource: string }>(session, 'connections/save', { name: 'shop (mariadb)', url: url.toString(), password: PASSWORD });
    expect(conn.passwordSource).toBe('session');
    const jobId = await saveJob(session, job('from mariadb', conn.url, 'sqlite:from-mariadb.db'));
    const s = await call<ScheduleDto>(session, 'schedules/save', { jobId, cron: '0 3 * * *' });
    expect(s.warnings).toEqual([expect.stringContaining('“shop (mariadb)”: its password is kept for this session only')]);
    expect(s.warnings[0]).toContain('?passwordEnv=');
    session.context.store.db.prepare('UPDATE schedules SET next_run_at = ? WHERE id = ?').run(new Date(Date.now() - 3600_000).toISOString(), s.id);
    await session.close();

    // dbferry ui started again, overnight: the slot is due, the password is gone.
    const router = open('state-password');
    const fired: { runId: string }[] = [];
    router.subscribe((event, payload) => event === 'schedule/fired' && fired.push(payload as { runId: string }));
    router.scheduler.start();
    expect(fired).toHaveLength(1);
    const summary = await finished(router, fired[0]!.runId);
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/refused the login|access denied/i);
    const failed = await schedule(router, s.id);
    expect(failed.lastRun).toMatchObject({ status: 'failed' });
    expect(failed.lastOutcome?.message).toContain('could not log in to "shop (mariadb)": dbferry has no password for it');
    expect(failed.lastOutcome?.message).toContain('?passwordEnv=NAME');
    // Another try cannot help: no retry, the next regular slot.
    expect(new Date(failed.nextRunAt!).getHours()).toBe(3);

    // The fix the message names: the password from an environment variable.
    process.env.DBFERRY_SCHED_TEST_PASSWORD = PASSWORD;
    await call(router, 'connections/save', { id: conn.id, name: 'shop (mariadb)', url: conn.url, passwordEnv: 'DBFERRY_SCHED_TEST_PASSWORD' });
    const fixed = await schedule(router, s.id);
    expect(fixed.warnings).toEqual([]);
    router.context.store.db.prepare('UPDATE schedules SET next_run_at = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), s.id);
    const [again] = router.scheduler.tick();
    expect((await finished(router, again.runId!)).status).toBe('succeeded');
    expect(sqliteAll(join(dir, 'from-mariadb.db'), 'SELECT id, qty FROM orders ORDER BY id')).toEqual([
      { id: 1, qty: 3 },
      { id: 2, qty: 5 },
      { id: 3, qty: 7 },
    ]);
    router.scheduler.stop();

    // Never the password itself: not in the store, the schedules or their messages.
    const listed = JSON.stringify(await call(router, 'schedules/list', {}));
    expect(listed).not.toContain(PASSWORD);
    router.context.store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of ['dbferry.db', 'dbferry.db-wal']) {
      const path = join(dir, 'state-password', file);
      if (existsSync(path)) expect(readFileSync(path).includes(PASSWORD), file).toBe(false);
    }
  });
});
