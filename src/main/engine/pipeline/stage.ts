/**
 * Stage: stream one table from the source into a staging table in the target.
 * Every staged row carries its batch number, and a batch is checkpointed once
 * it is in: a resumed run deletes batches after the checkpoint and reads on
 * from the checkpoint's key, so no row is staged twice and none is skipped.
 */
import type { Session } from '../dialects/dialect.js';
import { FerryError, errorMessage, isTransient } from '../errors.js';
import type { Column, Row, TableName, Value } from '../types.js';
import { isAfter } from './watermark.js';
import type { Endpoint } from './endpoint.js';
import type { TablePlan } from './plan.js';
import { approximateBytes, type RateLimiter } from './rateLimit.js';
import type { RowValidator } from './validate/index.js';
import { withRetries, type RetryPolicy } from './retry.js';

export const BATCH_COLUMN = '_dbferry_batch';
/** The row's number in this run's read order: what apply bisects to find rows the target refuses. */
export const ROW_COLUMN = '_dbferry_row';

export interface StageCheckpoint {
  /** Last batch durably staged (0 = none). */
  batch: number;
  /** Key of the last staged row: reads resume after it. */
  lastKey?: Row;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  /** Incremental tables: the largest cursor value read so far (the next watermark). */
  cursorMax?: Value;
}

export interface StageHooks {
  signal?: AbortSignal;
  batchRows: number;
  retry: RetryPolicy;
  resume?: StageCheckpoint;
  /** Rows to stage instead of reading the source (dead-letter retry). */
  rows?: AsyncIterable<Row[]>;
  /** After each batch is durably in the staging table. */
  onBatch(checkpoint: StageCheckpoint): void;
  /** options.rateLimit, shared by every table of the run. */
  rateLimit?: RateLimiter;
  /** Index the staging table by key when it is full (apply joins on it); not when it becomes the target. */
  indexKey: boolean;
  /** Checks each row before it is written (compiled once per table). */
  validator?: RowValidator;
  /** A row refused by validation or by the target; throw to fail the run instead. */
  onRejected(row: Row, reasons: string[], stage: 'validate' | 'stage', batch: number): void;
  onWarning(message: string): void;
}

export function stagingColumns(plan: TablePlan, target: Session): Column[] {
  const int8 = target.mapType({ kind: 'integer', bytes: 8 }).nativeType;
  return [
    ...plan.targetColumns,
    { name: BATCH_COLUMN, nativeType: int8, type: { kind: 'integer', bytes: 8 }, nullable: false },
    { name: ROW_COLUMN, nativeType: int8, type: { kind: 'integer', bytes: 8 }, nullable: false },
  ];
}

export async function createStagingTable(plan: TablePlan, target: Session, staging: TableName): Promise<void> {
  await target.dropTable(staging);
  await target.createTable({
    name: staging,
    // No constraints on staging: the apply step, in one transaction, is where they hold.
    columns: stagingColumns(plan, target).map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: true })),
    primaryKey: [],
  });
}

