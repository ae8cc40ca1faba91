/**
 * A worker: takes runs from the queue and executes them with the same engine
 * as `dbferry run`, recording each in its own store. What it does reaches
 * Redis through the job (progress, log, return value, and the run's state in
 * the job's data, see jobPublisher.ts).
 *
 * - A worker that dies loses its lock; BullMQ puts the job back as stalled and
 *   the next worker continues the run from the state the job carries.
 * - stop() cancels the runs at hand (the engine checkpoints the current
 *   chunk), writes their state to their jobs and puts them back in the queue.
 */
import { hostname } from 'node:os';
import { DelayedError, Worker, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { RunEvent, RunSummary } from '../../shared/events.js';
import { redactUrl } from '../../shared/connectionUrl.js';
import { parseJobSpec } from '../../shared/jobSpec.js';
import { sendWebhook } from '../runs/notify.js';
import { runFromQueue } from '../runs/queued.js';
import { exportRunLedger, exportRunState } from '../store/portableRunState.js';
import type { Store } from '../store/store.js';
import { JobPublisher } from './jobPublisher.js';
import type { QueuedRunData } from './queuedRun.js';
import { QUEUE_NAME, type QueueLocation } from './redisUrl.js';
import { describeRedisError } from './redisProbe.js';
import { ServerSlots, serversOf } from './serverSlots.js';

export interface RunWorkerOptions {
  location: QueueLocation;
  store: Store;
  concurrency: number;
  name?: string;
  /** How long a run's lock lasts without renewal; a dead worker's run is taken over after about this long. */
  lockMs?: number;
  /** How many times a run whose worker died is taken over before it fails (default 5). */
  maxTakeovers?: number;
  /** At most this many runs against one database server at once, across every worker that has the same cap. */
  perServer?: number;
  log: (line: string) => void;
}

export interface RunWorker {
  name: string;
  /** Checkpoint and give back the runs at hand, then disconnect. */
  stop(): Promise<void>;
}

function isConnectionError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return Boolean(e.code && /^E[A-Z]+$/.test(e.code)) || /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/.test(e.message ?? '');
}

export function defaultWorkerName(): string {
  return `${hostname()}-${process.pid}`;
}

