// The bench's queue section (issue 17): what BullMQ on Redis costs a run, and
// runs spread over 1, 2 and 3 `dbferry worker` processes. Redis from
// BENCH_REDIS_URL (default redis://127.0.0.1:6379/0), under a key prefix of
// this bench run's own, removed at the end; skipped when Redis does not answer.
//
//   latency     QUEUE_SMALL small runs (100 rows, SQLite → SQLite), one after the other on one
//               worker: enqueue → the worker's run-started, and the engine's end of the run →
//               the follower holding the summary (BullMQ's completed event). Goal: ≤ 50 ms each.
//   throughput  QUEUE_RUNS runs of QUEUE_ROWS rows (SQLite → SQLite, one target file each),
//               queued at once, on 1, 2 and 3 workers: wall time, reported as is (on two cores
//               it cannot scale). Every target is counted.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/0';
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const int = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);

export async function redisAnswers() {
  const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 100 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

function makeSource(path, rows) {
  const db = new Database(path);
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, sku TEXT, qty INTEGER, price NUMERIC, note TEXT)');
  const ins = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= rows; i++) ins.run(i, i % 997, `SKU-${i % 5000}`, i % 17, (i % 10000) / 100, i % 10 ? `note ${i} ü` : null);
  })();
  db.close();
}

const started = new Set();

