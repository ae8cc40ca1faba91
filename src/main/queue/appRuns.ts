/**
 * The app's side of queued runs (`dbferry ui --queue`): "Run now" and
 * scheduled runs go to the queue, and each is recorded in the app's store
 * under its run id, its events ingested as they arrive from whichever worker
 * runs it (job progress through BullMQ), so the app shows it like a local run:
 * live progress, the job log, the summary and metrics.
 */
import { randomUUID } from 'node:crypto';
import { redactUrl } from '../../shared/connectionUrl.js';
import type { RunEvent, RunSummary } from '../../shared/events.js';
import type { JobSpec } from '../../shared/jobSpec.js';
import type { QueuedRuns } from '../api/context.js';
import { redactSpec } from '../runs/runner.js';
import { importRunLedger } from '../store/portableRunState.js';
import type { Store } from '../store/store.js';
import type { QueueLocation } from './redisUrl.js';
import { QueueScheduler, jobRunKey } from './queueScheduler.js';
import type { QueueSchedulerHooks } from './queueSchedulerHooks.js';
import { RunQueue } from './runQueue.js';
import type { ScheduleRunner } from './scheduler.js';

export class AppQueuedRuns implements QueuedRuns {
  readonly label: string;
  private readonly queue: RunQueue;

  constructor(
    private readonly location: QueueLocation,
    private readonly store: Store,
  ) {
    this.label = location.label;
    this.queue = new RunQueue(location);
  }

  start(spec: JobSpec, opts: { jobId?: string; baseDir: string; signal: AbortSignal; onEvent(e: RunEvent): void }): { runId: string; done: Promise<RunSummary> } {
    const runId = randomUUID();
    this.record(runId, spec, opts);
    const done = this.run(runId, spec, opts);
    return { runId, done };
  }

  /**
   * A scheduled run: not queued while a run of the job is waiting or active on
   * the queue (queued by hand, or by any app's schedule). The look covers runs
   * queued by hand; the deduplication id makes two scheduled ones exclusive in
   * one Redis step.
   */
  async startScheduled(
    spec: JobSpec,
    opts: { jobId?: string; baseDir: string; slot: string; signal: AbortSignal; onEvent(e: RunEvent): void },
  ): Promise<{ runId: string; done: Promise<RunSummary> } | { running: string }> {
    const running = await this.queue.activeRunOf(spec.name);
    if (running) return { running };
    const runId = randomUUID();
    const since = await this.queue.lastEventId();
    const added = await this.queue.add({ runId, spec, baseDir: opts.baseDir, slot: opts.slot, wantsLedger: true }, { deduplicationId: jobRunKey(spec.name) });
    if (added !== runId) return { running: added };
    this.record(runId, spec, opts);
    return { runId, done: this.run(runId, spec, opts, since) };
  }

  /** Is the run a job on the queue (queued by this app or any other)? */
  async has(runId: string): Promise<boolean> {
    return Boolean(await this.queue.queue.getJob(runId));
  }

  /**
   * Put a failed queued run back on the queue under its id (BullMQ's retry:
   * the run was rolled back, so a worker runs it anew; one whose apply had
   * committed is found applied by the target's marker and verified again),
   * and follow it here again.
   */
  async requeue(runId: string, opts: { signal: AbortSignal; onEvent(e: RunEvent): void }): Promise<{ runId: string; done: Promise<RunSummary> }> {
    const since = await this.queue.lastEventId();
    const put = await this.queue.requeue(runId);
    if ('problem' in put) throw new Error(put.problem);
    this.store.db.prepare("UPDATE runs SET status = 'running', pid = ?, finished_at = NULL WHERE id = ?").run(process.pid, runId);
    return { runId, done: this.run(runId, undefined, opts, since) };
  }