export function startRunWorker(opts: RunWorkerOptions): RunWorker {
  const name = opts.name ?? defaultWorkerName();
  const stopping = new AbortController();
  const lockMs = opts.lockMs ?? 30_000;
  /** Runs at hand, by job id: a run whose lock could not be renewed is stopped here. */
  const lockLost = new Map<string, () => void>();
  const slots = opts.perServer ? new ServerSlots(opts.location, opts.perServer, lockMs) : undefined;
  /** Runs this worker said wait for a server slot (said once). */
  const waitingForSlot = new Set<string>();

  const processor = async (job: Job<QueuedRunData>, token?: string): Promise<RunSummary> => {
    // Whoever queued it, the spec is parsed here like a job file: defaults filled in, every problem named.
    const parsed = parseJobSpec(job.data.spec);
    if (!parsed.ok) return refuse(job, parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    const data = { ...job.data, spec: parsed.spec };
    const servers = slots ? serversOf(data.spec) : [];
    // The holder is the run on this worker: a run another worker still stops (it lost its lock) keeps its slot until then.
    const holder = `${data.runId} ${name}`;
    if (slots && !(await slots.take(holder, servers))) {
      if (!waitingForSlot.has(data.runId)) opts.log(`run ${data.runId} waits for a slot on ${servers.join(', ')} (at most ${opts.perServer} runs each)`);
      waitingForSlot.add(data.runId);
      // Back in the queue for a second or two, for this or another worker to try again.
      await job.moveToDelayed(Date.now() + 1000 + Math.round(Math.random() * 1000), token);
      throw new DelayedError();
    }
    waitingForSlot.delete(data.runId);
    const release = slots?.hold(holder, servers);
    try {
      return await execute(job, data, token);
    } finally {
      await release?.();
    }
  };

  const execute = async (job: Job<QueuedRunData>, data: QueuedRunData, token?: string): Promise<RunSummary> => {
    // A worker recorded in the job started this run before (it died, lost its lock, or gave it back).
    const before = data.worker;
    opts.log(`${before ? 'continuing' : 'starting'} run ${data.runId} (${data.spec.name})${before ? `, last run by ${before}` : ''}`);
    await job.updateData({ ...job.data, worker: name });
    const publisher = new JobPublisher(job, name, () => exportRunState(opts.store, data.runId), (m) => opts.log(m));
    const lost = new AbortController();
    lockLost.set(job.id!, () => {
      publisher.halt();
      lost.abort();
    });
    if (before) publisher.event({ type: 'warning', runId: data.runId, message: `worker ${name} continues this run after ${before} stopped` });
    let summary: RunSummary;
    let stillOurs: boolean;
    try {
      summary = await runFromQueue(
        opts.store,
        { runId: data.runId, spec: data.spec, baseDir: data.baseDir, state: data.state },
        {
          signal: AbortSignal.any([stopping.signal, lost.signal]),
          // A run given back on SIGTERM ends here as 'cancelled', but not for whoever follows it: it goes on elsewhere.
          onEvent: (e: RunEvent) =>
            publisher.event(
              e.type === 'summary' && e.status === 'cancelled' && stopping.signal.aborted
                ? { type: 'warning', runId: e.runId, message: `worker ${name} is stopping: the run goes back to the queue from its checkpoints` }
                : e,
            ),
          onStateSaved: () => publisher.stateChanged(),
          // The webhook hears of a run once, at its end, not of each worker that gave it back or lost it:
          // a worker that lost the lock says nothing even if it got to the end, since the worker that
          // now holds the run (finding it applied, by its marker) ends it again.
          isFinal: (s) => !lost.signal.aborted && !(s.status === 'cancelled' && stopping.signal.aborted),
        },
      );
    } finally {
      stillOurs = lockLost.delete(job.id!);
    }
    // A cancelled run continues elsewhere from its state, written once more; a finished one needs none.
    if (summary.status === 'cancelled') publisher.stateChanged();
    else publisher.clearState(data.wantsLedger ? exportRunLedger(opts.store, data.runId) : undefined);
    await publisher.flush();
    opts.log(`run ${data.runId}: ${summary.status}`);
    if (!stillOurs || lost.signal.aborted) throw new Error(`worker ${name} lost the lock on run ${data.runId}; another worker continues it`);
    if (summary.status === 'cancelled' && stopping.signal.aborted) {
      await job.moveToWait(token);
      opts.log(`run ${data.runId} is back in the queue for another worker`);
      throw new WaitingError();
    }
    // A failed run was rolled back; it stays in the failed set (`dbferry requeue` puts it back).
    if (summary.status === 'failed' || summary.status === 'cancelled') throw new UnrecoverableError(summary.error ?? `the run ${summary.status}`);
    return summary;
  };

  /** A job this worker cannot run: its summary says why (exit 2 for whoever follows), and it fails. */
  const refuse = async (job: Job<QueuedRunData>, why: string): Promise<never> => {
    const runId = String(job.data?.runId ?? job.id);
    const summary: RunSummary = { type: 'summary', runId, status: 'failed', rowsRead: 0, rowsWritten: 0, rowsDeadLettered: 0, durationMs: 0, tables: [], error: `the queued job spec is invalid: ${why}`, errorKind: 'spec' };
    opts.log(`run ${runId}: ${summary.error}`);
    await job.updateProgress(summary as object);
    await job.log(JSON.stringify(summary));
    throw new UnrecoverableError(summary.error);
  };

  const worker = new Worker<QueuedRunData, RunSummary>(QUEUE_NAME, processor, {
    connection: opts.location.connection,
    prefix: opts.location.prefix,
    concurrency: opts.concurrency,
    name,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // A run may be taken over several times (several workers dying) before it counts as failed.
    maxStalledCount: opts.maxTakeovers ?? 5,
  });
  // A run taken over too many times is failed by BullMQ in the worker that next takes it, without
  // running it: no run reaches its end to tell the webhook, so this worker does, once.
  worker.on('failed', (job, err) => {
    if (!job || !/stalled more than allowable limit/.test(err.message)) return;
    const runId = String(job.data?.runId ?? job.id);
    const error = `the run was taken over ${job.attemptsStarted} times (its workers died or lost Redis) and failed: ${err.message}; \`dbferry requeue ${runId.slice(0, 8)} --queue …\` puts it back`;
    opts.log(`run ${runId}: ${error}`);
    const parsed = parseJobSpec(job.data?.spec);
    if (!parsed.ok) return;
    const summary: RunSummary = { type: 'summary', runId, status: 'failed', errorKind: 'queue', rowsRead: 0, rowsWritten: 0, rowsDeadLettered: 0, durationMs: 0, tables: [], error };
    void job.log(JSON.stringify(summary)).catch(() => undefined);
    void sendWebhook(parsed.spec, { ...summary, job: parsed.spec.name, source: redactUrl(parsed.spec.source.url), target: redactUrl(parsed.spec.target.url) }).then((failure) => failure && opts.log(`run ${runId}: ${failure}`));
  });
  let lastError = '';
  let lastErrorAt = 0;
  worker.on('error', (err) => {
    const message = describeRedisError(err);
    if (!isConnectionError(err)) {
      opts.log(`BullMQ: ${message}`);
      return;
    }
    // Reconnecting repeats the same error every few seconds: say it once a minute.
    if (message === lastError && Date.now() - lastErrorAt < 60_000) return;
    lastError = message;
    lastErrorAt = Date.now();
    opts.log(`Redis at ${opts.location.label}: ${message}; reconnecting`);
  });
  // BullMQ's worker says nothing when its connection comes back: its Redis client does.
  void worker
    .getBackend()
    .client.then((client) =>
      client.on('ready', () => {
        if (lastError) opts.log(`Redis at ${opts.location.label} answers again`);
        lastError = '';
      }),
    )
    .catch(() => undefined);
  // Redis did not renew the lock in time (this process stalled, or Redis was away): BullMQ may give
  // the run to another worker, so this one stops it after the current batch and records nothing more.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) {
      const stop = lockLost.get(id);
      if (!stop) continue;
      lockLost.delete(id);
      opts.log(`lost the lock on run ${id}: stopping it here, another worker may continue it`);
      stop();
    }
  });
  worker.on('stalled', (jobId) => opts.log(`run ${jobId} lost its worker; it goes back to the queue`));

  return {
    name,
    async stop() {
      stopping.abort();
      await worker.close();
      slots?.close();
    },
  };
}
