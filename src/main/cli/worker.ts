/**
 * `dbferry worker --queue redis://…`: a headless process that executes queued
 * runs with this machine's engine and its own state folder. SIGTERM (or
 * Ctrl-C) checkpoints the runs at hand and gives them back to the queue.
 */
import { EXIT } from '../../shared/events.js';
import { probeRedis } from '../queue/redisProbe.js';
import { startRunWorker } from '../queue/worker.js';
import { queueLocation } from './queued.js';
import { openStore } from './state.js';

export async function workerCommand(opts: { queue?: string; concurrency?: string; name?: string; state?: string; 'per-server'?: string }): Promise<number> {
  if (!opts.queue) {
    process.stderr.write('usage: dbferry worker --queue redis://host:6379[/db] [--concurrency N] [--per-server N] [--name NAME] [--state DIR]\n');
    return EXIT.invalid;
  }
  const location = queueLocation('worker', opts.queue);
  if (!location) return EXIT.invalid;
  const concurrency = opts.concurrency === undefined ? 1 : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write(`dbferry worker: --concurrency must be a whole number of runs at once (1 or more), not "${opts.concurrency}"\n`);
    return EXIT.invalid;
  }
  const perServer = opts['per-server'] === undefined ? undefined : Number(opts['per-server']);
  if (perServer !== undefined && !(Number.isInteger(perServer) && perServer >= 1)) {
    process.stderr.write(`dbferry worker: --per-server must be a whole number of runs against one server at once (1 or more), not "${opts['per-server']}"\n`);
    return EXIT.invalid;
  }
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  // An unreachable Redis is said at once; the worker still starts and connects when Redis answers.
  const unreachable = await probeRedis(location);
  if (unreachable) log(`${unreachable}; retrying until it answers`);
  const lockMs = Number(process.env.DBFERRY_QUEUE_LOCK_MS) || undefined;
  const takeovers = process.env.DBFERRY_QUEUE_MAX_TAKEOVERS;
  const maxTakeovers = takeovers !== undefined && /^\d+$/.test(takeovers) ? Number(takeovers) : undefined;
  const worker = startRunWorker({ location, store, concurrency, perServer, name: opts.name, lockMs, maxTakeovers, log });
  log(`worker ${worker.name}: taking runs from ${location.label} (${concurrency} at once${perServer ? `, at most ${perServer} per database server across workers` : ''}); history in ${store.path}`);
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = () => {
      signals++;
      if (signals > 1) process.exit(EXIT.interrupted);
      log(`worker ${worker.name}: stopping; the runs at hand checkpoint and go back to the queue (a second signal quits at once)`);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await worker.stop();
  store.close();
  log(`worker ${worker.name}: stopped`);
  return EXIT.ok;
}
