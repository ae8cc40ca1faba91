/**
 * Stage: stream one chunk of a table (a key range, or the whole table) from
 * the source into the table's staging table in the target. Every staged row
 * carries its batch number, and a batch is checkpointed once it is in: a
 * resumed chunk deletes its own batches after its checkpoint and reads on from
 * the checkpoint's key, so no row is staged twice and none is skipped.
 */
import type { ColumnDef, Session, TableDef } from '../dialects/dialect.js';
import { FerryError, errorMessage, isTransient } from '../errors.js';
import type { Column, Row, TableName, Value } from '../types.js';
import { BatchSizer, writeBatches } from './batcher.js';
import { CHUNK_STRIDE, chunkBase, chunkWhere, type ChunkPlan } from './chunks.js';
import type { Endpoint } from './endpoint.js';
import type { TablePlan } from './plan.js';
import type { RowValidator } from './validate/index.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { isAfter } from './watermark.js';

export const BATCH_COLUMN = '_dbferry_batch';
/** The row's number in this run's read order: what apply bisects to find rows the target refuses. */
export const ROW_COLUMN = '_dbferry_row';

export interface StageCheckpoint {
  /** Last batch durably staged (its chunk's base = none yet). */
  batch: number;
  /** Key of the last staged row: reads resume after it. */
  lastKey?: Row;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  /** Incremental tables: the largest cursor value read so far (the next watermark). */
  cursorMax?: Value;
  /** Bytes read (approximately: text and binary by length, other values by width). */
  bytes?: number;
  /** A delta table (compare.ts): its chunks are the key ranges that differ; the rest of its rows were found unchanged. */
  delta?: DeltaCheckpoint;
}

export interface DeltaCheckpoint {
  /** Source rows in key ranges whose hashes matched the target's. */
  unchangedRows: number;
  sourceRows: number;
  targetRows: number;
  /** What the plan and summary say of the path taken. */
  path: string;
}

/** A chunk's progress: its bounds (fixed when it was planned) and how far it got. */
export interface ChunkCheckpoint extends StageCheckpoint, ChunkPlan {
  done: boolean;
}

export interface StageHooks {
  signal?: AbortSignal;
  retry: RetryPolicy;
  batch: { maxRows: number; maxBytes: number };
  resume?: ChunkCheckpoint;
  /** The table's only chunk, into its new, empty staging table (writeRaw's `alone`). */
  alone?: boolean;
  /** Rows to stage instead of reading the source (dead-letter retry). */
  rows?: AsyncIterable<Row[]>;
  /** After each batch is durably in the staging table. */
  onBatch(checkpoint: ChunkCheckpoint): void;
  /** options.rateLimit, shared by every table and lane of the run. */
  takeTokens?(rows: number, bytes: number): Promise<void>;
  /** Checks each row before it is written (compiled once per table). */
  validator?: RowValidator;
  /** A row refused by validation or by the target; throw to fail the run instead. */
  onRejected(row: Row, reasons: string[], stage: 'validate' | 'stage', batch: number): void;
  onWarning(message: string): void;
  /** A new source session after the connection dropped, reading the run's snapshot where the engine can share it. */
  reopenSource(): Promise<Session>;
}

/**
 * A table the run creates, on an engine whose ALTER TABLE is cheap and
 * transactional, becomes the staging table itself: no second copy of its rows.
 * Where promotion cannot reshape the table (SQLite), only a table staged in its
 * final shape is promoted; another is created as planned and filled from staging.
 * So does the new version of a table replaced by swap (swap.ts).
 */
export function promotable(target: Session, plan: TablePlan): boolean {
  const caps = target.dialect.capabilities;
  if (!freshTable(plan) || caps.promoteStaging !== true || target.applySql.promoteStaging === undefined) return false;
  return caps.promoteReshapes === true || finalShapeFits(target, plan);
}

/**
 * Staged in the target's final shape, without dbferry's columns
 * (capabilities.stagingInFinalShape): a new table whose staged rows can be
 * told apart by key. That takes a key the target compares in the order the
 * source was read in (capabilities.finalShapeKeys: integers; text where the
 * target compares it by code point, the order every read is in). A decimal
 * may be held as text, a date in another spelling: those keep the batch
 * column. A table without a key is one chunk, staged again whole on resume.
 */
