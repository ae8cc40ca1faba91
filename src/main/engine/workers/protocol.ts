/**
 * What the main thread and a chunk worker say to each other. Plain data only
 * (structured clone: bigints and bytes survive). The main thread alone writes
 * the store; a worker reports and the main thread records.
 */
import type { OpenOptions } from '../dialects/dialect.js';
import type { ErrorKind } from '../errors.js';
import type { ChunkPlan } from '../pipeline/chunks.js';
import type { KeyRange } from '../pipeline/compare.js';
import type { TablePlan } from '../pipeline/plan.js';
import type { ChunkCheckpoint } from '../pipeline/stage.js';
import type { VerifyResult } from '../pipeline/verify.js';
import type { Row, TableName, Value } from '../types.js';

/** How a lane's source session joins the run's snapshot. */
export type SnapshotJoin =
  /** PostgreSQL: SET TRANSACTION SNAPSHOT to the main session's exported one. */
  | { kind: 'import'; id: string }
  /** MySQL/MariaDB: start a consistent snapshot while the main session holds writes back. */
  | { kind: 'begin' };

export interface LaneConfig {
  source: { url: string; options: OpenOptions };
  target: { url: string; options: OpenOptions };
  retry: { max: number; baseDelayMs: number };
  rateLimited: boolean;
  /** options.batch.maxBytes: what a lane's memory grows with. */
  batchBytes: number;
}

export interface ChunkTask {
  id: number;
  plan: TablePlan;
  staging: TableName;
  chunk: ChunkPlan;
  resume?: ChunkCheckpoint;
  /** The table's only chunk, into its new staging table: nothing else writes there meanwhile. */
  alone?: boolean;
  validate: boolean;
  batch: { maxRows: number; maxBytes: number };
}

/** Compare a table's source and target after apply, in the lane's snapshot. */
export interface VerifyTask {
  id: number;
  plan: TablePlan;
  method: 'count' | 'checksum';
  batchRows: number;
  batchBytes: number;
  deadLettered: number;
  /** deadKey()s of rows this run dead-lettered: missing from the target on purpose. */
  deadKeys: string[];
  since?: { column: string; value: Value; rowsRead: number };
  /** A delta table: only its differing key ranges were staged and need comparing; the rest matched by range hashes. */
  delta?: { ranges: KeyRange[]; unchangedRows: number };
}

export interface WireError {
  kind: ErrorKind;
  message: string;
  hint?: string;
  transient: boolean;
}

export type ToWorker =
  | { type: 'open'; config: LaneConfig }
  | { type: 'snapshot'; join: SnapshotJoin }
  | { type: 'chunk'; task: ChunkTask }
  | { type: 'verify'; task: VerifyTask }
  | { type: 'tokens'; request: number }
  | { type: 'cancel' }
  | { type: 'close' };

export type FromWorker =
  | { type: 'opened' }
  | { type: 'snapshot-joined' }
  | { type: 'batch'; task: number; checkpoint: ChunkCheckpoint }
  | { type: 'rejected'; task: number; row: Row; reasons: string[]; stage: 'validate' | 'stage'; batch: number }
  | { type: 'warning'; task: number; message: string }
  | { type: 'retry'; task: number; attempt: number; delayMs: number; message: string }
  | { type: 'take'; request: number; rows: number; bytes: number }
  | { type: 'chunk-done'; task: number; checkpoint: ChunkCheckpoint }
  | { type: 'verifying'; task: number; rowsCompared: number }
  | { type: 'verified'; task: number; result: VerifyResult }
  | { type: 'failed'; task?: number; error: WireError }
  | { type: 'closed' };
