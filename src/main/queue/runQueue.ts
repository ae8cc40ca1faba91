/**
 * The queue as the CLI (and later the app) sees it: put a run on it, follow
 * one to its end, list what is queued, running and done.
 */
import { hostname } from 'node:os';
import { Queue, QueueEvents, type Job, type JobType } from 'bullmq';
import { Redis } from 'ioredis';
import type { RunEvent, RunSummary } from '../../shared/events.js';
import type { RunLedger } from '../store/portableRunState.js';
import type { QueuedRunData } from './queuedRun.js';
import { QUEUE_NAME, type QueueLocation } from './redisUrl.js';

const DAY_S = 24 * 3600;

export class RunQueue {
  readonly queue: Queue<QueuedRunData, RunSummary>;

  constructor(private readonly location: QueueLocation) {
    this.queue = new Queue<QueuedRunData, RunSummary>(QUEUE_NAME, { connection: location.connection, prefix: location.prefix });
    this.queue.on('error', () => undefined); // commands reject with the same error, where it is reported
  }

  /**
   * Put the run on the queue; its job id. With `deduplicationId`, BullMQ adds
   * it only if no job of that id is waiting or active (one Redis step), and
   * else returns that job's id.
   */
  async add(data: Omit<QueuedRunData, 'queuedBy'>, opts: { deduplicationId?: string } = {}): Promise<string> {
    const job = await this.queue.add(data.spec.name, { ...data, queuedBy: hostname() }, {
      jobId: data.runId,
      ...(opts.deduplicationId ? { deduplication: { id: opts.deduplicationId } } : {}),
      // BullMQ does not try a failed run again by itself: it was rolled back, and stays in the failed set
      // with its reason until `dbferry requeue` puts it back (a stalled run, whose worker died, is continued).
      attempts: 1,
      removeOnComplete: { age: 14 * DAY_S, count: 10_000 },
      removeOnFail: { age: 30 * DAY_S },
    });
    return job.id ?? data.runId;
  }

  /**
   * The finished run's dead letters and backup records, left in its job by
   * the worker for the app that follows it; once recorded there (`record`),
   * they are removed from Redis.
   */
  async takeLedger(runId: string, record: (ledger: RunLedger) => void): Promise<void> {
    const job = await this.queue.getJob(runId);
    const ledger = job?.data.ledger;
    if (!job || !ledger) return;
    record(ledger);
    const { ledger: _ledger, ...rest } = job.data;
    await job.updateData(rest);
  }

  /** A run of the job (by name) waiting or active on the queue, whoever queued it. */
  async activeRunOf(jobName: string): Promise<string | undefined> {
    const jobs = await this.queue.getJobs(['active', 'waiting', 'prioritized', 'delayed'], 0, 9_999);
    return jobs.find((j) => j.data?.spec?.name === jobName)?.id;
  }

  /**
   * Hand every event of the run to `onEvent` until it ends; the summary. The
   * events come from BullMQ's event stream (job progress); the end is the job's
   * state, also looked up now and then, so a follower that lost events while
   * Redis was away still ends with the run.
   */
  async follow(runId: string, onEvent: (e: RunEvent) => void, opts: { signal?: AbortSignal; since: string }): Promise<RunSummary> {
    const events = new QueueEvents(QUEUE_NAME, { connection: this.location.connection, prefix: this.location.prefix, lastEventId: opts.since });
    events.on('error', () => undefined);
    let summary: RunSummary | undefined;
    let started = false;
    try {
      return await new Promise<RunSummary>((resolve, reject) => {
        const finish = (s: RunSummary) => {
          clearInterval(poll);
          resolve(s);
        };
        events.on('progress', ({ jobId, data }) => {
          if (jobId !== runId || typeof data !== 'object' || data === null) return;
          const e = data as RunEvent;
          // A run taken over by another worker starts again: its reader saw the start once.
          if (e.type === 'run-started' && started) return;
          if (e.type === 'run-started') started = true;
          if (e.type === 'summary') summary = e;
          onEvent(e);
        });
        events.on('completed', ({ jobId, returnvalue }) => {
          if (jobId === runId) finish(summary ?? (returnvalue as unknown as RunSummary));
        });
        events.on('failed', ({ jobId, failedReason }) => {
          if (jobId === runId) void this.failedSummary(runId, failedReason, summary).then(finish, reject);
        });
        const look = () => void this.ended(runId, summary).then((s) => s && finish(s), () => undefined);
        const poll = setInterval(look, 2000);
        // A run that ended before this follower came (an app following it again) ends here at once.
        look();
        opts.signal?.addEventListener('abort', () => {
          clearInterval(poll);
          reject(opts.signal!.reason);
        });
      });
    } finally {
      await events.close();
    }
  }