export function stagedInFinalShape(target: Session, plan: TablePlan): boolean {
  return promotable(target, plan) && finalShapeFits(target, plan);
}

/** A table the run makes whole: a new one, or the new version of a table replaced by swap. */
function freshTable(plan: TablePlan): boolean {
  return plan.createTarget || plan.swap !== undefined;
}

function finalShapeFits(target: Session, plan: TablePlan): boolean {
  const caps = target.dialect.capabilities;
  if (!freshTable(plan) || !caps.stagingInFinalShape || !target.applySql.deleteStagedKeys) return false;
  if (plan.orderBy.length === 0) return plan.key.length === 0;
  const kinds: readonly string[] = caps.finalShapeKeys ?? ['integer'];
  const bothSides = (k: string, i: number) => kinds.includes(plan.targetColumns.find((c) => c.name === k)?.type.kind ?? '') && kinds.includes(plan.columns.find((c) => c.name === plan.orderBy[i])?.type.kind ?? '');
  return plan.key.length === plan.orderBy.length && plan.key.every(bothSides);
}

/** A new table's key is made with its staging table: where it cannot be added later without a rewrite (MySQL, SQLite). */
export function keyAtStaging(target: Session, plan: TablePlan): boolean {
  const caps = target.dialect.capabilities;
  return promotable(target, plan) && (!caps.transactionalDdl || (stagedInFinalShape(target, plan) && !caps.keyAfterLoad));
}

/** Staging in final shape: delete the staged rows whose key is past `after` and up to `through` (no bound: that side open). */
function deleteStagedRange(session: Session, staging: TableName, plan: TablePlan, after: Row | undefined, through: Row | undefined): Promise<number> {
  const sql = session.applySql.deleteStagedKeys!(staging, plan.key, after !== undefined, through !== undefined);
  return session.execute(sql, [...(after ?? []), ...(through ?? [])]);
}

export function stagingColumns(plan: TablePlan, target: Session): Column[] {
  if (stagedInFinalShape(target, plan)) return plan.targetColumns;
  const int8 = target.mapType({ kind: 'integer', bytes: 8 }).nativeType;
  return [
    ...plan.targetColumns,
    { name: BATCH_COLUMN, nativeType: int8, type: { kind: 'integer', bytes: 8 }, nullable: false },
    { name: ROW_COLUMN, nativeType: int8, type: { kind: 'integer', bytes: 8 }, nullable: false },
  ];
}

/**
 * No constraints on staging: the apply step, in one transaction, is where they
 * hold. Except where the staging table will itself become a new target
 * (`asTarget`): it gets the target's NOT NULL columns (cheap to check per row,
 * a scan to add later), and on engines whose ALTER TABLE would rebuild it
 * (MySQL, SQLite), its key too; PostgreSQL builds the key once the rows are in.
 */
export async function createStagingTable(plan: TablePlan, target: Session, staging: TableName, asTarget = false, indexNow = false): Promise<void> {
  const own = new Set([BATCH_COLUMN, ROW_COLUMN]);
  const keyNow = asTarget && keyAtStaging(target, plan);
  // Into a table that exists, its key columns compare as the target's do (MySQL's _ci and PAD SPACE
  // collations: 'a' = 'A', 'a' = 'a '), so that a source key finds the target row it would update.
  const keyCollation = (c: Column) => (!asTarget && target.dialect.engine === 'mysql' && c.collation && plan.key.includes(c.name) ? { collation: c.collation } : {});
  const columns = stagingColumns(plan, target).map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: !asTarget || own.has(c.name) || c.nullable, ...keyCollation(c) }));
  const def: TableDef = {
    name: staging,
    columns: asTarget ? createdColumns(plan, columns) : columns,
    ...(asTarget ? tableComment(plan) : {}),
    primaryKey: keyNow ? plan.key : [],
    // Its generated key too (options.schema "full"): MySQL would copy the table to add it afterwards.
    // SQLite would copy it to make the key an INTEGER PRIMARY KEY.
    ...(keyNow && plan.schemaWork?.generatedKey ? { generatedKey: plan.schemaWork.generatedKey.column, generatedKeyIsRowid: plan.schemaWork.generatedKey.from === 'rowid' } : {}),
  };
  // indexStaging's index, now: kept up as the rows come.
  const index = indexNow && stagingIndexed(plan) ? { name: stagingIndexName(staging), columns: plan.key } : undefined;
  // One round trip where the engine can.
  if (target.recreateTable) return target.recreateTable(def, index);
  await target.dropTable(staging);
  await target.createTable(def);
  if (index) await target.createIndex(staging, index.name, index.columns);
}

