/**
 * Runs queued on BullMQ (issue 17), against the local Redis and real
 * databases, with several `dbferry worker` processes: each run exactly once,
 * a dead worker's run finished by another with an exact target, the same exit
 * codes as a local run, and no password in Redis.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, digest, type TestDb } from '../helpers/targets.js';
import { redisAnswers, startWorker, stopWorkers, testQueue, waitFor, type TestQueue, type TestWorker } from '../helpers/queue.js';

const redis = await redisAnswers();
const redisServer = spawnSync('redis-server', ['--version']).status === 0;
type Ev = Record<string, unknown> & { type: string };

let dir: string;
let queue: TestQueue;
let source: TestDb;
const workers: TestWorker[] = [];
/** For tests that kill workers: a dead worker's run is taken over after about this long. */
const SHORT_LOCK = { env: { DBFERRY_QUEUE_LOCK_MS: '3000' } };
const worker = (name: string, opts?: Parameters<typeof startWorker>[3]) => {
  const w = startWorker(queue.url, dir, name, opts);
  workers.push(w);
  return w;
};

async function queued(): Promise<Ev[]> {
  const r = await dbferry(['runs', '--queue', queue.url, '--json', '--limit', '1000']);
  expect(r.code, r.stderr).toBe(0);
  return r.events;
}

