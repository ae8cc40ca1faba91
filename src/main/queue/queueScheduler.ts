/**
 * Schedules on the queue (`dbferry ui --queue`): each enabled schedule is a
 * BullMQ job scheduler in Redis, so Redis, not this process's clock, decides
 * a slot, and any number of app processes on the same queue fire it once.
 *
 * - The job scheduler's id is made of the job's name, the cron expression and
 *   the time zone: two apps with a job of that name on that cron (each with
 *   its own store, on its own machine) hold the same scheduler. Its template
 *   carries the saved spec (no password: a queued spec never has one).
 * - A slot is a small job on the `schedules` queue that BullMQ makes due at
 *   the cron's time; every app on the queue runs a BullMQ worker on it, and
 *   the one that takes the slot puts the run on the `runs` queue, records it
 *   in its store and follows it (a run's events reach that app's history).
 * - A job never runs twice at once: the run is added with a BullMQ
 *   deduplication id per job name (one Redis step: a second run of the job is
 *   refused while the first is waiting or active), after a look for one
 *   queued by hand ("Run now", `dbferry run --queue`). A slot that finds one
 *   is skipped, and the skip is recorded and logged.
 * - A missed slot runs once: BullMQ keeps one pending job per scheduler; when
 *   no app was up at its time, the first app to start takes it, and BullMQ
 *   computes the next slot from now. An app that starts leaves an unchanged
 *   scheduler alone (upserting it would replace that pending slot).
 * - The retry policy for unreachable servers is the local scheduler's
 *   (retryPolicy.ts): the app that followed the failed run adds a delayed
 *   retry job to the `schedules` queue, which any app may take, and which is
 *   dropped when the regular slot comes first or the schedule changed.
 */
import { createHash } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import type { RunSummary } from '../../shared/events.js';
import { parseJobSpec, type JobSpec } from '../../shared/jobSpec.js';
import type { ScheduleOutcome, ScheduleRecord } from '../store/schedules.js';
import { markInterruptedRuns } from '../store/runState.js';
import { localTimeZone, nextRun, validateCron } from './cron.js';
import type { QueueSchedulerHooks } from './queueSchedulerHooks.js';
import { describeRedisError } from './redisProbe.js';
import type { QueueLocation } from './redisUrl.js';
import { DEFAULT_RETRY, type RetryPolicy, isTransientFailure, retryDelayMs } from './retryPolicy.js';
import type { ScheduleFired, ScheduleRunner } from './scheduler.js';

export const SCHEDULE_QUEUE = 'schedules';

/** A slot's job (the scheduler's template, or a retry). */
export interface SlotData {
  key: string;
  jobName: string;
  cron: string;
  tz: string;
  spec: JobSpec;
  baseDir: string;
  /** A retry: which one, and the regular slot it must not pass (ms). */
  attempt?: number;
  regularNext?: number;
}

const short = (id: string) => id.slice(0, 8);
const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The job scheduler's id: the same in every app that has a job of this name on this cron. */
export function schedulerKey(jobName: string, cron: string, tz: string): string {
  return `s-${hash(`${jobName}\n${cron}\n${tz}`)}`;
}

/** The deduplication id of a job's scheduled runs: one at a time, whichever app queued it. */
export function jobRunKey(jobName: string): string {
  return `job-${hash(jobName)}`;
}

/** How long the app waits for a slot job's worker before it looks for changes other apps made (missing schedulers). */
const RESYNC_MS = 30_000;

export class QueueScheduler implements ScheduleRunner {
  private readonly queue: Queue<SlotData>;
  private worker: Worker<SlotData> | undefined;
  private running = false;
  private syncing: Promise<void> = Promise.resolve();
  private resync: NodeJS.Timeout | undefined;
  /** The scheduler ids this app upserted at its last look: one it no longer has is removed. */
  private mine = new Set<string>();
  private readonly retry: RetryPolicy;

  constructor(
    private readonly location: QueueLocation,
    private readonly hooks: QueueSchedulerHooks,
  ) {
    this.queue = new Queue<SlotData>(SCHEDULE_QUEUE, { connection: location.connection, prefix: location.prefix });
    this.queue.on('error', () => undefined); // commands reject with the same error, where it is logged
    this.retry = hooks.retry ?? DEFAULT_RETRY;
  }

