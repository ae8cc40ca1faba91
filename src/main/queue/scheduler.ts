/**
 * The scheduler: starts saved jobs when their cron schedule is due, inside
 * the process that hosts the API router (the desktop app, `dbferry ui`).
 *
 * - A due slot is claimed in the store first (compare-and-set on
 *   next_run_at), so two processes on one store never both start it.
 * - A slot missed while dbferry was closed is due at start: it runs once,
 *   and the next run is the cron's next time after now, not each missed slot.
 * - A job never runs twice at once: a slot that comes while a run of the job
 *   is still going (started here, by hand, or by another process) is skipped,
 *   and the skip is recorded on the schedule and logged.
 * - A run that failed on something another try may get past (a server down,
 *   see retryPolicy.ts) is tried again with backoff, never past the next
 *   regular slot.
 */
import type { RunSummary } from '../../shared/events.js';
import type { JobRecord, Jobs } from '../store/jobs.js';
import { markInterruptedRuns } from '../store/runState.js';
import type { ScheduleOutcome, ScheduleRecord, Schedules } from '../store/schedules.js';
import type { Store } from '../store/store.js';
import { CronError, nextRun, validateCron } from './cron.js';
import { DEFAULT_RETRY, type RetryPolicy, isLoginRefused, isTransientFailure, retryDelayMs } from './retryPolicy.js';

export interface ScheduledStart {
  runId: string;
  done: Promise<RunSummary>;
  /** Connections the run logs in to without a password dbferry knows, by name: a refused login then says what to do. */
  withoutPassword: string[];
}

/** What the scheduler did about one slot. */
export interface ScheduleFired {
  scheduleId: string;
  jobId: string;
  jobName: string;
  outcome: ScheduleOutcome;
  runId?: string;
  message: string;
  at: string;
}

/** What the app's router drives: the local scheduler, or the queue's (dbferry ui --queue, see queueScheduler.ts). */
export interface ScheduleRunner {
  readonly started: boolean;
  start(): void;
  /** No new runs from here on (the queue's scheduler also closes its Redis connections). */
  stop(): void | Promise<void>;
  /** Schedules changed in the store. */
  wake(): void;
  /** Start every schedule due now (the local scheduler; the queue's leaves that to Redis and returns nothing). */
  tick(): ScheduleFired[];
}

export interface SchedulerOptions {
  now?: () => Date;
  retry?: RetryPolicy;
  /** Longest sleep between looks at the store (another process may have added a schedule; clocks jump). */
  maxSleepMs?: number;
  log?: (line: string) => void;
}

export interface SchedulerDeps extends SchedulerOptions {
  store: Store;
  schedules: Schedules;
  jobs: Jobs;
  /** Start a run of the saved job the way the app's Run button does. Throws when it cannot start. */
  startJob(job: JobRecord): ScheduledStart;
  /** After each decision and each scheduled run's end (the API emits events). */
  onChange?(fired?: ScheduleFired): void;
  /** Takes any known password out of a message before it is stored or logged. */
  scrub?(text: string): string;
}