describe.skipIf(!redis)('queued runs (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-queue-');
    queue = testQueue();
    source = await createTestDb('postgres', dir);
    // Twelve small tables for the fleet, and one larger for the runs that get interrupted.
    for (let t = 0; t < 12; t++) {
      await source.exec(`CREATE TABLE t${t} (id int PRIMARY KEY, v text NOT NULL); INSERT INTO t${t} SELECT i, 't${t} row ' || i FROM generate_series(1, 200) i`);
    }
    await source.exec(`CREATE TABLE big (id int PRIMARY KEY, v text, n numeric(10,2)); INSERT INTO big SELECT i, 'row ' || i, i / 7.0 FROM generate_series(1, 4000) i`);
  });
  afterEach(async () => {
    await stopWorkers(workers.splice(0));
  });
  afterAll(async () => {
    await source?.drop();
    await queue?.drop();
  });

  it('twelve runs queued across three workers each succeed exactly once', async () => {
    const target = await createTestDb('postgres', dir);
    try {
      // BullMQ's own 30 s lock: on two busy cores a worker starting its first run can miss a short
      // lock's renewal, and the run is then (correctly) handed to another worker: 'starts' would be 2.
      const fleet = ['w1', 'w2', 'w3'].map((n) => worker(n));
      await Promise.all(fleet.map((w) => w.ready));
      const ids = await Promise.all(
        Array.from({ length: 12 }, async (_, t) => {
          const job = writeJob(dir, { name: `fleet t${t}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: `t${t}`, mode: 'upsert' }] }, `fleet-${t}.json`);
          const r = await dbferry(['run', job, '--queue', queue.url, '--detach']);
          expect(r.code, r.stderr).toBe(0);
          return r.stdout.trim();
        }),
      );
      expect(new Set(ids).size).toBe(12);
      await queue.finished(ids);
      const runs = (await queued()).filter((r) => ids.includes(r.runId as string));
      expect(runs).toHaveLength(12);
      for (const r of runs) expect(r, `${r.job as string}: ${r.error as string}`).toMatchObject({ state: 'completed', status: 'succeeded', rowsWritten: 200, starts: 1 });
      for (let t = 0; t < 12; t++) expect(await target.checksum(`t${t}`, 'id'), `t${t}`).toEqual(await source.checksum(`t${t}`, 'id'));
      // Each run is in exactly one worker's history, and the work was shared.
      const histories = await Promise.all(fleet.map(async (w) => (await dbferry(['runs', '--json', '--state', w.state])).events.map((e) => e.id as string)));
      expect(histories.flat().sort()).toEqual([...ids].sort());
      expect(histories.filter((h) => h.length > 0).length).toBeGreaterThanOrEqual(2);
      expect((await target.tables()).filter((t) => t.startsWith('_dbferry_stg_'))).toEqual([]);
    } finally {
      await target.drop();
    }
  }, 120_000);

  it('run --queue ends with the same events, summary and exit code as a local run', async () => {
    const target = await createTestDb('postgres', dir);
    try {
      await worker('follow').ready;
      const jobs = {
        ok: { tables: [{ source: 't0', mode: 'replace' }] },
        // Rows 1-9 break the rule: done with dead letters (3).
        // compare "never": the queued run, second into the table, stages every row as the local one did.
        deadLettered: { tables: [{ source: 't1', target: 't1dl', mode: 'upsert', rules: { v: { pattern: '[0-9]{2}$' } } }], options: { maxInvalidRows: '10%', compare: 'never' } },
        // A table the source lacks: the spec does not fit (2), nothing touched.
        missing: { tables: [{ source: 'no_such_table', mode: 'upsert' }] },
      };
      for (const [name, body] of Object.entries(jobs)) {
        const local = writeJob(dir, { name, source: { url: source.url }, target: { url: target.url }, ...body }, `cmp-${name}.json`);
        const a = await dbferry(['run', local, '--json', '--state', `${dir}/local-state`]);
        const b = await dbferry(['run', local, '--json', '--queue', queue.url]);
        expect(b.code, `${name}: ${b.stderr}`).toBe(a.code);
        expect(b.events[0], name).toMatchObject({ type: 'run-started', job: name });
        const [sa, sb] = [a.events.at(-1)!, b.events.at(-1)!];
        expect(sb.type, name).toBe('summary');
        for (const k of ['status', 'rowsRead', 'rowsWritten', 'rowsDeadLettered', 'error'] as const) expect(sb[k], `${name}: ${k}`).toEqual(sa[k]);
        // The local run created the table and built its schema ("schema-started"); the queued one, second, goes into it.
        const types = (events: typeof a.events) => events.map((e) => e.type).filter((t) => t !== 'progress' && t !== 'schema-started');
        expect(types(b.events), name).toEqual(types(a.events));
      }
      // Without --json a person sees the progress on stderr and the summary on stdout.
      const human = await dbferry(['run', `${dir}/cmp-ok.json`, '--queue', queue.url]);
      expect(human.code).toBe(0);
      expect(human.stderr).toMatch(/waiting for a worker/);
      expect(human.stderr).toMatch(/t0: verified by checksum/);
      expect(human.stdout).toMatch(/^done: 200 rows read, 200 written/);
    } finally {
      await target.drop();
    }
  }, 90_000);

  // Mid-staging with rows refused on the way (the dead letters travel with the run), and at apply
  // (the kill lands before the commit, or after it: then the target's marker says it is applied).
  const KILLS = [
    { name: 'mid-staging, with dead letters', at: (e: Ev) => e.type === 'progress' && (e.rowsRead as number) >= 1200, rules: true },
    { name: 'at apply', at: (e: Ev) => e.type === 'apply-started', rules: false },
  ];
  it.each(KILLS)('a worker SIGKILLed $name is replaced by another that finishes the run: every row once', async ({ name, at, rules }) => {
    const target = await createTestDb('postgres', dir);
    try {
      // No primary key in the target: a row applied twice would show as a duplicate.
      await target.exec('CREATE TABLE big (id int, v text, n numeric(10,2))');
      const job = writeJob(dir, {
        name: `killed ${name}`,
        source: { url: source.url },
        target: { url: target.url },
        // Rows whose id ends in 0 break the rule: 400 dead letters.
        tables: [{ source: 'big', mode: 'append', ...(rules ? { rules: { v: { pattern: '[1-9]$' } } } : {}) }],
        // Slow enough to be killed mid-staging, one checkpoint per 300 rows.
        options: { batch: { maxRows: 300 }, rateLimit: { rowsPerSecond: 2000 }, maxInvalidRows: '20%' },
      }, `killed-${rules}.json`);
      const doomed = worker(`doomed${Number(rules)}`, SHORT_LOCK);
      await doomed.ready;
      const heir = `heir${Number(rules)}`;
      const followed = await dbferryUntil(['run', job, '--queue', queue.url], at, () => {
        doomed.child.kill('SIGKILL');
        worker(heir, SHORT_LOCK);
      });
      expect(await doomed.exited).toMatchObject({ signal: 'SIGKILL' });
      const refused = rules ? 400 : 0;
      expect(followed.code, followed.stderr + followed.stdout.slice(-1500)).toBe(rules ? 3 : 0);
      expect(followed.events.filter((e) => e.type === 'run-started')).toHaveLength(1);
      expect(followed.events.at(-1)).toMatchObject({ type: 'summary', rowsRead: 4000, rowsWritten: 4000 - refused, rowsDeadLettered: refused });
      const runId = followed.events[0].runId as string;
      const [run] = (await queued()).filter((r) => r.runId === runId);
      expect(run.state).toBe('completed');
      // At apply, the run may have ended before the kill landed; mid-staging it cannot have.
      if (rules || (run.starts as number) > 1) {
        expect(run.worker).toBe(heir);
        expect(run.starts).toBeGreaterThanOrEqual(2);
        expect(followed.events.some((e) => e.type === 'warning' && new RegExp(`worker ${heir} continues this run after doomed`).test(e.message as string))).toBe(true);
      }
      expect(await target.rows('SELECT count(*), count(DISTINCT id) FROM big')).toEqual([[String(4000 - refused), String(4000 - refused)]]);
      expect(await target.checksum('big', 'id')).toEqual(digest(await source.rows(`SELECT * FROM big WHERE ${rules ? 'id % 10 <> 0' : 'true'} ORDER BY id`)));
      expect((await target.tables()).filter((t) => t.startsWith('_dbferry_stg_'))).toEqual([]);
      if (rules) {
        // The heir's history holds every refused row once.
        const letters = await dbferry(['dead-letters', 'list', '--json', '--run', runId, '--state', workers.find((w) => w.name === heir)!.state]);
        const keys = letters.events.map((e) => (e.key as number[])[0]);
        expect(keys.length).toBe(refused);
        expect(new Set(keys).size).toBe(refused);
      }
    } finally {
      await target.drop();
    }
  }, 90_000);

  it('SIGTERM: the worker checkpoints, gives the run back and exits; another finishes it; the webhook hears once', async () => {
    const target = await createTestDb('postgres', dir);
    const heard: Ev[] = [];
    const hook = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        heard.push(JSON.parse(body) as Ev);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const job = writeJob(dir, {
        name: 'stopped worker',
        source: { url: source.url },
        target: { url: target.url },
        notify: { webhook: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook` },
        tables: [{ source: 'big', mode: 'upsert' }],
        options: { batch: { maxRows: 300 }, rateLimit: { rowsPerSecond: 2000 } },
      }, 'stopped.json');
      const first = worker('leaving', SHORT_LOCK);
      await first.ready;
      const followed = await dbferryUntil(
        ['run', job, '--queue', queue.url],
        (e) => e.type === 'progress' && (e.rowsWritten as number) >= 1000,
        () => {
          first.child.kill('SIGTERM');
          void first.exited.then(() => worker('staying', SHORT_LOCK));
        },
      );
      expect(await first.exited).toMatchObject({ code: 0 });
      expect(first.log()).toMatch(/is back in the queue/);
      expect(followed.code, followed.stderr + followed.stdout.slice(-1500)).toBe(0);
      expect(followed.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 4000, rowsWritten: 4000 });
      // One summary, the run's last word; the hand-over is a warning on the way.
      expect(followed.events.filter((e) => e.type === 'summary')).toHaveLength(1);
      expect(followed.events.some((e) => e.type === 'warning' && /worker leaving is stopping: the run goes back to the queue/.test(e.message as string))).toBe(true);
      expect(await target.checksum('big', 'id')).toEqual(await source.checksum('big', 'id'));
      // Told once, of the run's end: not of the worker that gave it back.
      expect(heard.map((h) => h.status)).toEqual(['succeeded']);
    } finally {
      hook.close();
      await target.drop();
    }
  }, 90_000);

  it('a failed run stays in the failed set with its reason; requeue runs it again under its id', async () => {
    const target = await createTestDb('postgres', dir);
    try {
      await worker('retrier').ready;
      const job = writeJob(dir, { name: 'late table', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'late', mode: 'upsert' }] }, 'late.json');
      const first = await dbferry(['run', job, '--queue', queue.url, '--json']);
      expect(first.code).toBe(2);
      const runId = first.events[0].runId as string;
      const listed = (await queued()).find((r) => r.runId === runId)!;
      expect(listed).toMatchObject({ state: 'failed', status: 'failed' });
      expect(listed.error).toMatch(/late/);
      const human = await dbferry(['runs', '--queue', queue.url]);
      expect(human.stdout).toMatch(new RegExp(`${runId.slice(0, 8)} .*failed .*late table`));
      const unknown = await dbferry(['requeue', 'ffffffff', '--queue', queue.url]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no run "ffffffff" on the queue/);
      await source.exec('CREATE TABLE late (id int PRIMARY KEY, v text); INSERT INTO late SELECT i, i::text FROM generate_series(1, 50) i');
      const again = await dbferry(['requeue', runId.slice(0, 8), '--queue', queue.url]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toBe(`run ${runId} is back on the queue\n`);
      await queue.finished([runId]);
      const done = (await queued()).find((q) => q.runId === runId);
      expect(done).toMatchObject({ state: 'completed', status: 'succeeded', rowsWritten: 50, starts: 2 });
      expect(await target.checksum('late', 'id')).toEqual(await source.checksum('late', 'id'));
      // A finished run does not go back.
      const twice = await dbferry(['requeue', runId, '--queue', queue.url]);
      expect(twice.code).toBe(2);
      expect(twice.stderr).toMatch(/is completed: only a failed run can be put back/);
    } finally {
      await target.drop();
    }
  }, 60_000);

  it('--per-server 1: runs against one server never overlap, whichever workers hold them', async () => {
    const target = await createTestDb('postgres', dir);
    try {
      const fleet = ['cap1', 'cap2', 'cap3'].map((n) => worker(n, { args: ['--per-server', '1'] }));
      await Promise.all(fleet.map((w) => w.ready));
      // Source and target are on the same PostgreSQL server: one slot for both.
      const ids = await Promise.all(
        [3, 4, 5, 6].map(async (t) => {
          const job = writeJob(dir, { name: `capped t${t}`, source: { url: source.url }, target: { url: target.url }, tables: [{ source: `t${t}`, mode: 'upsert' }], options: { rateLimit: { rowsPerSecond: 1000 } } }, `cap-${t}.json`);
          const r = await dbferry(['run', job, '--queue', queue.url, '--detach']);
          expect(r.code, r.stderr).toBe(0);
          return r.stdout.trim();
        }),
      );
      await queue.finished(ids);
      const runs = (await Promise.all(fleet.map(async (w) => (await dbferry(['runs', '--json', '--state', w.state])).events))).flat().filter((r) => ids.includes(r.id as string));
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      const spans = runs.map((r) => [Date.parse(r.startedAt as string), Date.parse(r.finishedAt as string)]).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i][0], 'a run started before the previous one on the same server ended').toBeGreaterThanOrEqual(spans[i - 1][1]);
      expect(fleet.map((w) => w.log()).join('')).toMatch(/waits for a slot on postgres:\/\/127\.0\.0\.1:5432 \(at most 1 runs each\)/);
      for (const t of [3, 4, 5, 6]) expect(await target.checksum(`t${t}`, 'id')).toEqual(await source.checksum(`t${t}`, 'id'));
    } finally {
      await target.drop();
    }
  }, 90_000);

  it('dbferry ui --queue: Run now goes to the queue, a worker runs it, the app records its job log and summary', async () => {
    const target = await createTestDb('postgres', dir);
    const ui = spawn(process.execPath, [BIN, 'ui', '--queue', queue.url, '--state', `${dir}/ui-state`, '--port', '0'], { cwd: ROOT, env: process.env });
    try {
      await worker('for-the-app').ready;
      const url = new URL(
        await new Promise<string>((resolve, reject) => {
          let out = '';
          ui.stdout.on('data', (d) => {
            out += d;
            const line = /^(http:\/\/\S+)$/m.exec(out);
            if (line) resolve(line[1]);
          });
          ui.on('exit', (code) => reject(new Error(`dbferry ui exited (${code})`)));
        }),
      );
      const api = async (command: string, body: unknown) =>
        (await (await fetch(`${url.origin}/api/${command}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Dbferry-Token': url.searchParams.get('token')! }, body: JSON.stringify(body) })).json()) as {
          ok: boolean;
          value?: Record<string, unknown> & { run?: Record<string, unknown>; events?: { event: Ev }[] };
          error?: { message: string };
        };
      const spec = { name: 'from the app', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 't7', mode: 'upsert' }] };
      const started = await api('runs/start', { spec });
      expect(started.ok, started.error?.message).toBe(true);
      const runId = started.value!.runId as string;
      const detail = await waitFor('the queued run in the app', async () => {
        const d = await api('runs/get', { runId });
        return d.value?.run?.status !== 'running' ? d.value : undefined;
      });
      expect(detail.run).toMatchObject({ status: 'succeeded', rowsWritten: 200 });
      const types = detail.events!.map((e) => e.event.type);
      expect(types[0]).toBe('warning');
      expect(types).toEqual(expect.arrayContaining(['run-started', 'plan', 'table-staged', 'apply-committed', 'verify', 'summary']));
      expect(types.at(-1)).toBe('summary');
      expect(await target.checksum('t7', 'id')).toEqual(await source.checksum('t7', 'id'));
      // The worker ran it, not the app.
      expect((await queued()).find((r) => r.runId === runId)).toMatchObject({ state: 'completed', worker: 'for-the-app' });
      // A password the app would hold is refused for the queue, with the fix.
      const inline = await api('runs/start', { spec: { ...spec, target: { url: target.url.replace('postgres@', 'postgres:app-only-pw@') } } });
      expect(inline.ok).toBe(false);
      expect(inline.error!.message).toMatch(/cannot go to the queue .*target's password is written in its URL.*passwordEnv=NAME/);
      expect(await queue.dataset()).not.toContain('app-only-pw');
    } finally {
      ui.kill('SIGTERM');
      await new Promise((r) => ui.once('exit', r));
      await target.drop();
    }
  }, 60_000);

  it('passwords stay out of Redis: an inline one is refused, a passwordEnv run leaves no trace of it', async () => {
    const target = await createTestDb('mysql', dir);
    const user = `dbf_q_${Math.random().toString(36).slice(2, 8)}`;
    const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
    try {
      await target.exec(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
      const db = new URL(target.url).pathname.slice(1);
      await target.exec(`GRANT ALL ON \`${db}\`.* TO '${user}'@'%'`);
      const inline = writeJob(dir, { name: 'inline', source: { url: source.url }, target: { url: `mysql://${user}:${password}@127.0.0.1:3306/${db}` }, tables: [{ source: 't2', mode: 'upsert' }] }, 'inline.json');
      const refused = await dbferry(['run', inline, '--queue', queue.url]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/target\.url has its password inline.*passwordEnv=/s);
      expect(refused.stderr + refused.stdout).not.toContain(password);

      await worker('keyed', { env: { DBF_QUEUE_TEST_PW: password } }).ready;
      const viaEnv = writeJob(dir, { name: 'password from env', source: { url: source.url }, target: { url: `mysql://${user}@127.0.0.1:3306/${db}?passwordEnv=DBF_QUEUE_TEST_PW` }, tables: [{ source: 't2', mode: 'upsert' }] }, 'env.json');
      const r = await dbferry(['run', viaEnv, '--queue', queue.url, '--json']);
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
      expect(await target.checksum('t2', 'id')).toEqual(await source.checksum('t2', 'id'));
      const everything = await queue.dataset();
      expect(everything).toContain('password from env'); // the dump does hold the queued job
      expect(everything).toContain('passwordEnv=DBF_QUEUE_TEST_PW');
      expect(everything).not.toContain(password);
    } finally {
      await target.exec(`DROP USER IF EXISTS '${user}'@'%'`);
      await target.drop();
    }
  }, 60_000);
});