  get started(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Schedulers first, so that an app's first look at the queue does not take a slot of a schedule it is about to change.
    this.sync('changed');
    void this.syncing.then(() => {
      if (!this.running) return;
      this.worker = new Worker<SlotData>(SCHEDULE_QUEUE, (job) => this.slot(job), {
        connection: this.location.connection,
        prefix: this.location.prefix,
        concurrency: 1,
      });
      // Reconnecting repeats the same error every few seconds: say it once a minute.
      let last = '';
      let lastAt = 0;
      this.worker.on('error', (err) => {
        const message = describeRedisError(err);
        if (message === last && Date.now() - lastAt < 60_000) return;
        [last, lastAt] = [message, Date.now()];
        this.log(`the schedules on ${this.location.label}: ${message}`);
      });
    });
    this.resync = setInterval(() => this.sync('missing'), RESYNC_MS);
    this.resync.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.resync);
    // A look at Redis in progress ends first, unless Redis is away (its commands wait for it).
    await Promise.race([this.syncing, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker?.close();
    await this.queue.close();
  }

  wake(): void {
    if (this.running) this.sync('changed');
  }

  /** Redis decides the slots: there is nothing to start from here. */
  tick(): ScheduleFired[] {
    return [];
  }

  /** The slots and the retries waiting on the queue (for tests and diagnostics). */
  scheduler(key: string) {
    return this.queue.getJobScheduler(key);
  }

  /**
   * Make Redis hold a job scheduler for each enabled schedule of this store.
   * 'changed': upsert those Redis lacks or holds differently, remove those
   * this app dropped; 'missing': only add those Redis lacks (another app
   * removed one this app still has).
   */
  private sync(mode: 'changed' | 'missing'): void {
    this.syncing = this.syncing.then(async () => {
      try {
        await this.syncNow(mode);
      } catch (err) {
        this.log(`could not update the schedules on ${this.location.label}: ${errorText(err)}`);
      }
    });
  }

  private desired(): Map<string, SlotData> {
    // The zone the Schedules screen shows; BullMQ reads the cron in it (an unnamed zone: the process's local time).
    const zone = localTimeZone();
    const tz = zone === 'local time' ? '' : zone;
    const out = new Map<string, SlotData>();
    for (const s of this.hooks.schedules.list()) {
      if (!s.enabled) continue;
      const job = this.hooks.jobs.get(s.jobId);
      if (!job) continue;
      let cron: string;
      try {
        cron = validateCron(s.cron);
      } catch {
        continue; // the Schedules screen shows it invalid
      }
      const key = schedulerKey(job.name, cron, tz);
      out.set(key, { key, jobName: job.name, cron, tz, spec: job.spec, baseDir: this.hooks.baseDir });
    }
    return out;
  }

  private async syncNow(mode: 'changed' | 'missing'): Promise<void> {
    const desired = this.desired();
    for (const [key, data] of desired) {
      const existing = await this.queue.getJobScheduler(key);
      const same = existing && existing.pattern === data.cron && (existing.tz ?? '') === data.tz && JSON.stringify(existing.template?.data) === JSON.stringify(data);
      if (existing && (same || mode === 'missing')) continue;
      await this.queue.upsertJobScheduler(key, { pattern: data.cron, ...(data.tz ? { tz: data.tz } : {}) }, {
        name: data.jobName,
        data,
        opts: { removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } },
      });
      this.log(`schedule ${JSON.stringify(data.jobName)} (${data.cron}) is a job scheduler on ${this.location.label}`);
    }
    if (mode === 'changed') {
      for (const key of this.mine) {
        if (desired.has(key)) continue;
        await this.queue.removeJobScheduler(key);
      }
      this.mine = new Set(desired.keys());
    }
    // The Schedules screen shows the next slot Redis holds.
    for (const s of this.hooks.schedules.list()) {
      const local = [...desired.values()].find((d) => this.matches(s, d));
      if (!local) continue;
      const next = (await this.queue.getJobScheduler(local.key))?.next;
      if (next && s.nextRunAt !== new Date(next).toISOString()) this.hooks.schedules.claim(s.id, s.nextRunAt ?? '', new Date(next).toISOString());
    }
  }

  private matches(s: ScheduleRecord, d: SlotData): boolean {
    return s.enabled && s.cron === d.cron && this.hooks.jobs.get(s.jobId)?.name === d.jobName;
  }

