/**
 * A lane copies chunks one at a time with its own source and target sessions.
 * Lanes run in worker threads (WorkerLane) where the source can share the
 * run's snapshot across sessions; otherwise one lane runs on the main thread
 * on the run's own sessions (InlineLane), as for a SQLite source in WAL mode,
 * whose read snapshot cannot be shared, or a run of one lane passing bytes.
 */
import type { Session } from '../dialects/dialect.js';
import { FerryError, errorMessage, isTransient } from '../errors.js';
import type { Endpoint } from '../pipeline/endpoint.js';
import { withRetries, type RetryPolicy } from '../pipeline/retry.js';
import { stageChunk, stageChunkRaw, type ChunkCheckpoint } from '../pipeline/stage.js';
import { compileValidator, validatorOptionsFor, type RowValidator } from '../pipeline/validate/index.js';
import type { Row } from '../types.js';
import { verifyTable, type VerifyResult } from '../pipeline/verify.js';
import type { ChunkTask, VerifyTask, WireError } from './protocol.js';

export interface ChunkEvents {
  onBatch(c: ChunkCheckpoint): void;
  /** May throw (onInvalidRow "fail", maxInvalidRows): the run then stops. */
  onRejected(row: Row, reasons: string[], stage: 'validate' | 'stage', batch: number): void;
  onWarning(message: string): void;
  onRetry(attempt: number, delayMs: number, message: string): void;
  /** options.rateLimit across every lane; absent when there is no limit. */
  takeTokens?(rows: number, bytes: number): Promise<void>;
}

export interface Lane {
  readonly kind: 'inline' | 'worker';
  run(task: ChunkTask, events: ChunkEvents, signal: AbortSignal, rows?: AsyncIterable<Row[]>): Promise<ChunkCheckpoint>;
  /** Verify one table on this lane's sessions, inside the run's snapshot; `onProgress` is told the source rows compared. */
  verify(task: VerifyTask, signal: AbortSignal, onProgress?: (rowsCompared: number) => void): Promise<VerifyResult>;
  close(): Promise<void>;
}

export function verifyOn(task: VerifyTask, source: Session, target: Session, signal: AbortSignal, onProgress?: (rowsCompared: number) => void): Promise<VerifyResult> {
  return verifyTable(task.plan, source, target, task.method, {
    onProgress,
    batchRows: task.batchRows,
    batchBytes: task.batchBytes,
    signal,
    deadLettered: task.deadLettered,
    deadKeys: new Set(task.deadKeys),
    since: task.since,
    delta: task.delta,
  });
}

/**
 * Verify one table on these endpoints. Verifying only reads, so a dropped
 * connection is retried from the start of the table on new sessions, the
 * source's joined to the run's snapshot again where it still can be (`rejoin`).
 */
export function verifyRetrying(
  task: VerifyTask,
  source: Endpoint,
  target: Endpoint,
  signal: AbortSignal,
  retry: Omit<RetryPolicy, 'signal' | 'onRetry'>,
  rejoin: (session: Session) => Promise<void>,
  onProgress?: (rowsCompared: number) => void,
): Promise<VerifyResult> {
  let sessions: [Session, Session] | undefined;
  return withRetries({ ...retry, signal }, async (attempt) => {
    if (attempt > 0 && sessions) {
      const [s, t] = sessions;
      await Promise.all([source.reopen(s).then(rejoin), target.reopen(t)]);
    }
    sessions = [source.session, target.session];
    return verifyOn(task, ...sessions, signal, onProgress);
  });
}

/** Validators per table, compiled once; key memory is per chunk (equal keys share a chunk). */
export class Validators {
  private readonly byTable = new Map<number, RowValidator>();

  for(task: ChunkTask, target: Session): RowValidator | undefined {
    if (!task.validate) return undefined;
    let v = this.byTable.get(task.plan.index);
    if (!v) {
      v = compileValidator(task.plan, validatorOptionsFor(target.dialect.engine));
      this.byTable.set(task.plan.index, v);
    }
    v.resetKeys();
    return v;
  }
}

/** Copy one chunk on these endpoints: the part both kinds of lane share. */
export function copyChunk(
  task: ChunkTask,
  source: Endpoint,
  target: Endpoint,
  events: ChunkEvents,
  opts: { signal: AbortSignal; retry: Omit<RetryPolicy, 'signal' | 'onRetry'>; validator?: RowValidator; rows?: AsyncIterable<Row[]>; reopenSource(): Promise<Session> },
): Promise<ChunkCheckpoint> {
  // Rows given (dead-letter retry) or a rate limit (counted in rows) need the rows decoded.
  const stage = task.plan.rawFormat !== undefined && !opts.rows && !events.takeTokens ? stageChunkRaw : stageChunk;
  return stage(task.plan, source, target, task.staging, task.chunk, {
    signal: opts.signal,
    retry: { ...opts.retry, signal: opts.signal, onRetry: (attempt, delayMs, err) => events.onRetry(attempt, delayMs, errorMessage(err)) },
    batch: task.batch,
    resume: task.resume,
    alone: task.alone,
    rows: opts.rows,
    onBatch: (c) => events.onBatch(c),
    takeTokens: events.takeTokens,
    validator: opts.validator,
    onRejected: (row, reasons, stage, batch) => events.onRejected(row, reasons, stage, batch),
    onWarning: (m) => events.onWarning(m),
    reopenSource: opts.reopenSource,
  });
}

/** The warning when a table's rest must be read in a new snapshot. */
export function snapshotLost(table: string): string {
  return `the run's source snapshot was lost with its connection: the rest of ${table} is read as of now, so rows changed since the run started may be mixed in`;
}

export class InlineLane implements Lane {
  readonly kind = 'inline';
  private readonly validators = new Validators();

  constructor(
    private readonly source: Endpoint,
    private readonly target: Endpoint,
    private readonly retry: Omit<RetryPolicy, 'signal' | 'onRetry'>,
  ) {}

  run(task: ChunkTask, events: ChunkEvents, signal: AbortSignal, rows?: AsyncIterable<Row[]>): Promise<ChunkCheckpoint> {
    return copyChunk(task, this.source, this.target, events, {
      signal,
      retry: this.retry,
      validator: this.validators.for(task, this.target.session),
      rows,
      // The dropped snapshot cannot be joined again: the rest is read in a new one.
      reopenSource: async () => {
        const session = await this.source.reopen();
        await session.beginSnapshot();
        events.onWarning(snapshotLost(task.plan.sourceLabel));
        return session;
      },
    });
  }

  verify(task: VerifyTask, signal: AbortSignal, onProgress?: (rowsCompared: number) => void): Promise<VerifyResult> {
    return verifyRetrying(task, this.source, this.target, signal, this.retry, (session) => session.beginSnapshot(), onProgress);
  }

  /** The run's own sessions: the run closes them. */
  async close(): Promise<void> {}
}

export function toWire(err: unknown): WireError {
  if (err instanceof FerryError) return { kind: err.kind, message: err.message, hint: err.hint, transient: isTransient(err) };
  return { kind: 'internal', message: errorMessage(err), transient: isTransient(err) };
}

export function fromWire(w: WireError): FerryError {
  return new FerryError(w.kind, w.message, { hint: w.hint, transient: w.transient });
}
