/**
 * Queue tests: a private key prefix on the local Redis per test file (removed
 * afterwards), and `dbferry worker` processes started as an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BIN, ROOT } from './cli.js';

export const REDIS_URL = process.env.DBFERRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** Does Redis answer on REDIS_URL? (A test file skips its queue tests when not.) */
export async function redisAnswers(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export interface TestQueue {
  /** The --queue URL: REDIS_URL with this test's own key prefix. */
  url: string;
  prefix: string;
  /** Every key of this prefix with everything it holds, as text (strings, hashes, lists, sets, streams, and DUMP's bytes). */
  dataset(): Promise<string>;
  /** Wait until every run has finished (completed or failed), looking at Redis in-process: cheaper than a `dbferry runs` process a poll. */
  finished(runIds: string[], ms?: number): Promise<void>;
  /** Remove every key of the prefix. */
  drop(): Promise<void>;
}

export function testQueue(): TestQueue {
  const prefix = `dbferry-test-${randomBytes(5).toString('hex')}`;
  const url = `${REDIS_URL}?prefix=${prefix}`;
  const withRedis = async <T>(fn: (r: Redis) => Promise<T>): Promise<T> => {
    const r = new Redis(REDIS_URL);
    try {
      return await fn(r);
    } finally {
      r.disconnect();
    }
  };
  const keys = (r: Redis) => r.keys(`${prefix}:*`);
  return {
    url,
    prefix,
    dataset: () =>
      withRedis(async (r) => {
        const parts: string[] = [];
        for (const key of await keys(r)) {
          const type = await r.type(key);
          parts.push(`${key} (${type})`);
          if (type === 'string') parts.push((await r.get(key)) ?? '');
          if (type === 'hash') parts.push(JSON.stringify(await r.hgetall(key)));
          if (type === 'list') parts.push(...(await r.lrange(key, 0, -1)));
          if (type === 'set') parts.push(...(await r.smembers(key)));
          if (type === 'zset') parts.push(...(await r.zrange(key, 0, -1)));
          if (type === 'stream') parts.push(JSON.stringify(await r.xrange(key, '-', '+')));
          const dump = await r.dumpBuffer(key);
          if (dump) parts.push(dump.toString('latin1'));
        }
        return parts.join('\n');
      }),
    finished: async (runIds, ms = 60_000) => {
      const q = new Queue('runs', { connection: { url: REDIS_URL }, prefix });
      try {
        await waitFor(`${runIds.length} finished runs`, async () => {
          const states = await Promise.all(runIds.map((id) => q.getJobState(id)));
          return states.every((s) => s === 'completed' || s === 'failed') ? true : undefined;
        }, ms);
      } finally {
        await q.close();
      }
    },
    drop: () =>
      withRedis(async (r) => {
        const all = await keys(r);
        if (all.length) await r.del(...all);
      }),
  };
}

export interface TestWorker {
  name: string;
  child: ChildProcess;
  state: string;
  log(): string;
  /** Resolves when the worker has said it takes runs. */
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `dbferry worker --queue URL --name NAME --state DIR/NAME`, with BullMQ's 30 s lock unless the test
 * sets DBFERRY_QUEUE_LOCK_MS (a test that kills workers: a short lock, so the run is taken over in
 * seconds; on two busy cores a short lock can also be lost by a live worker).
 */
export function startWorker(queueUrl: string, dir: string, name: string, opts: { env?: NodeJS.ProcessEnv; args?: string[] } = {}): TestWorker {
  const state = join(dir, `state-${name}`);
  const child = spawn(process.execPath, [BIN, 'worker', '--queue', queueUrl, '--name', name, '--state', state, ...(opts.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
  });
  let log = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stderr.on('data', (d) => {
    log += d;
    if (log.includes('taking runs from')) onReady();
  });
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { name, child, state, log: () => log, ready, exited };
}

/** Stop what a test started, whatever happened to the test. */
export async function stopWorkers(workers: TestWorker[]): Promise<void> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}

/** Poll until `check` returns a value (not undefined), or fail after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