describe('Redis unreachable', () => {
  it('run --queue and runs --queue say so at once, without printing the password', async () => {
    const d = tempDir('dbferry-queue-down-');
    const job = writeJob(d, { name: 'nowhere', source: { url: 'sqlite:a.db' }, target: { url: 'sqlite:b.db' }, tables: [{ source: 't', mode: 'replace' }] });
    const r = await dbferry(['run', job, '--queue', 'redis://:hunter2-secret@127.0.0.1:1/0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/:••••@127\.0\.0\.1:1\/0: nothing listens there/);
    expect(r.stderr + r.stdout).not.toContain('hunter2');
    const list = await dbferry(['runs', '--queue', 'redis://127.0.0.1:1']);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/cannot reach Redis/);
    const bad = await dbferry(['run', job, '--queue', 'postgres://127.0.0.1:6379']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--queue takes a redis:\/\/ or rediss:\/\/ URL/);
  });
});

async function sparePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe.skipIf(!redisServer)('a private redis-server', () => {
  it('restarted mid-run (crash, append-only file): the run completes, every row once', async () => {
    const d = tempDir('dbferry-queue-restart-');
    const port = await sparePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', d, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'];
    const servers = [spawn('redis-server', args, { stdio: 'ignore' })];
    const w = startWorker(url, d, 'through-restart');
    try {
      await w.ready;
      const db = new Database(join(d, 'src.db'));
      db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) INSERT INTO t SELECT i, 'v' || i FROM c");
      db.close();
      // No key in the target: a row written twice would show.
      const out = new Database(join(d, 'dst.db'));
      out.exec('CREATE TABLE t (id INTEGER, v TEXT)');
      out.close();
      const job = writeJob(d, { name: 'through a restart', source: { url: 'sqlite:src.db' }, target: { url: 'sqlite:dst.db' }, tables: [{ source: 't', mode: 'append' }], options: { batch: { maxRows: 300 }, rateLimit: { rowsPerSecond: 1500 } } });
      const r = await dbferryUntil(['run', job, '--queue', url], (e) => e.type === 'progress' && (e.rowsRead as number) >= 900, async () => {
        const first = servers[0];
        first.kill('SIGKILL');
        await new Promise((res) => first.once('exit', res));
        // Down for a second: the worker notices, and reconnects on its own.
        await new Promise((res) => setTimeout(res, 1000));
        servers.push(spawn('redis-server', args, { stdio: 'ignore' }));
      });
      expect(r.code, r.stderr + r.stdout.slice(-1500)).toBe(0);
      expect(r.events.at(-1)).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: 3000, rowsWritten: 3000 });
      const check = new Database(join(d, 'dst.db'), { readonly: true });
      expect(check.prepare('SELECT count(*), count(DISTINCT id) FROM t').raw(true).get()).toEqual([3000, 3000]);
      check.close();
      expect(servers).toHaveLength(2);
      expect(w.log()).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\/0: nothing listens there.*reconnecting\n.*answers again/s);
    } finally {
      for (const s of servers) s.kill('SIGKILL');
      await stopWorkers([w]);
    }
  }, 60_000);


  it('a worker started before Redis connects when it comes up; redis://:password@ works and the password is never printed', async () => {
    const d = tempDir('dbferry-queue-auth-');
    const port = await sparePort();
    const secret = `rs-${Math.random().toString(36).slice(2)}`;
    const url = `redis://:${secret}@127.0.0.1:${port}/0`;
    const w = startWorker(url, d, 'early');
    let server: ReturnType<typeof spawn> | undefined;
    try {
      await w.ready;
      expect(w.log()).toMatch(new RegExp(`cannot reach Redis at redis://:••••@127\\.0\\.0\\.1:${port}/0: nothing listens there.*retrying until it answers`));
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', secret, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
      const wrong = await dbferry(['runs', '--queue', `redis://:not-it@127.0.0.1:${port}`]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/Redis refused the login/);
      execSqlite(d);
      const job = writeJob(d, { name: 'behind a password', source: { url: 'sqlite:src.db' }, target: { url: 'sqlite:dst.db' }, tables: [{ source: 't', mode: 'replace' }], options: { createTables: true } });
      const r = await dbferry(['run', job, '--queue', url]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^done: 50 rows read, 50 written/);
      const list = await dbferry(['runs', '--queue', url]);
      expect(list.stdout).toMatch(/completed {2}succeeded/);
      for (const out of [r.stdout, r.stderr, list.stdout, list.stderr, w.log()]) expect(out).not.toContain(secret);
    } finally {
      server?.kill('SIGKILL');
      await stopWorkers([w]);
    }
  }, 60_000);
});

function execSqlite(d: string): void {
  const db = new Database(join(d, 'src.db'));
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50) INSERT INTO t SELECT i, 'v' || i FROM c");
  db.close();
}