  /** The id of the last event in the queue's stream now: a follower reads from there on. */
  async lastEventId(): Promise<string> {
    // BullMQ's own client has no XREVRANGE: one short connection of ioredis, which BullMQ runs on.
    const client = new Redis(this.location.connection.url, { tls: this.location.tls, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    try {
      const last = await client.xrevrange(this.queue.keys.events, '+', '-', 'COUNT', 1);
      return last[0]?.[0] ?? '0-0';
    } finally {
      client.disconnect();
    }
  }

  /** The run's summary if its job has ended, else undefined. */
  private async ended(runId: string, seen?: RunSummary): Promise<RunSummary | undefined> {
    const job = await this.queue.getJob(runId);
    if (!job) return { ...emptySummary(runId), error: `run ${runId} is no longer in the queue` };
    const state = await job.getState();
    if (state === 'completed') return seen ?? job.returnvalue;
    if (state === 'failed') return this.failedSummary(runId, job.failedReason, seen);
    return undefined;
  }

  /** A failed job's summary: the run's own (from its log), or one saying why the job failed. */
  private async failedSummary(runId: string, reason: string, seen?: RunSummary): Promise<RunSummary> {
    if (seen) return seen;
    const { logs } = await this.queue.getJobLogs(runId, -1, -1);
    const last = logs[0] ? (JSON.parse(logs[0]) as RunEvent) : undefined;
    if (last?.type === 'summary') return last;
    return { ...emptySummary(runId), error: reason };
  }

  async list(limit: number): Promise<QueuedRunInfo[]> {
    const out: QueuedRunInfo[] = [];
    for (const state of ['active', 'waiting', 'prioritized', 'delayed', 'failed', 'completed'] as const satisfies JobType[]) {
      for (const job of await this.queue.getJobs([state], 0, limit - 1)) out.push(describeJob(job, state));
    }
    return out.sort((a, b) => b.queuedAt.localeCompare(a.queuedAt)).slice(0, limit);
  }

  /**
   * Put a failed run back on the queue, under its id (BullMQ's retry). It was
   * rolled back when it failed, so the worker that takes it runs it anew; one
   * whose apply had committed (it failed verification) is found applied by the
   * target's marker and verified again.
   */
  async requeue(idOrPrefix: string): Promise<{ runId: string } | { problem: string }> {
    let job = await this.queue.getJob(idOrPrefix);
    if (!job) {
      const matches = (await this.queue.getJobs(['failed', 'completed', 'active', 'waiting', 'delayed'], 0, 10_000)).filter((j) => j.id?.startsWith(idOrPrefix));
      if (matches.length > 1) return { problem: `"${idOrPrefix}" names ${matches.length} runs; give more of the run id` };
      job = matches[0];
    }
    if (!job) return { problem: `no run "${idOrPrefix}" on the queue (see \`dbferry runs --queue …\`)` };
    const state = await job.getState();
    if (state !== 'failed') return { problem: `run ${job.id} is ${state}: only a failed run can be put back on the queue` };
    await job.retry('failed');
    return { runId: job.id! };
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface QueuedRunInfo {
  runId: string;
  job: string;
  state: string;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  worker?: string;
  /** Workers that started it: more than one when a worker died or gave it back. */
  starts: number;
  status?: string;
  rowsWritten?: number;
  rowsDeadLettered?: number;
  error?: string;
}

function describeJob(job: Job<QueuedRunData, RunSummary>, state: string): QueuedRunInfo {
  const iso = (ms?: number) => (ms ? new Date(ms).toISOString() : undefined);
  const s = job.returnvalue as RunSummary | null | undefined;
  return {
    runId: job.data.runId,
    job: job.data.spec.name,
    state,
    queuedAt: new Date(job.timestamp).toISOString(),
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    worker: job.processedBy ?? job.data.worker,
    starts: job.attemptsStarted,
    status: s?.status ?? (state === 'failed' ? 'failed' : undefined),
    rowsWritten: s?.rowsWritten,
    rowsDeadLettered: s?.rowsDeadLettered,
    error: job.failedReason || undefined,
  };
}

function emptySummary(runId: string): RunSummary {
  return { type: 'summary', runId, status: 'failed', rowsRead: 0, rowsWritten: 0, rowsDeadLettered: 0, durationMs: 0, tables: [] };
}