export async function stageTable(plan: TablePlan, source: Endpoint, target: Endpoint, staging: TableName, hooks: StageHooks): Promise<StageCheckpoint> {
  const state: StageCheckpoint = hooks.resume ? { ...hooks.resume } : { batch: 0, rowsRead: 0, rowsWritten: 0, rowsRejected: 0 };
  const keyIdx = plan.orderBy.map((k) => plan.columns.findIndex((c) => c.name === k));
  const cursorIdx = plan.incremental ? plan.columns.findIndex((c) => c.name === plan.incremental!.cursor) : -1;
  const since = plan.incremental?.since === undefined ? undefined : { column: plan.incremental.cursor, value: plan.incremental.since };
  const columns = stagingColumns(plan, target.session);
  if (hooks.resume) {
    // Batches staged after the last checkpoint may or may not have committed: drop them.
    if (keyIdx.length === 0) resetState(state);
    await target.session.execute(target.session.applySql.deleteStagedBatches(staging, '>', state.batch, BATCH_COLUMN));
  }

  const insert = (rows: Row[], batch: number) =>
    withRetries(hooks.retry, async (attempt) => {
      if (attempt > 0) {
        const session = await target.reopen();
        // An interrupted insert may have landed or not: make sure it did not, then write it again.
        await session.execute(session.applySql.deleteStagedBatches(staging, '=', batch, BATCH_COLUMN));
      }
      await target.session.insertRows(staging, columns, rows);
    });

  /** Insert a batch; if the target refuses it, split it until the refused rows are found. */
  const insertIsolating = async (rows: Row[], batch: number): Promise<number> => {
    try {
      await insert(rows, batch);
      return rows.length;
    } catch (err) {
      if (isTransient(err) || (err instanceof FerryError && ['cancelled', 'connection', 'timeout'].includes(err.kind))) throw err;
      if (rows.length === 1) {
        const row = rows[0].slice(0, -2);
        hooks.onRejected(row, [errorMessage(err)], 'stage', batch);
        state.rowsRejected++;
        return 0;
      }
      const mid = rows.length >> 1;
      return (await insertIsolating(rows.slice(0, mid), batch)) + (await insertIsolating(rows.slice(mid), batch));
    }
  };

  for (let sourceAttempt = 0; ; ) {
    const rows =
      hooks.rows ??
      source.session.readRows({ table: plan.sourceName, columns: plan.columns, orderBy: plan.orderBy, where: plan.spec.where, since, after: state.lastKey, batchRows: hooks.batchRows });
    const reads = rows[Symbol.asyncIterator]();
    // Read the next batch while this one is written: the source and the target work at once.
    const readAhead = () => {
      const p = reads.next();
      p.catch(() => undefined); // seen when awaited below; never an unhandled rejection
      return p;
    };
    let pending = readAhead();
    try {
      for (;;) {
        let next: IteratorResult<Row[]>;
        try {
          next = await pending;
        } catch (err) {
          if (!isTransient(err) || sourceAttempt >= hooks.retry.max || hooks.signal?.aborted) throw err;
          sourceAttempt++;
          await reconnectSource(source, err, state, keyIdx.length > 0, hooks);
          if (keyIdx.length === 0) await target.session.execute(target.session.applySql.deleteStagedBatches(staging, '>', 0, BATCH_COLUMN));
          break;
        }
        if (next.done) return finish(plan, target.session, staging, state, hooks.indexKey);
        if (hooks.signal?.aborted) throw new FerryError('cancelled', 'the run was cancelled');
        pending = readAhead();
        const read = next.value;
        const batch = state.batch + 1;
        const last = read[read.length - 1];
        const lastKey = keyIdx.length ? keyIdx.map((i) => last[i]) : undefined;
        if (cursorIdx >= 0) for (const row of read) if (isAfter(row[cursorIdx], state.cursorMax)) state.cursorMax = row[cursorIdx];
        const rows = hooks.validator ? validRows(read, hooks.validator, hooks, state, batch) : read;
        let rowNumber = state.rowsRead;
        for (const row of rows) row.push(batch, ++rowNumber);
        if (hooks.rateLimit?.active) await hooks.rateLimit.take(rows.length, hooks.rateLimit.measuresBytes ? approximateBytes(rows) : 0);
        const written = rows.length ? await insertIsolating(rows, batch) : 0;
        state.batch = batch;
        state.rowsRead += read.length;
        state.rowsWritten += written;
        state.lastKey = lastKey;
        hooks.onBatch({ ...state });
        // Synchronous drivers (SQLite) chain batches through microtasks only; let the event
        // loop turn so Ctrl-C, timers and output are handled while a table is staging.
        await yieldToEventLoop();
      }
    } finally {
      await reads.return?.().catch(() => undefined);
    }
  }
}

/** The rows that pass validation; the others are dead-lettered with every reason. */
function validRows(rows: Row[], validator: RowValidator, hooks: StageHooks, state: StageCheckpoint, batch: number): Row[] {
  let out: Row[] | undefined;
  for (let i = 0; i < rows.length; i++) {
    const reasons = validator.check(rows[i]);
    if (reasons.length === 0) {
      out?.push(rows[i]);
      continue;
    }
    // Copy the good rows only once the first bad one shows up: the usual batch has none.
    out ??= rows.slice(0, i);
    hooks.onRejected(rows[i], [...reasons], 'validate', batch);
    state.rowsRejected++;
  }
  return out ?? rows;
}

function resetState(state: StageCheckpoint): void {
  state.batch = 0;
  state.cursorMax = undefined;
  state.lastKey = undefined;
  state.rowsRead = 0;
  state.rowsWritten = 0;
  state.rowsRejected = 0;
}

async function reconnectSource(source: Endpoint, err: unknown, state: StageCheckpoint, keyed: boolean, hooks: StageHooks): Promise<void> {
  hooks.onWarning(
    `lost the source connection (${errorMessage(err)}); reconnecting and ${keyed ? 'reading on after the last staged key' : 'staging the table again'} in a new snapshot`,
  );
  if (!keyed) resetState(state);
  const session = await source.reopen();
  await session.beginSnapshot();
}

async function finish(plan: TablePlan, target: Session, staging: TableName, state: StageCheckpoint, indexKey: boolean): Promise<StageCheckpoint> {
  if (plan.key.length && indexKey) {
    // The apply step joins staging to the target by key: index it once it is full.
    await target.createIndex(staging, `${staging.name}_key`, plan.key);
  }
  return state;
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