/**
 * A staging table this small (a delta run's few differing rows) is better
 * indexed as it is created (createStagingTable's indexNow) than once its rows
 * are in: keeping the index up costs a few milliseconds at most, and over a
 * remote link the statement of its own is a round trip.
 */
export const INDEX_EARLY_ROWS = 10_000;

/**
 * The columns a table the run creates has: the written ones, its generated
 * columns in their place among them (computed by the target, never written),
 * and the comments of each where the engine keeps them with the definition.
 */
export function createdColumns(plan: TablePlan, written: ColumnDef[]): ColumnDef[] {
  const comments = new Map((plan.schemaWork?.comments ?? []).filter((c) => c.column !== undefined).map((c) => [c.column!, c.text]));
  const commented = (c: ColumnDef): ColumnDef => (comments.has(c.name) ? { ...c, comment: comments.get(c.name) } : c);
  if (!plan.tableColumns) return written.map(commented);
  const byName = new Map(written.map((c) => [c.name, c]));
  const planned = new Set(plan.tableColumns.map((c) => c.name));
  const inOrder = plan.tableColumns.map((c) => (c.generated ? c : byName.get(c.name))).filter((c): c is ColumnDef => c !== undefined);
  // dbferry's own staging columns stay last.
  return [...inOrder, ...written.filter((c) => !planned.has(c.name))].map(commented);
}

export function tableComment(plan: TablePlan): { comment?: string } {
  const text = plan.schemaWork?.comments.find((c) => c.column === undefined)?.text;
  return text === undefined ? {} : { comment: text };
}

function freshState(chunk: ChunkPlan): ChunkCheckpoint {
  return { ...chunk, batch: chunkBase(chunk.index), rowsRead: 0, rowsWritten: 0, rowsRejected: 0, bytes: 0, done: false };
}

