/**
 * Events a run emits, in order: the CLI prints them (`--json`, one a line),
 * the store keeps them as the job log, the UI shows them live.
 * Plain data only: no secrets (URLs are redacted before they get here).
 */
export type RunStatus = 'running' | 'succeeded' | 'dead-lettered' | 'failed' | 'cancelled' | 'interrupted';
export type TablePhase = 'pending' | 'staging' | 'staged' | 'applying' | 'applied' | 'verifying' | 'done' | 'failed';

export interface TableSummary {
  source: string;
  target: string;
  mode: string;
  phase: TablePhase;
  rowsRead: number;
  rowsWritten: number;
  /** Staged but never applied (a failed or cancelled run): none of them is in the target. */
  rowsStaged?: number;
  rowsDeadLettered: number;
  /** Rows in the target after apply (for replace/mirror: the table; otherwise the rows applied). */
  created: boolean;
  verified?: 'count' | 'checksum' | 'skipped' | 'mismatch';
  /** What the apply did to the target's rows: unchanged = staged rows it already held as they are (not written). */
  applied?: { inserted: number; updated: number; deleted: number; unchanged: number };
  durationMs: number;
  /** Bytes read from the source (about: text and binary by length, other values by width). */
  bytes?: number;
  /** Key-range chunks the table was copied in. */
  chunks?: number;
  /** The path the table took (fresh copy, swap, in place, delta) and why, once the run knows. */
  path?: string;
  /** Time spent staging the table, and verifying it. */
  stageMs?: number;
  verifyMs?: number;
}

/** What a run measured, kept with it in the history. */
export interface RunMetrics {
  bytesRead: number;
  /** Rows read per second while staging (all lanes together). */
  rowsPerSecond: number;
  /** Lanes that staged at once, and whether they ran in worker threads. */
  lanes: number;
  workers: boolean;
  retries: number;
  /** Dead-lettered ÷ read. */
  errorRate: number;
  /** Wall-clock time of each phase. */
  phases: { planMs: number; stageMs: number; applyMs: number; verifyMs: number };
}

/** Where a table is: what a 'progress' event says, and what the app shows of it. */
export interface TableProgress {
  phase: TablePhase;
  rowsRead: number;
  rowsWritten: number;
  estimate?: number;
  rowsPerSecond: number;
  /** Phase "verifying": the source rows compared so far (of `estimate`); rowsPerSecond is then the comparison's rate. */
  rowsVerified?: number;
  /**
   * Phase "applying": the staged rows applied so far (of `estimate`, the rows staged), exact when a step
   * ends and estimated from the step's rows and the server's rate while it runs; rowsPerSecond is that rate.
   */
  rowsApplied?: number;
  /** Phase "applying": the step running (e.g. "deleting the old rows", "inserting the staged rows") and for how long. */
  step?: string;
  stepElapsedMs?: number;
  /** Phase "applying": the time the table's apply has left, estimated from its rows. */
  etaMs?: number;
}

export type RunEvent =
  | { type: 'run-started'; runId: string; job: string; source: string; target: string; at: string }
  | { type: 'plan'; runId: string; tables: PlannedTable[]; warnings: string[] }
  | { type: 'table-started'; runId: string; table: string; target: string; estimate?: number; chunks?: number }
  | ({ type: 'progress'; runId: string; table: string } & TableProgress)
  | { type: 'table-staged'; runId: string; table: string; rowsRead: number; rowsWritten: number; durationMs: number; bytes?: number }
  /** Compared before copying (options.compare): the path the table takes, and what the range hashes found. */
  | { type: 'compared'; runId: string; table: string; path: string; delta: boolean; ranges?: number; sourceRows?: number; rowsToStage?: number; unchanged?: number; durationMs: number }
  | { type: 'apply-started'; runId: string; tables: string[] }
  | { type: 'table-applied'; runId: string; table: string; inserted: number; updated: number; deleted: number; unchanged?: number }
  | { type: 'apply-committed'; runId: string; durationMs: number }
  /** options.schema "full": the new tables' indexes, foreign keys and counters are being built (after the commit where DDL commits on its own, MySQL). */
  | { type: 'schema-started'; runId: string; tables: string[]; resumed?: boolean }
  | { type: 'verify'; runId: string; table: string; method: 'count' | 'checksum'; ok: boolean; sourceRows: number; targetRows: number; mismatches: string[] }
  | { type: 'warning'; runId: string; table?: string; message: string }
  | { type: 'retry'; runId: string; table?: string; attempt: number; delayMs: number; message: string }
  | { type: 'error'; runId: string; table?: string; message: string }
  | RunSummary;