  /** A slot (or a retry) came due and this app took it. */
  private async slot(job: Job<SlotData>): Promise<void> {
    const d = job.data;
    const slotMs = job.opts.prevMillis ?? job.timestamp + (job.opts.delay ?? 0);
    const slot = new Date(slotMs).toISOString();
    if (d.attempt) {
      const current = await this.queue.getJobScheduler(d.key);
      // The schedule changed or went, or its regular slot came first: that decides.
      if (!current || JSON.stringify(current.template?.data) !== JSON.stringify(strip(d))) return;
      if (d.regularNext && Date.now() >= d.regularNext) return;
    }
    const local = this.hooks.schedules.list().find((s) => this.matches(s, d));
    const localJob = local ? this.hooks.jobs.get(local.jobId) : this.hooks.jobs.list().find((j) => j.name === d.jobName);
    const fired = (kind: ScheduleOutcome, message: string, extra: { runId?: string; retries?: number } = {}) => this.record(d, local, slot, kind, message, extra);

    const previous = localJob && this.runningHere(localJob.id);
    if (previous) return void fired('skipped', `skipped the run due ${slot}: run ${short(previous.id)} of this job, started ${previous.startedAt}, is still running`);
    const parsed = parseJobSpec(d.spec);
    if (!parsed.ok) return void fired('not-started', `the saved job is not valid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    const retries = d.attempt ?? 0;
    let started;
    try {
      started = await this.hooks.startScheduled(parsed.spec, { jobId: localJob?.id, baseDir: d.baseDir, slot });
    } catch (err) {
      return void fired('not-started', `could not start: ${errorText(err)}`, { retries: 0 });
    }
    if ('running' in started) {
      return void fired('skipped', `skipped the run due ${slot}: run ${short(started.running)} of this job is still on the queue`);
    }
    fired('started', `started run ${short(started.runId)} for the slot ${slot}${retries ? ` (retry ${retries} of ${this.retry.max})` : ''}`, { runId: started.runId, retries });
    const { runId } = started;
    started.done.then(
      (summary) => this.finished(d, local?.id, runId, summary, retries),
      (err: unknown) => this.finished(d, local?.id, runId, { status: 'failed', error: errorText(err), errorKind: 'internal' }, retries),
    );
  }

  private record(d: SlotData, local: ScheduleRecord | undefined, slot: string, kind: ScheduleOutcome, message: string, extra: { runId?: string; retries?: number }): ScheduleFired {
    const text = this.hooks.scrub ? this.hooks.scrub(message) : message;
    const at = new Date().toISOString();
    if (local) this.hooks.schedules.recordOutcome(local.id, { kind, message: text, at, ...extra });
    // `at` is the slot Redis decided: the same in every app that could have taken it.
    const fired: ScheduleFired = { scheduleId: local?.id ?? d.key, jobId: local?.jobId ?? '', jobName: d.jobName, outcome: kind, runId: extra.runId, message: text, at: slot };
    this.log(`schedule ${JSON.stringify(d.jobName)} (${d.cron}): ${text}`);
    this.hooks.onChange?.(fired);
    return fired;
  }

  /** A run of the job still running from this store (a local `dbferry run`, or a run of this app). */
  private runningHere(jobId: string): { id: string; startedAt: string } | undefined {
    markInterruptedRuns(this.hooks.store);
    return this.hooks.store.db
      .prepare("SELECT id, started_at AS startedAt FROM runs WHERE job_id = ? AND status = 'running' ORDER BY started_at DESC LIMIT 1")
      .get(jobId) as { id: string; startedAt: string } | undefined;
  }

  private finished(d: SlotData, scheduleId: string | undefined, runId: string, summary: Pick<RunSummary, 'status' | 'error' | 'errorKind'>, retries: number): void {
    void this.afterRun(d, scheduleId, runId, summary, retries)
      .then((message) => {
        if (message) this.log(`schedule ${JSON.stringify(d.jobName)}: ${message}`);
        this.hooks.onChange?.();
      })
      .catch((err: unknown) => this.log(`schedule ${JSON.stringify(d.jobName)}: could not record the end of run ${short(runId)}: ${errorText(err)}`));
  }

  /** What follows a scheduled run (the local scheduler's policy); returns what to log. */
  private async afterRun(d: SlotData, scheduleId: string | undefined, runId: string, summary: Pick<RunSummary, 'status' | 'error' | 'errorKind'>, retries: number): Promise<string | undefined> {
    const { schedules } = this.hooks;
    const note = (message: string | null) => scheduleId && schedules.noteRunEnded(scheduleId, runId, message, 0);
    const run = short(runId);
    if (summary.status !== 'failed') {
      note(null);
      return undefined;
    }
    const error = this.hooks.scrub ? this.hooks.scrub(summary.error ?? 'no reason given') : (summary.error ?? 'no reason given');
    if (!isTransientFailure(summary)) {
      note(null);
      return `run ${run} failed: ${error}`;
    }
    const attempt = retries + 1;
    if (attempt > this.retry.max) {
      const message = `run ${run} failed again (${error}); gave up after ${this.retry.max} retr${this.retry.max === 1 ? 'y' : 'ies'}, the next regular run is the next try`;
      note(message);
      return message;
    }
    if (!this.running) return undefined;
    const now = Date.now();
    const retryAt = now + retryDelayMs(attempt, this.retry);
    const regularNext = d.regularNext ?? nextRun(d.cron, new Date(now)).getTime();
    if (retryAt >= regularNext) {
      const message = `run ${run} failed (${error}); the next regular run, ${new Date(regularNext).toISOString()}, tries again`;
      note(message);
      return message;
    }
    const message = `run ${run} failed (${error}); retry ${attempt} of ${this.retry.max} at ${new Date(retryAt).toISOString()}`;
    await this.queue.add(d.jobName, { ...strip(d), attempt, regularNext }, {
      delay: retryAt - now,
      // One retry per slot and attempt, whichever app decides it.
      jobId: `retry-${d.key}-${regularNext}-${attempt}`,
      removeOnComplete: { count: 200 },
      removeOnFail: { count: 200 },
    });
    if (scheduleId) schedules.scheduleRetry(scheduleId, new Date(retryAt).toISOString(), attempt, message, new Date(now).toISOString(), schedules.get(scheduleId)?.nextRunAt ?? null);
    return message;
  }

  private log(line: string): void {
    this.hooks.log?.(line);
  }
}

/** The template's part of a slot's data (a retry adds attempt and regularNext). */
function strip(d: SlotData): SlotData {
  const { attempt: _a, regularNext: _r, ...rest } = d;
  return rest;
}
