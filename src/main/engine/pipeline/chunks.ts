/**
 * Chunks: a big table is split into primary-key ranges that lanes copy at
 * once. Boundaries are found by probing the key every N rows in key order
 * (`ORDER BY key LIMIT 1 OFFSET N`, an index walk), so every chunk holds about
 * N rows however the keys are spread. Rows with equal keys always share a
 * chunk, so checking a key's uniqueness per chunk is exact.
 *
 * A chunk owns a range of batch and row numbers (CHUNK_STRIDE each): staged
 * rows say which chunk and batch they came in, and resuming a chunk deletes
 * only its own batches past its checkpoint.
 */
import type { BucketSet, Session } from '../dialects/dialect.js';
import type { Column, Row, Value } from '../types.js';
import type { TablePlan } from './plan.js';
import { bucketWhere } from './compareKeys.js';

/** Batch and row numbers of chunk i are i * CHUNK_STRIDE + 1 … (i + 1) * CHUNK_STRIDE. */
export const CHUNK_STRIDE = 2 ** 32;
/** Keeps every batch and row number a safe integer. */
export const MAX_CHUNKS = 2 ** 20;

export interface ChunkPlan {
  /** Position in the table's chunk list; fixes its batch and row numbers. */
  index: number;
  /** Exclusive lower bound on the key (none: from the first row). */
  after?: Row;
  /** Inclusive upper bound on the key (none: to the last row). */
  through?: Row;
  /** A delta run (compare.ts): only the rows of these key buckets within the bounds. */
  buckets?: BucketSet;
}

/** The source's filter for a chunk: the job's "where", and the chunk's buckets. */
export function chunkWhere(session: Session, plan: TablePlan, chunk: ChunkPlan): string | undefined {
  const parts = [plan.spec.where, bucketWhere(session, plan.columns, plan.orderBy, chunk.buckets)].filter((p): p is string => !!p);
  return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' AND ');
}

export function chunkBase(index: number): number {
  return index * CHUNK_STRIDE;
}

export interface ChunkSizing {
  /** Lanes that will copy at once. */
  lanes: number;
  /** No chunk is planned smaller than this (probing and scheduling cost more than they save). */
  minRows: number;
  /** Nor bigger: a chunk should take seconds, not minutes, so a resume loses little. */
  maxRows: number;
  /** options.chunkRows: the user's own size, used as it is. */
  rows?: number;
}

export const DEFAULT_SIZING: Omit<ChunkSizing, 'lanes'> = { minRows: 100_000, maxRows: 1_000_000 };

/** Rows a chunk of this table should hold: enough chunks to keep every lane busy, each within bounds. */
export function rowsPerChunk(estimate: number, sizing: ChunkSizing): number {
  // One lane has nothing to balance: chunks as big as a resume may lose.
  if (sizing.lanes <= 1) return sizing.maxRows;
  const even = Math.ceil(estimate / Math.max(1, sizing.lanes * 2));
  return Math.min(sizing.maxRows, Math.max(sizing.minRows, even));
}

/** About how many chunks planChunks will make, from the estimate alone (to size the lanes before probing). */
export function expectedChunks(plan: TablePlan, sizing: ChunkSizing): number {
  const estimate = plan.estimate ?? 0;
  if (plan.orderBy.length === 0) return 1;
  if (sizing.rows !== undefined) return Math.max(1, Math.ceil(estimate / sizing.rows));
  if ((sizing.lanes <= 1 && plan.rawFormat === undefined) || estimate < 2 * sizing.minRows) return 1;
  const every = rowsPerChunk(estimate, sizing);
  return estimate <= every ? 1 : Math.ceil(estimate / every);
}

/**
 * The table's key ranges, probed on `source` (inside the run's snapshot, so the
 * boundaries are those of the data being read). One chunk when the table has
 * no key, one lane, or too few rows to split.
 */
export async function planChunks(plan: TablePlan, source: Session, sizing: ChunkSizing, signal?: AbortSignal): Promise<ChunkPlan[]> {
  const whole: ChunkPlan[] = [{ index: 0 }];
  if (plan.orderBy.length === 0) return whole;
  let every = sizing.rows;
  if (every === undefined) {
    const estimate = plan.estimate ?? 0;
    // One lane needs no chunks, except to checkpoint a pass-through table, which stages a chunk at a time.
    if ((sizing.lanes <= 1 && plan.rawFormat === undefined) || estimate < 2 * sizing.minRows) return whole;
    every = rowsPerChunk(estimate, sizing);
    // About one chunk's worth (the estimate may be off either way: a bigger chunk only checkpoints less often).
    if (estimate <= every) return whole;
  }
  const keyColumns = plan.orderBy.map((k) => plan.columns.find((c) => c.name === k)!);
  const fromStats = await boundsFromStatistics(plan, source, keyColumns, every);
  if (fromStats) return fromStats;
  const since = plan.incremental?.since === undefined ? undefined : { column: plan.incremental.cursor, value: plan.incremental.since };
  const bounds: Row[] = [];
  let after: Row | undefined;
  while (bounds.length < MAX_CHUNKS - 1) {
    if (signal?.aborted) break;
    let key: Row | undefined;
    // The key `every` rows on: the last row of this chunk.
    for await (const batch of source.readRows({ table: plan.sourceName, columns: keyColumns, orderBy: plan.orderBy, where: plan.spec.where, since, after, offset: every - 1, limit: 1, batchRows: 1 })) {
      key = batch[0];
    }
    if (!key) break;
    bounds.push(key);
    after = key;
  }
  // A table of exactly N × every rows ends on a boundary: no empty last chunk.
  if (bounds.length && !(await anyRowAfter(plan, source, keyColumns, bounds[bounds.length - 1], since))) bounds.pop();
  return fromBounds(bounds);
}

async function anyRowAfter(plan: TablePlan, source: Session, keyColumns: Column[], after: Row, since: { column: string; value: Value } | undefined): Promise<boolean> {
  for await (const batch of source.readRows({ table: plan.sourceName, columns: keyColumns, orderBy: plan.orderBy, where: plan.spec.where, since, after, limit: 1, batchRows: 1 })) {
    if (batch.length) return true;
  }
  return false;
}

function fromBounds(bounds: Row[]): ChunkPlan[] {
  if (bounds.length === 0) return [{ index: 0 }];
  const chunks: ChunkPlan[] = bounds.map((through, i) => ({ index: i, after: i ? bounds[i - 1] : undefined, through }));
  chunks.push({ index: bounds.length, after: bounds[bounds.length - 1] });
  return chunks;
}

/**
 * The whole table (no filter) on a one-column integer key: the engine's
 * histogram gives the boundaries without reading the key (probing a freshly
 * loaded 1M-row PostgreSQL table took 0.3-0.8 s). Chunks are then about, not
 * exactly, even; they always cover every key.
 */
async function boundsFromStatistics(plan: TablePlan, source: Session, keyColumns: Column[], every: number): Promise<ChunkPlan[] | undefined> {
  if (!source.keyQuantiles || keyColumns.length !== 1 || plan.spec.where || plan.incremental?.since !== undefined || !plan.estimate) return undefined;
  const count = Math.ceil(plan.estimate / every) - 1;
  if (count < 1 || count >= MAX_CHUNKS) return undefined;
  const values = await source.keyQuantiles(plan.sourceName, keyColumns[0], count);
  return values?.length ? fromBounds(values.map((v) => [v])) : undefined;
}
