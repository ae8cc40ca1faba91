/**
 * A run taken from the queue, in this worker's store: recorded under the id
 * it was queued with, and, when another worker started it before, continued
 * from the checkpoints and dead letters that worker left in the queue job.
 */
import { redactUrl } from '../../shared/connectionUrl.js';
import type { RunSummary } from '../../shared/events.js';
import type { JobSpec } from '../../shared/jobSpec.js';
import type { TableCheckpoint } from '../engine/pipeline/run.js';
import { stagingTableName } from '../engine/naming.js';
import { importRunState, type PortableRunState } from '../store/portableRunState.js';
import { loadCheckpoints, markInterruptedRuns } from '../store/runState.js';
import type { Store } from '../store/store.js';
import { executeRun, redactSpec, type StartRunOptions } from './runner.js';

export interface QueuedRunInput {
  runId: string;
  spec: JobSpec;
  baseDir: string;
  /** What the worker that ran it before recorded in the queue, if any. */
  state?: PortableRunState;
}

const NO_STATE: PortableRunState = { checkpoints: [], deadLetters: [] };

export function runFromQueue(store: Store, q: QueuedRunInput, opts: Omit<StartRunOptions, 'baseDir' | 'isAbandoned'>): Promise<RunSummary> {
  markInterruptedRuns(store);
  if (store.getRun(q.runId)) {
    store.db.prepare("UPDATE runs SET status = 'running', pid = ?, finished_at = NULL WHERE id = ?").run(process.pid, q.runId);
  } else {
    store.createRun({
      id: q.runId,
      jobName: q.spec.name,
      specJson: JSON.stringify(redactSpec(q.spec)),
      baseDir: q.baseDir,
      source: redactUrl(q.spec.source.url),
      target: redactUrl(q.spec.target.url),
    });
  }
  // The queue's copy of the run's state is the one that counts, even when empty: this store may hold
  // checkpoints from an earlier turn of this worker that another worker has since staged over.
  importRunState(store, q.runId, q.state ?? NO_STATE);
  // Always a resume map, even empty: the engine then checks the target's applied-runs marker, so a run
  // whose apply committed before its worker died is only verified; a fresh run is simply not found there.
  const resume = new Map<number, TableCheckpoint>(loadCheckpoints(store, q.runId).map((c) => [c.tableIndex, { staging: c.staging, checkpoint: c.checkpoint, done: c.done, chunks: c.chunks }]));
  const kept = new Set([...resume.values()].map((c) => c.staging));
  const ownPrefix = stagingTableName(q.runId, 0).replace(/0$/, '');
  return executeRun(store, q.spec, q.runId, {
    ...opts,
    baseDir: q.baseDir,
    // Other workers' runs may be staging into the same target right now: only this run's own
    // leftovers (staged by a worker that died before its checkpoint reached the queue) are dropped.
    isAbandoned: (name) => name.startsWith(ownPrefix) && !kept.has(name),
  }, resume);
}