export async function stageChunk(plan: TablePlan, source: Endpoint, target: Endpoint, staging: TableName, chunk: ChunkPlan, hooks: StageHooks): Promise<ChunkCheckpoint> {
  const base = chunkBase(chunk.index);
  const end = base + CHUNK_STRIDE;
  const state: ChunkCheckpoint = hooks.resume ? { ...hooks.resume, ...chunk, done: false } : freshState(chunk);
  const keyIdx = plan.orderBy.map((k) => plan.columns.findIndex((c) => c.name === k));
  const cursorIdx = plan.incremental ? plan.columns.findIndex((c) => c.name === plan.incremental!.cursor) : -1;
  const since = plan.incremental?.since === undefined ? undefined : { column: plan.incremental.cursor, value: plan.incremental.since };
  const columns = stagingColumns(plan, target.session);
  const sizer = new BatchSizer(hooks.batch.maxRows, hooks.batch.maxBytes);
  const finalShape = stagedInFinalShape(target.session, plan);
  /** This chunk's rows staged after `batch` (staging in final shape: after `lastKey`, the checkpoint's key). */
  const discardAfter = (session: Session, batch: number, through: number, lastKey: Row | undefined) => {
    if (!finalShape) return session.execute(session.applySql.deleteStagedBatches(staging, batch, through, BATCH_COLUMN));
    return deleteStagedRange(session, staging, plan, lastKey ?? chunk.after, chunk.through);
  };
  if (hooks.resume) {
    // Batches staged after the last checkpoint may or may not have committed: drop them.
    if (keyIdx.length === 0) Object.assign(state, freshState(chunk));
    await discardAfter(target.session, state.batch, end, state.lastKey);
  }

  const insert = (rows: Row[], batch: number) =>
    withRetries(hooks.retry, async (attempt) => {
      if (attempt > 0) {
        const session = await target.reopen();
        // An interrupted insert may have landed or not: make sure it did not, then write it again.
        // (Final shape without a key: the table's one chunk has no key to tell this batch by; its
        // engine (SQLite) writes a batch in one transaction, so a failed one left nothing.)
        if (!finalShape || keyIdx.length) await discardAfter(session, batch - 1, batch, state.lastKey);
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
        const row = finalShape ? rows[0] : rows[0].slice(0, -2);
        hooks.onRejected(row, [errorMessage(err)], 'stage', batch);
        state.rowsRejected++;
        return 0;
      }
      const mid = rows.length >> 1;
      return (await insertIsolating(rows.slice(0, mid), batch)) + (await insertIsolating(rows.slice(mid), batch));
    }
  };

  for (let sourceAttempt = 0; ; ) {
    const reads =
      hooks.rows ??
      source.session.readRows({
        table: plan.sourceName,
        columns: plan.columns,
        orderBy: plan.orderBy,
        where: chunkWhere(source.session, plan, chunk),
        since,
        after: state.lastKey ?? chunk.after,
        through: chunk.through,
        batchRows: sizer.rows,
        batchBytes: sizer.bytes,
      });
    const batches = writeBatches(reads, sizer)[Symbol.asyncIterator]();
    // Read the next batch while this one is written: the source and the target work at once.
    const readAhead = () => {
      const p = batches.next();
      p.catch(() => undefined); // seen when awaited below; never an unhandled rejection
      return p;
    };
    let pending = readAhead();
    try {
      for (;;) {
        let next: IteratorResult<{ rows: Row[]; bytes: number }>;
        try {
          next = await pending;
        } catch (err) {
          if (!isTransient(err) || sourceAttempt >= hooks.retry.max || hooks.signal?.aborted) throw err;
          sourceAttempt++;
          hooks.onWarning(
            `lost the source connection (${errorMessage(err)}); reconnecting and ${keyIdx.length ? 'reading on after the last staged key' : 'staging the table again'}`,
          );
          await hooks.reopenSource();
          if (keyIdx.length === 0) {
            Object.assign(state, freshState(chunk));
            await discardAfter(target.session, base, end, undefined);
          }
          break;
        }
        if (next.done) return { ...state, done: true };
        if (hooks.signal?.aborted) throw new FerryError('cancelled', 'the run was cancelled');
        const { rows: read, bytes } = next.value;
        // Reading ahead holds two batches: not when one is already most of options.batch.maxBytes (big values).
        const wide = bytes * 2 > sizer.bytes;
        if (!wide) pending = readAhead();
        const batch = state.batch + 1;
        if (batch > end) throw new FerryError('internal', `${plan.sourceLabel}: more than ${CHUNK_STRIDE} batches in one chunk`);
        const last = read[read.length - 1];
        const lastKey = keyIdx.length ? keyIdx.map((i) => last[i]) : undefined;
        if (cursorIdx >= 0) for (const row of read) if (isAfter(row[cursorIdx], state.cursorMax)) state.cursorMax = row[cursorIdx];
        const rows = hooks.validator ? validRows(read, hooks.validator, hooks, state, batch) : read;
        if (!finalShape) {
          let rowNumber = base + state.rowsRead;
          for (const row of rows) row.push(batch, ++rowNumber);
        }
        if (hooks.takeTokens) await hooks.takeTokens(rows.length, bytes);
        const started = performance.now();
        const written = rows.length ? await insertIsolating(rows, batch) : 0;
        sizer.observe(read.length, bytes, performance.now() - started);
        if (wide) pending = readAhead();
        state.batch = batch;
        state.rowsRead += read.length;
        state.rowsWritten += written;
        state.bytes = (state.bytes ?? 0) + bytes;
        state.lastKey = lastKey;
        hooks.onBatch({ ...state });
        // Synchronous drivers (SQLite) chain batches through microtasks only; let the event
        // loop turn so Ctrl-C, timers and output are handled while a table is staging.
        await yieldToEventLoop();
      }
    } finally {
      await batches.return?.(undefined).catch(() => undefined);
    }
  }
}

/**
 * Stage a whole chunk as bytes in one statement (plan.rawFormat): read and
 * written by the servers, never decoded here (at most rewritten: 'tsv'). All or nothing: a chunk it
 * cannot copy (a value the target refuses, a dropped connection) is staged
 * again row by row by stageChunk, which validates, isolates and retries.
 */
