/**
 * What a worker tells Redis about the run it executes, in order, without ever
 * holding the run up: each event becomes the job's progress (BullMQ sends it
 * to whoever follows the run) and, but for the frequent 'progress' ones, a
 * line of the job's log; each checkpoint makes the job's data carry the run's
 * state for the worker that takes over if this one dies.
 *
 * Writes go one after the other on a single chain: a checkpoint written later
 * never lands before an earlier one. While Redis is away they wait (the run
 * goes on); a checkpoint that lags behind the staging tables is safe, since
 * resuming stages again every batch after the checkpoint.
 */
import type { Job } from 'bullmq';
import type { RunEvent } from '../../shared/events.js';
import type { PortableRunState, RunLedger } from '../store/portableRunState.js';
import type { QueuedRunData } from './queuedRun.js';

const PROGRESS_EVERY_MS = 250;

export class JobPublisher {
  private chain: Promise<void> = Promise.resolve();
  private readonly lastProgress = new Map<string, number>();
  private stateQueued = false;
  private failure?: string;
  private halted = false;

  constructor(
    private readonly job: Job<QueuedRunData>,
    private readonly worker: string,
    private readonly readState: () => PortableRunState,
    private readonly onError: (message: string) => void,
  ) {}

  event(e: RunEvent): void {
    if (e.type === 'progress') {
      const key = e.table + e.phase;
      const now = Date.now();
      if (now - (this.lastProgress.get(key) ?? 0) < PROGRESS_EVERY_MS) return;
      this.lastProgress.set(key, now);
    }
    this.then(async () => {
      await this.job.updateProgress(e as object);
      if (e.type !== 'progress') await this.job.log(JSON.stringify(e));
    });
  }

  /** The store saved a checkpoint or dead letter: copy the run's state to the job (once per burst). */
  stateChanged(): void {
    if (this.stateQueued) return;
    this.stateQueued = true;
    this.then(async () => {
      this.stateQueued = false;
      await this.job.updateData({ ...this.job.data, state: this.readState(), worker: this.worker });
    });
  }

  /**
   * The run ended: the job keeps no state (nothing resumes a finished run) and no worker (a
   * failed run put back on the queue starts anew), written after every earlier update. Refused
   * rows' values are user data: only a run an app follows keeps them, in its ledger, until that
   * app has recorded them.
   */
  clearState(ledger?: RunLedger): void {
    this.then(async () => {
      const { state: _state, worker: _worker, ...rest } = this.job.data;
      // An app follows the run: its dead letters and backup records wait in the job until it has them.
      await this.job.updateData(ledger ? { ...rest, ledger } : rest);
    });
  }

  /**
   * The worker lost the run's lock: another worker may own the run now, and
   * this one's state must not overwrite what that one will record.
   */
  halt(): void {
    this.halted = true;
  }

  /** Everything handed over so far is in Redis (or failed: the first failure is returned). */
  async flush(): Promise<string | undefined> {
    await this.chain;
    return this.failure;
  }

  private then(write: () => Promise<void>): void {
    this.chain = this.chain.then(() => (this.halted ? undefined : write())).catch((err: unknown) => {
      const message = `could not update run ${this.job.id} in Redis: ${(err as Error).message}`;
      this.failure ??= message;
      this.onError(message);
    });
  }
}