const short = (id: string) => id.slice(0, 8);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Scheduler implements ScheduleRunner {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly now: () => Date;
  private readonly retry: RetryPolicy;
  private readonly maxSleepMs: number;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.retry = deps.retry ?? DEFAULT_RETRY;
    this.maxSleepMs = deps.maxSleepMs ?? 30_000;
  }

  get started(): boolean {
    return this.running;
  }

  /** Run what is due (slots missed while closed: once each), then wait for the next. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.fillMissingNextRuns();
    this.tick();
    this.arm();
  }

  /** No new runs from here on; runs already started are the router's to cancel. */
  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Schedules changed: look again when the earliest one is due. */
  wake(): void {
    if (this.running) this.arm();
  }

  /** Start every schedule due now. Returns what was done, slot by slot. */
  tick(): ScheduleFired[] {
    const at = this.now();
    const fired: ScheduleFired[] = [];
    for (const s of this.deps.schedules.due(at)) {
      const f = this.fire(s, at);
      if (f) {
        fired.push(f);
        this.deps.log?.(`schedule ${JSON.stringify(f.jobName)} (${s.cron}): ${f.message}`);
        this.deps.onChange?.(f);
      }
    }
    return fired;
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    const earliest = this.deps.schedules.earliest();
    const wait = earliest === undefined ? this.maxSleepMs : Math.min(this.maxSleepMs, Math.max(0, Date.parse(earliest) - this.now().getTime()));
    this.timer = setTimeout(() => {
      try {
        this.tick();
      } catch (err) {
        this.deps.log?.(`the scheduler could not look at its schedules: ${errorText(err)}`);
      }
      this.arm();
    }, wait);
    // The scheduler alone never keeps the process alive.
    this.timer.unref();
  }

  /** An enabled schedule without a next run (written by an older dbferry): due from now on. */
  private fillMissingNextRuns(): void {
    const at = this.now();
    for (const s of this.deps.schedules.list()) {
      if (!s.enabled || s.nextRunAt) continue;
      try {
        this.deps.schedules.setNextRunIfMissing(s.id, nextRun(validateCron(s.cron), at).toISOString());
      } catch {
        // an invalid cron stays without a next run; the Schedules screen shows it
      }
    }
  }

  private fire(s: ScheduleRecord, at: Date): ScheduleFired | undefined {
    const due = s.nextRunAt!;
    const job = this.deps.jobs.get(s.jobId);
    let next: string | null;
    try {
      next = nextRun(validateCron(s.cron), at).toISOString();
    } catch (err) {
      next = null;
      if (!this.deps.schedules.claim(s.id, due, next)) return undefined;
      return this.record(s, job, 'not-started', err instanceof CronError ? err.message : errorText(err), at);
    }
    // Taken by another process on the same store: it starts this slot.
    if (!this.deps.schedules.claim(s.id, due, next)) return undefined;
    if (!job) return this.record(s, job, 'not-started', 'its job no longer exists', at);

    const previous = this.runningRunOf(job.id);
    if (previous) {
      return this.record(s, job, 'skipped', `skipped the run due ${due}: run ${short(previous.id)} of this job, started ${previous.startedAt}, is still running`, at);
    }
    // A slot that is itself a retry keeps counting; a regular slot starts afresh.
    const retries = s.lastOutcome === 'retry' ? s.retries : 0;
    let started: ScheduledStart;
    try {
      started = this.deps.startJob(job);
    } catch (err) {
      return this.record(s, job, 'not-started', `could not start: ${errorText(err)}`, at, { retries: 0 });
    }
    const fired = this.record(s, job, 'started', `started run ${short(started.runId)}${retries ? ` (retry ${retries} of ${this.retry.max})` : ''}`, at, {
      runId: started.runId,
      retries,
    });
    started.done.then(
      (summary) => this.finished(s.id, job, started, summary, retries, next),
      (err: unknown) => this.finished(s.id, job, started, { status: 'failed', error: errorText(err), errorKind: 'internal' }, retries, next),
    );
    return fired;
  }

  private record(
    s: ScheduleRecord,
    job: JobRecord | undefined,
    kind: ScheduleOutcome,
    message: string,
    at: Date,
    extra: { runId?: string; retries?: number } = {},
  ): ScheduleFired {
    const text = this.scrub(message);
    this.deps.schedules.recordOutcome(s.id, { kind, message: text, at: at.toISOString(), ...extra });
    return { scheduleId: s.id, jobId: s.jobId, jobName: job?.name ?? '(deleted job)', outcome: kind, runId: extra.runId, message: text, at: at.toISOString() };
  }

  /** The newest run of the job still running anywhere (here, the CLI, another app window on this store). */
  private runningRunOf(jobId: string): { id: string; startedAt: string } | undefined {
    markInterruptedRuns(this.deps.store);
    return this.deps.store.db
      .prepare("SELECT id, started_at AS startedAt FROM runs WHERE job_id = ? AND status = 'running' ORDER BY started_at DESC LIMIT 1")
      .get(jobId) as { id: string; startedAt: string } | undefined;
  }

  private finished(
    scheduleId: string,
    job: JobRecord,
    started: ScheduledStart,
    summary: Pick<RunSummary, 'status' | 'error' | 'errorKind'>,
    retries: number,
    regularNext: string | null,
  ): void {
    try {
      const message = this.afterRun(scheduleId, job, started, summary, retries, regularNext);
      if (message) this.deps.log?.(`schedule ${JSON.stringify(job.name)}: ${message}`);
      this.deps.onChange?.();
    } catch (err) {
      // The store may be closing (the app quits while a run is cancelled).
      this.deps.log?.(`schedule ${JSON.stringify(job.name)}: could not record the end of run ${short(started.runId)}: ${errorText(err)}`);
    }
  }

  /** Decide what follows a scheduled run; returns what to log. */
  private afterRun(
    scheduleId: string,
    job: JobRecord,
    started: ScheduledStart,
    summary: Pick<RunSummary, 'status' | 'error' | 'errorKind'>,
    retries: number,
    regularNext: string | null,
  ): string | undefined {
    const { schedules } = this.deps;
    const run = short(started.runId);
    if (summary.status !== 'failed') {
      schedules.noteRunEnded(scheduleId, started.runId, null, 0);
      return undefined;
    }
    const error = this.scrub(summary.error ?? 'no reason given');
    if (isLoginRefused(summary) && started.withoutPassword.length) {
      const message = passwordMessage(run, started.withoutPassword);
      schedules.noteRunEnded(scheduleId, started.runId, message, 0);
      return message;
    }
    if (!isTransientFailure(summary)) {
      schedules.noteRunEnded(scheduleId, started.runId, null, 0);
      return `run ${run} failed: ${error}`;
    }
    const attempt = retries + 1;
    if (attempt > this.retry.max) {
      const message = `run ${run} failed again (${error}); gave up after ${this.retry.max} retr${this.retry.max === 1 ? 'y' : 'ies'}, the next regular run is the next try`;
      schedules.noteRunEnded(scheduleId, started.runId, message, 0);
      return message;
    }
    const retryAt = new Date(this.now().getTime() + retryDelayMs(attempt, this.retry));
    const current = schedules.get(scheduleId);
    // Edited, disabled or deleted meanwhile: that decides.
    if (!current || !current.enabled || current.nextRunAt !== regularNext) return undefined;
    if (regularNext && retryAt.getTime() >= Date.parse(regularNext)) {
      const message = `run ${run} failed (${error}); the next regular run, ${regularNext}, tries again`;
      schedules.noteRunEnded(scheduleId, started.runId, message, 0);
      return message;
    }
    const message = `run ${run} failed (${error}); retry ${attempt} of ${this.retry.max} at ${retryAt.toISOString()}`;
    schedules.scheduleRetry(scheduleId, retryAt.toISOString(), attempt, message, this.now().toISOString(), regularNext);
    this.wake();
    return message;
  }

  private scrub(text: string): string {
    return this.deps.scrub ? this.deps.scrub(text) : text;
  }
}

export function passwordMessage(run: string, connections: string[]): string {
  const names = connections.map((c) => `"${c}"`).join(' and ');
  return (
    `run ${run} could not log in to ${names}: dbferry has no password for ${connections.length > 1 ? 'them' : 'it'}. ` +
    'Passwords typed in browser mode (or in the desktop app without an OS keychain) are kept for that session only, so a scheduled run after a restart has none. ' +
    'Take the password from an environment variable instead: add ?passwordEnv=NAME to the connection URL (in the connection form: Password, From an environment variable), and start dbferry with NAME set.'
  );
}