  /**
   * Runs this app queued and stopped following (it was closed, or lost Redis)
   * before they ended, newest first: recorded as failed with errorKind
   * 'queue', they may have gone on, and ended, on their workers.
   */
  unfollowed(): string[] {
    const rows = this.store.db
      .prepare(
        "SELECT id, summary_json AS summary FROM runs WHERE status = 'failed' AND started_at >= ? AND summary_json LIKE '%\"errorKind\":\"queue\"%' ORDER BY started_at DESC LIMIT 500",
      )
      // BullMQ keeps a failed job 30 days: an older one is gone.
      .all(new Date(Date.now() - 31 * 24 * 3600_000).toISOString()) as { id: string; summary: string }[];
    return rows.filter((r) => /^(no longer followed here|lost the queue )/.test((JSON.parse(r.summary) as RunSummary).error ?? '')).map((r) => r.id);
  }

  /**
   * Follow again a run this app stopped following: its end (summary, dead
   * letters and backups) reaches the history even if it ended meanwhile.
   * Undefined when its job is no longer on the queue.
   */
  async refollow(runId: string, opts: { signal: AbortSignal; onEvent(e: RunEvent): void }): Promise<{ runId: string; done: Promise<RunSummary> } | undefined> {
    if (!(await this.queue.queue.getJob(runId))) return undefined;
    const since = await this.queue.lastEventId();
    this.store.db.prepare("UPDATE runs SET status = 'running', pid = ?, finished_at = NULL WHERE id = ?").run(process.pid, runId);
    return { runId, done: this.run(runId, undefined, opts, since, 'followed again') };
  }

  /** Schedules as BullMQ job schedulers: Redis decides each slot, whichever app takes it. */
  scheduler(hooks: QueueSchedulerHooks): ScheduleRunner {
    return new QueueScheduler(this.location, hooks);
  }

  private record(runId: string, spec: JobSpec, opts: { jobId?: string; baseDir: string }): void {
    this.store.createRun({
      id: runId,
      jobId: opts.jobId,
      jobName: spec.name,
      specJson: JSON.stringify(redactSpec(spec)),
      baseDir: opts.baseDir,
      source: redactUrl(spec.source.url),
      target: redactUrl(spec.target.url),
    });
  }

  /** Queue the run (unless `since` says it is queued already) and follow it, ingesting its events into the store. */
  private async run(
    runId: string,
    spec: JobSpec | undefined,
    opts: { baseDir?: string; signal: AbortSignal; onEvent(e: RunEvent): void },
    queuedSince?: string,
    how = spec ? 'queued' : 'put back',
  ): Promise<RunSummary> {
    let finished = false;
    const ingest = (e: RunEvent) => {
      if (e.type !== 'progress') this.store.appendEvent(runId, e);
      if (e.type === 'summary') {
        this.store.finishRun(e);
        finished = true;
      }
      opts.onEvent(e);
    };
    try {
      let since = queuedSince;
      if (since === undefined) {
        if (!spec || opts.baseDir === undefined) throw new Error('nothing to queue');
        since = await this.queue.lastEventId();
        await this.queue.add({ runId, spec, baseDir: opts.baseDir, wantsLedger: true });
      }
      ingest({ type: 'warning', runId, message: how === 'followed again' ? `followed again on ${this.label}` : `${how} on ${this.label}; a worker will take it` });
      const summary = await this.queue.follow(runId, ingest, { since, signal: opts.signal });
      // Its dead letters and backups, from whichever worker ran it, before the app hears it ended.
      await this.queue.takeLedger(runId, (ledger) => importRunLedger(this.store, runId, ledger)).catch((err: unknown) =>
        ingest({ type: 'warning', runId, message: `could not fetch the run's dead letters and backups from ${this.label}: ${(err as Error).message}; they are in the history of the worker that ran it` }),
      );
      if (!finished) ingest(summary);
      return summary;
    } catch (err) {
      // No longer followed (the app closing, Redis gone): the run stays queued or running on its worker.
      // Recorded as failed here, not interrupted: `resume` in this app must not run it a second time.
      const summary: RunSummary = {
        type: 'summary',
        runId,
        status: 'failed',
        errorKind: 'queue',
        rowsRead: 0,
        rowsWritten: 0,
        rowsDeadLettered: 0,
        durationMs: 0,
        tables: [],
        error: `${opts.signal.aborted ? 'no longer followed here' : `lost the queue ${this.label}: ${(err as Error).message}`}; the run goes on there, \`dbferry runs --queue …\` shows how it ends`,
      };
      if (!finished) ingest(summary);
      return summary;
    }
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
