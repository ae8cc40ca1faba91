import type { Store } from '../store/store.js';
import { Connections } from '../store/connections.js';
import { Jobs } from '../store/jobs.js';
import { Schedules } from '../store/schedules.js';
import type { ApiEvents, EventName } from '../../shared/api.js';
import type { SecretKeeper } from './secrets.js';
import { noVault, type SshPassphraseVault } from './connections/sshVault.js';
import type { ScheduleRunner, SchedulerOptions } from '../queue/scheduler.js';
import type { QueueSchedulerHooks } from '../queue/queueSchedulerHooks.js';
import type { JobSpec } from '../../shared/jobSpec.js';
import type { RunEvent, RunSummary } from '../../shared/events.js';

/**
 * `dbferry ui --queue`: "Run now" and schedules put runs on the queue for
 * workers instead of running them here; the host provides this.
 */
export interface QueuedRuns {
  /** Where runs go, for messages (no password). */
  label: string;
  /** Queue the run, record it in this store and follow it there; done resolves with its summary. */
  start(spec: JobSpec, opts: { jobId?: string; baseDir: string; signal: AbortSignal; onEvent(e: RunEvent): void }): { runId: string; done: Promise<RunSummary> };
  /**
   * A scheduled run: queued unless a run of the same job (by name) is on the
   * queue already, waiting or active, whoever queued it; then `running` names it.
   */
  startScheduled?(
    spec: JobSpec,
    opts: { jobId?: string; baseDir: string; slot: string; signal: AbortSignal; onEvent(e: RunEvent): void },
  ): Promise<{ runId: string; done: Promise<RunSummary> } | { running: string }>;
  /** Is this run a job on the queue? */
  has?(runId: string): Promise<boolean>;
  /** Put a failed queued run back on the queue and follow it again; throws with the reason when it cannot be. */
  requeue?(runId: string, opts: { signal: AbortSignal; onEvent(e: RunEvent): void }): Promise<{ runId: string; done: Promise<RunSummary> }>;
  /** Runs this app stopped following before they ended (it was closed): followed again when it starts. */
  unfollowed?(): string[];
  refollow?(runId: string, opts: { signal: AbortSignal; onEvent(e: RunEvent): void }): Promise<{ runId: string; done: Promise<RunSummary> } | undefined>;
  /** Schedules decided by Redis (BullMQ job schedulers) instead of this process's clock. */
  scheduler?(hooks: QueueSchedulerHooks): ScheduleRunner;
}

export interface ActiveRun {
  runId: string;
  controller: AbortController;
  done: Promise<unknown>;
}

/** Everything a handler may use. One per process (per store). */
export interface ApiContext {
  mode: 'desktop' | 'browser';
  version: string;
  stateDir: string;
  /** Folder relative SQLite paths resolve against. */
  baseDir: string;
  store: Store;
  connections: Connections;
  jobs: Jobs;
  schedules: Schedules;
  secrets: SecretKeeper;
  /** Where "remember passphrase" keeps SSH key passphrases (none: not offered). */
  sshVault: SshPassphraseVault;
  activeRuns: Map<string, ActiveRun>;
  /** Set when runs go to a queue (dbferry ui --queue). */
  queued?: QueuedRuns;
  /** Schedules changed: the scheduler of this process (if it runs one) looks again. */
  wakeScheduler(): void;
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
}

export type EventListener = <E extends EventName>(event: E, payload: ApiEvents[E]) => void;

export interface ContextOptions {
  mode: 'desktop' | 'browser';
  version?: string;
  stateDir: string;
  baseDir?: string;
  store: Store;
  secrets: SecretKeeper;
  sshVault?: SshPassphraseVault;
  /** The scheduler's clock, retry policy and log (it starts only when the host calls router.scheduler.start()). */
  scheduler?: SchedulerOptions;
  queued?: QueuedRuns;
}

export function createContext(opts: ContextOptions, listeners: Set<EventListener>): ApiContext {
  return {
    mode: opts.mode,
    version: opts.version ?? '0.1.0',
    stateDir: opts.stateDir,
    baseDir: opts.baseDir ?? process.cwd(),
    store: opts.store,
    connections: new Connections(opts.store.db),
    jobs: new Jobs(opts.store.db),
    schedules: new Schedules(opts.store.db),
    secrets: opts.secrets,
    sshVault: opts.sshVault ?? noVault,
    activeRuns: new Map(),
    queued: opts.queued,
    wakeScheduler() {},
    emit(event, payload) {
      for (const l of listeners) {
        try {
          l(event, payload);
        } catch {
          // a broken transport must not stop the run or the other listeners
        }
      }
    },
  };
}