export interface RunSummary {
  type: 'summary';
  runId: string;
  status: Exclude<RunStatus, 'running'>;
  rowsRead: number;
  rowsWritten: number;
  /** A run that failed or was cancelled before its apply committed: rows staged, none of them written. */
  rowsStaged?: number;
  rowsDeadLettered: number;
  durationMs: number;
  tables: TableSummary[];
  metrics?: RunMetrics;
  error?: string;
  /** 'spec' when the job does not fit the databases (nothing was touched). */
  errorKind?: string;
}

export interface PlannedColumn {
  name: string;
  /** The column's name in the target, where it differs ("rename", or a name the target cuts). */
  targetName?: string;
  sourceType: string;
  targetType: string;
  /** Values would be stored changed (rounded, truncated fractions, a time zone dropped): refused unless accepted. */
  lossy?: string;
  accepted?: boolean;
  /** Some values may not fit (too long, out of range): each such row is dead-lettered, none is changed. */
  mayNotFit?: string;
  /** The source's longest value now, in characters, where cheap to know (a small table): beside mayNotFit for a text width. */
  longest?: number;
}

export interface PlannedTable {
  source: string;
  target: string;
  mode: string;
  key: string[];
  createTarget: boolean;
  /** How the rows reach the table (fresh copy, swap, in place) and why. */
  path?: string;
  estimate?: number;
  /** Size the source engine reports for the table, in bytes. */
  bytes?: number;
  columns: PlannedColumn[];
  ddl?: string;
  /** How rows travel when not decoded and re-encoded (e.g. binary COPY pass-through). */
  fastPath?: string;
  /** Incremental: the cursor, and the watermark rows must be past (none: the first run copies every row). */
  incremental?: { cursor: string; since?: string };
  /** A partitioned table or inheritance parent (PostgreSQL): its partitions or children copied through it, once; or a partition named on its own. */
  partitions?: string;
  /** The table's indexes, keys, defaults and generated key, and what becomes of each (options.schema "full"). */
  schema?: PlannedSchemaItem[];
  /** `dbferry plan --diff`: what a run would do to the table's rows now. */
  diff?: PlannedDiff;
}

/** What a run would insert, update, delete and leave as it is, found by comparing both sides without writing. */
export interface PlannedDiff {
  inserted: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Upsert: target rows whose key the source lacks, which it leaves as they are. */
  kept?: number;
  /** A few keys of each; for an update, the columns that differ. */
  examples: { inserted: string[]; updated: Array<{ key: string; columns: string[] }>; deleted: string[] };
  /** How it was found: range hashes and then the differing ranges row by row, or every row (and why). */
  method: string;
  note?: string;
  /** The comparison failed: why (the plan itself stands). */
  error?: string;
}

export interface PlannedSchemaItem {
  object: 'index' | 'unique index' | 'foreign key' | 'default' | 'generated key' | 'generated column' | 'comment' | 'on update' | 'check' | 'trigger';
  /** Its name in the target where it is built, else in the source. */
  name: string;
  /** What it is: columns, referenced table, expression. */
  detail: string;
  /** carried: as it is; adapted: changed as `note` says; not carried: `note` says why; missing: the existing target lacks it (nothing is changed). */
  fate: 'carried' | 'adapted' | 'not carried' | 'missing';
  note?: string;
}

export const EXIT = {
  ok: 0,
  failed: 1,
  invalid: 2,
  deadLettered: 3,
  interrupted: 130,
} as const;

export function exitCodeFor(summary: Pick<RunSummary, 'status' | 'errorKind'>): number {
  if (summary.status === 'failed' && summary.errorKind === 'spec') return EXIT.invalid;
  switch (summary.status) {
    case 'succeeded':
      return EXIT.ok;
    case 'dead-lettered':
      return EXIT.deadLettered;
    case 'cancelled':
    case 'interrupted':
      return EXIT.interrupted;
    case 'failed':
      return EXIT.failed;
  }
}