function startWorker(cfg, queueUrl, dir, name) {
  const child = spawn(process.execPath, [cfg.bin, 'worker', '--queue', queueUrl, '--name', name, '--state', join(dir, `state-${name}`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const ready = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      if (log.includes('taking runs from')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker ${name} exited (${code}): ${log}`)));
  });
  ready.catch(() => undefined);
  const stop = () =>
    new Promise((resolve) => {
      started.delete(stop);
      if (child.exitCode !== null) return resolve();
      child.removeAllListeners('exit');
      child.on('exit', resolve);
      child.kill('SIGTERM');
    });
  started.add(stop);
  return { ready, stop };
}

export async function runQueue(cfg, log) {
  if (!(await redisAnswers())) return { section: { skipped: `Redis does not answer at ${REDIS_URL}` }, measurements: [] };
  const prefix = `dbferry-bench-${randomUUID().slice(0, 8)}`;
  const queueUrl = `${REDIS_URL}?prefix=${prefix}`;
  const dir = join(cfg.work, 'queue');
  mkdirSync(dir, { recursive: true });
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue('runs', { connection, prefix });
  const events = new QueueEvents('runs', { connection, prefix });
  await events.waitUntilReady();
  // What the follower (`dbferry run --queue`) sees, with the time it saw it.
  const seen = new Map();
  const waiters = new Map();
  const note = (jobId, kind, value) => {
    const s = seen.get(jobId) ?? {};
    s[kind] = { at: Date.now(), value };
    seen.set(jobId, s);
    if (kind === 'completed' || kind === 'failed') waiters.get(jobId)?.();
  };
  events.on('progress', ({ jobId, data }) => data?.type === 'run-started' && note(jobId, 'started', data));
  events.on('completed', ({ jobId, returnvalue }) => note(jobId, 'completed', returnvalue));
  events.on('failed', ({ jobId, failedReason }) => note(jobId, 'failed', failedReason));
  const ended = (ids) => Promise.all(ids.map((id) => (seen.get(id)?.completed || seen.get(id)?.failed ? undefined : new Promise((r) => waiters.set(id, r)))));
  const enqueue = async (spec) => {
    const runId = randomUUID();
    const t = Date.now();
    await queue.add(spec.name, { runId, spec, baseDir: dir, queuedBy: 'bench' }, { jobId: runId, attempts: 1 });
    return { runId, enqueuedAt: t };
  };
  const spec = (name, source, target) => ({
    name,
    source: { url: `sqlite://${source}` },
    target: { url: `sqlite://${target}` },
    tables: [{ source: 'orders', mode: 'replace' }],
    options: { createTables: true, verify: 'count' },
  });
  const section = { redis: REDIS_URL.replace(/\/\/[^@]*@/, '//••••@'), goalMs: 50 };
  try {
    // Latency: one worker, one run at a time.
    const small = join(dir, 'small.db');
    makeSource(small, 100);
    const n = int('QUEUE_SMALL', 20);
    const w = startWorker(cfg, queueUrl, dir, 'bench-latency');
    await w.ready;
    const runs = [];
    for (let i = 0; i < n; i++) {
      const r = await enqueue(spec(`small ${i}`, small, join(dir, `small-${i}.db`)));
      await ended([r.runId]);
      const s = seen.get(r.runId);
      const summary = s.completed?.value;
      if (!summary || summary.status !== 'succeeded' || !s.started) throw new Error(`queued small run ${i} did not succeed: ${s.failed?.value ?? JSON.stringify(summary)}`);
      const startedAt = Date.parse(s.started.value.at);
      runs.push({ enqueueToStartMs: startedAt - r.enqueuedAt, endToSeenMs: s.completed.at - (startedAt + summary.durationMs), runMs: summary.durationMs });
    }
    await w.stop();
    // The first run pays the worker's warm-up (the engine's first connections): reported, not in the median.
    const warm = runs.slice(1);
    section.latency = {
      runs: n,
      rows: 100,
      enqueueToStartMs: median(warm.map((r) => r.enqueueToStartMs)),
      endToSeenMs: median(warm.map((r) => r.endToSeenMs)),
      runMs: median(warm.map((r) => r.runMs)),
      firstRun: runs[0],
    };
    const l = section.latency;
    log(`[queue] latency: enqueue → start ${l.enqueueToStartMs} ms, end → follower ${l.endToSeenMs} ms (median of ${n - 1}; the run itself ${l.runMs} ms)`);

    // Throughput on 1, 2, 3 workers.
    const rows = int('QUEUE_ROWS', 100_000);
    const count = int('QUEUE_RUNS', 20);
    const big = join(dir, 'big.db');
    makeSource(big, rows);
    section.throughput = { runs: count, rows, workers: [] };
    for (const k of [1, 2, 3]) {
      const fleet = Array.from({ length: k }, (_, i) => startWorker(cfg, queueUrl, dir, `bench-${k}-${i}`));
      await Promise.all(fleet.map((f) => f.ready));
      const load = Number(loadavg()[0].toFixed(2));
      const t0 = Date.now();
      const targets = Array.from({ length: count }, (_, i) => join(dir, `big-${k}-${i}.db`));
      const ids = [];
      for (const [i, target] of targets.entries()) ids.push((await enqueue(spec(`big ${k}/${i}`, big, target))).runId);
      await ended(ids);
      const seconds = (Date.now() - t0) / 1000;
      await Promise.all(fleet.map((f) => f.stop()));
      const failed = ids.filter((id) => seen.get(id).completed?.value?.status !== 'succeeded');
      const wrong = targets.filter((t) => {
        const db = new Database(t, { readonly: true });
        try {
          return db.prepare('SELECT count(*) FROM orders').pluck().get() !== rows;
        } finally {
          db.close();
        }
      });
      const entry = { workers: k, seconds: Number(seconds.toFixed(2)), rowsPerSecond: Math.round((rows * count) / seconds), failed: failed.length, wrongTargets: wrong.length, loadBefore: load };
      section.throughput.workers.push(entry);
      log(`[queue] ${count} runs of ${rows} rows on ${k} worker${k > 1 ? 's' : ''}: ${entry.seconds} s (${entry.rowsPerSecond} rows/s)${failed.length || wrong.length ? `, ${failed.length} failed, ${wrong.length} wrong targets` : ''}`);
    }
  } finally {
    // A section that failed half-way leaves no worker behind.
    await Promise.all([...started].map((stop) => stop()));
    await events.close();
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
    await queue.close();
  }
  return { section, measurements: [] };
}

export function formatQueue(q) {
  if (!q) return [];
  const out = ['', 'queue (BullMQ on Redis: `dbferry worker`, `dbferry run --queue`)'];
  if (q.skipped) return [...out, `  skipped: ${q.skipped}`];
  const l = q.latency;
  if (l) {
    out.push(`  the queue's cost per small run (${l.rows} rows, SQLite → SQLite, one worker, median of ${l.runs - 1} after a warm-up run); goal ≤ ${q.goalMs} ms each:`);
    out.push(`    enqueue → the worker's run-started   ${String(l.enqueueToStartMs).padStart(5)} ms  ${l.enqueueToStartMs <= q.goalMs ? 'ok' : 'OVER'}`);
    out.push(`    run's end → the follower's summary   ${String(l.endToSeenMs).padStart(5)} ms  ${l.endToSeenMs <= q.goalMs ? 'ok' : 'OVER'}`);
    out.push(`    (the run itself: ${l.runMs} ms; the first run, warming the worker: ${l.firstRun.enqueueToStartMs} + ${l.firstRun.endToSeenMs} ms)`);
  }
  const t = q.throughput;
  if (t) {
    out.push(`  ${t.runs} runs of ${t.rows.toLocaleString('en-US')} rows (SQLite → SQLite, a target file each), queued at once:`);
    for (const w of t.workers) {
      out.push(`    ${w.workers} worker${w.workers > 1 ? 's' : ' '}  ${w.seconds.toFixed(2).padStart(7)} s  ${w.rowsPerSecond.toLocaleString('en-US').padStart(10)} rows/s  (load ${w.loadBefore})${w.failed || w.wrongTargets ? `  ${w.failed} FAILED, ${w.wrongTargets} WRONG` : ''}`);
    }
    out.push('  On two shared cores more workers cannot go faster: each run already keeps a core busy. What would');
    out.push('  scale is workers on other machines (each with its cores and its disk), up to what the servers take.');
  }
  return out;
}
