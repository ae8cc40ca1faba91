/**
 * What the queue's scheduler needs from the app (kept apart from
 * queueScheduler.ts so the API's types do not load BullMQ).
 */
import type { RunSummary } from '../../shared/events.js';
import type { JobSpec } from '../../shared/jobSpec.js';
import type { Jobs } from '../store/jobs.js';
import type { Schedules } from '../store/schedules.js';
import type { Store } from '../store/store.js';
import type { RetryPolicy } from './retryPolicy.js';
import type { ScheduleFired } from './scheduler.js';

export type { RetryPolicy };

export interface QueueSchedulerHooks {
  store: Store;
  schedules: Schedules;
  jobs: Jobs;
  /** Where the app resolves relative sqlite: paths (the job scheduler's template carries it). */
  baseDir: string;
  /** Queue a scheduled run unless a run of the job is on the queue (then `running` names it); throws when it cannot be queued. */
  startScheduled(spec: JobSpec, opts: { jobId?: string; baseDir: string; slot: string }): Promise<{ runId: string; done: Promise<RunSummary> } | { running: string }>;
  onChange?(fired?: ScheduleFired): void;
  scrub?(text: string): string;
  log?(line: string): void;
  retry?: RetryPolicy;
}