export async function stageChunkRaw(plan: TablePlan, source: Endpoint, target: Endpoint, staging: TableName, chunk: ChunkPlan, hooks: StageHooks): Promise<ChunkCheckpoint> {
  const base = chunkBase(chunk.index);
  const end = base + CHUNK_STRIDE;
  const finalShape = stagedInFinalShape(target.session, plan);
  /** Whatever of this chunk is staged: its batches, or (final shape) the rows in its key range. */
  const deleteBatches = (session: Session) =>
    finalShape ? deleteStagedRange(session, staging, plan, chunk.after, chunk.through) : session.execute(session.applySql.deleteStagedBatches(staging, base, end, BATCH_COLUMN));
  if (hooks.resume) await deleteBatches(target.session);
  const batch = base + 1;
  let bytes = 0;
  let sourceFailed = false;
  const request = { table: plan.sourceName, columns: plan.columns, orderBy: plan.orderBy, where: chunkWhere(source.session, plan, chunk), after: chunk.after, through: chunk.through, batchRows: 1 };
  const trailing = finalShape ? undefined : { batch, rowBase: base };
  const format = plan.rawFormat!;
  // A target that reads the source itself (SQLite attaching a SQLite file) is handed the request, not bytes.
  const pulled = target.session.rawPulls?.includes(format) === true;
  const reads = pulled ? undefined : source.session.readRaw!(request, trailing, format)[Symbol.asyncIterator]();
  const cancelled = () => {
    if (hooks.signal?.aborted) throw new FerryError('cancelled', 'the run was cancelled');
  };
  // The source starts its read (over a remote link, a round trip or two before the first bytes) while the
  // target gets ready to take them: not after. Seen by counted() below (never an unhandled rejection meanwhile).
  let first = reads && !hooks.signal?.aborted ? reads.next() : undefined;
  first?.catch(() => undefined);
  const counted = async function* () {
    for (;;) {
      cancelled();
      let next: IteratorResult<Uint8Array>;
      try {
        next = await (first ?? reads!.next());
        first = undefined;
      } catch (err) {
        sourceFailed = true;
        throw err;
      }
      if (next.done) return;
      bytes += next.value.byteLength;
      yield next.value;
    }
  };
  try {
    const columns = stagingColumns(plan, target.session);
    let rows: number;
    if (pulled) {
      // One statement that holds the thread (SQLite): a Ctrl-C that came meanwhile is seen after it, before the checkpoint.
      cancelled();
      ({ rows, bytes } = await target.session.pullRaw!(source.session, request, trailing, staging, columns, format));
      await yieldToEventLoop();
      cancelled();
    } else rows = await target.session.writeRaw!(staging, columns.map((c) => c.name), counted(), format, { alone: hooks.alone === true && !hooks.resume });
    const done: ChunkCheckpoint = { ...chunk, batch, lastKey: chunk.through, rowsRead: rows, rowsWritten: rows, rowsRejected: 0, bytes, done: true };
    hooks.onBatch(done);
    return done;
  } catch (err) {
    // The source's COPY must be over (cancelled and drained) before its session reads again.
    await reads?.return?.(undefined).catch(() => undefined);
    if (hooks.signal?.aborted || (err instanceof FerryError && err.kind === 'cancelled')) throw err;
    hooks.onWarning(`chunk ${chunk.index + 1}: the pass-through stopped (${errorMessage(err)}); staging it row by row instead`);
    const lost = isTransient(err);
    if (lost && sourceFailed) await hooks.reopenSource();
    try {
      await deleteBatches(lost && !sourceFailed ? await target.reopen() : target.session);
    } catch (cleanupErr) {
      // A bulk load stopped mid-stream can take its connection with it (mysql2 ends LOAD DATA LOCAL
      // on a failed read by closing it): clean up on a new one.
      if (!isTransient(cleanupErr)) throw cleanupErr;
      await deleteBatches(await target.reopen());
    }
    return stageChunk(plan, source, target, staging, chunk, { ...hooks, resume: undefined });
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

/**
 * A mirror looks up target keys in staging (what to delete): index it once
 * every chunk is in. An upsert only looks staged keys up in the target
 * (delta.ts), by the target's own key.
 */
export async function indexStaging(plan: TablePlan, target: Session, staging: TableName): Promise<void> {
  if (stagingIndexed(plan)) await target.createIndex(staging, stagingIndexName(staging), plan.key);
}

/** Whether indexStaging indexes the table's staging table. */
export function stagingIndexed(plan: TablePlan): boolean {
  return plan.key.length > 0 && plan.mode !== 'upsert';
}

function stagingIndexName(staging: TableName): string {
  return `${staging.name}_key`;
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
