/**
 * Apply: make the staged rows the target's, for every table of the job, in
 * one short transaction. Before changing existing rows it keeps a backup of
 * what it overwrites (so `backups restore` can undo the run). Deletes run
 * children-first, inserts parents-first, so foreign keys hold at each step.
 * Any failure rolls everything back.
 */
import type { JobOptions } from '../../../shared/jobSpec.js';
import type { Session, VersionMark } from '../dialects/dialect.js';
import { errorMessage, isRowRejection } from '../errors.js';
import { backupTableName } from '../naming.js';
import { tableLabel, type Row, type TableName, type Value } from '../types.js';
import { encodeWatermark, watermarkTableDef, writeWatermark } from './watermark.js';
import type { Endpoint } from './endpoint.js';
import { markAppliedSql, markerTableDef } from './marker.js';
import { ensureOwnTables, tableExists } from './ownTable.js';
import { StatementBatch, executeCounted, transactionWithStatements } from './batch.js';
import { backupLedgerDef, recordBackupsInTarget } from './backupLedger.js';
import type { TablePlan } from './plan.js';
import { BATCH_COLUMN, ROW_COLUMN, createdColumns, keyAtStaging, promotable, stagedInFinalShape, tableComment } from './stage.js';
import { withRetries, type RetryPolicy } from './retry.js';
import { carrySchema, schemaWorks } from '../schema/apply.js';
import { ensurePendingTable, recordPendingSchema } from '../schema/pending.js';
import type { TableWork } from '../schema/model.js';
import { carrySchemaOutside } from '../schema/outside.js';
import { killPoint } from '../testHooks.js';
import { ApplyTracker, type ApplyStepProgress } from './applyProgress.js';
import { ApplyWatcher } from './applyWatch.js';
import { deltaTableName, goneTableName, needsDelta, stageDelta } from './delta.js';
import type { KeyRange } from './compare.js';
import { syncStateTableDef, writeSyncStateSql, type VersionsToRecord } from './syncState.js';

export interface AppliedCounts {
  inserted: number;
  updated: number;
  deleted: number;
  /** Staged rows the target already held as they are (upsert, mirror): not written. */
  unchanged: number;
}

export interface StagedTable {
  plan: TablePlan;
  staging: TableName;
  /** Rows in the staging table (for a promoted table, the rows the target gets). */
  rows: number;
  /** Incremental tables: the largest cursor value staged, the watermark the apply writes. */
  cursorMax?: Value;
  /** Upsert, mirror: the staged rows that are new or differ (delta.ts), which alone are backed up and written. */
  delta?: TableName;
  /** Mirror: the keys of the target rows absent from staging (delta.ts), which alone are backed up and deleted. */
  gone?: TableName;
  /** A unique index on the key built on the staging table before the apply (PostgreSQL), which promotion makes the primary key. */
  keyIndex?: string;
  /** Compared before copying: the key ranges that differ, all that was staged; a mirror deletes only within them. */
  ranges?: KeyRange[];
  /** Source rows outside `ranges`, found unchanged by their range hashes. */
  unchangedRows?: number;
  /** The apply dropped the staging table with its commit (PostgreSQL): nothing is left to drop after it. */
  stagingDropped?: boolean;
  /** Where both tables' row versions stood: recorded with the commit, for the next run (syncState.ts). */
  versions?: VersionsToRecord;
}


/** What `backups restore` needs to undo one table of a run. */
export interface BackupRecord {
  tableIndex: number;
  target: TableName;
  /** created: the run created the table; table: full copy; rows: pre-images + new keys; keys: new keys only. */
  kind: 'created' | 'table' | 'rows' | 'keys';
  rowsTable?: TableName;
  keysTable?: TableName;
  key: string[];
  columns: string[];
  /** Replace by swap: `rowsTable` is the old table itself, which undo swaps back (its key constraint's name as it was). */
  swapped?: { primaryKeyName?: string };
  /** Incremental tables: the watermark before the run, which undoing the run puts back (none: there was none). */
  watermark?: { flow: string; targetTable: string; previous?: string };
}

export interface ApplyOptions {
  runId: string;
  /** Where the applied-runs marker table lives (the target's schema). */
  markerSchema?: string;
  options: JobOptions;
  retry: RetryPolicy;
  onApplied(table: StagedTable, counts: AppliedCounts): void;
  /** While each step of the apply runs (twice a second) and when it ends: what it is doing, the table's staged rows applied so far, a rate and an ETA. */
  onProgress?(table: StagedTable, progress: ApplyStepProgress): void;
  /** Rows per second the rows were staged at: the first step's estimated rate, before the apply has measured its own. */
  stagedRowsPerSecond?: number;
  onWarning(message: string): void;
  /** The new tables' indexes, keys and counters are being built (inside the transaction, or after its commit where DDL commits on its own). */
  onSchemaStarted?(works: TableWork[]): void;
  /** Rows refused at apply, just before the commit; throw to roll the whole apply back (limits). */
  checkRejected?(rejected: RejectedRow[]): void;
  /**
   * Rows refused at apply so far, each time one is found: throw to stop looking
   * (a limit is already broken), so a batch refused as a whole costs a few
   * statements, not two per row.
   */
  countRejected?(refusedSoFar: readonly RejectedRow[]): void;
}

export async function applyAll(target: Endpoint, staged: StagedTable[], opts: ApplyOptions): Promise<{ backups: BackupRecord[]; rejected: RejectedRow[] }> {
  return withRetries(opts.retry, async (attempt) => {
    if (attempt > 0) await target.reopen();
    const watcher = opts.onProgress ? await ApplyWatcher.open(target) : undefined;
    try {
      return await applyOnce(target.session, staged, opts, watcher);
    } finally {
      await watcher?.close();
    }
  });
}

async function applyOnce(target: Session, staged: StagedTable[], opts: ApplyOptions, watcher?: ApplyWatcher): Promise<{ backups: BackupRecord[]; rejected: RejectedRow[] }> {
  const ddlOutside = !target.dialect.capabilities.transactionalDdl;
  const sideEffects: TableName[] = [];
  const counts = new Map<StagedTable, AppliedCounts>(staged.map((s) => [s, { inserted: 0, updated: 0, deleted: 0, unchanged: 0 }]));
  let backups: BackupRecord[] = [];
  const rejected: RejectedRow[] = [];
  const tracker = new ApplyTracker((s, p) => opts.onProgress?.(s, p), opts.stagedRowsPerSecond ?? 0, 500, watcher);
  const track = tracker.step.bind(tracker);
  for (const s of staged) tracker.expect(s, s.rows);
  const works = schemaWorks(staged.map((s) => s.plan));
  const watermarks = staged.filter((s) => s.plan.incremental && s.cursorMax !== undefined && s.cursorMax !== null);
  // dbferry's own tables, looked for in one round trip where the session can.
  await ensureOwnTables(target, [
    markerTableDef(target, opts.markerSchema),
    ...(opts.options.backups.enabled ? [backupLedgerDef(target, opts.markerSchema)] : []),
    ...[...new Set(watermarks.map((s) => s.plan.targetName.schema))].map((schema) => watermarkTableDef(target, schema)),
    ...(staged.some((s) => s.versions) ? [syncStateTableDef(target, opts.markerSchema)] : []),
  ]);
  // What is left to build after the commit is recorded with it, for `resume`.
  if (ddlOutside && works.length) await ensurePendingTable(target, opts.markerSchema);
  const prepare = async () => {
    // Few staged rows (each step takes milliseconds): the delta tables' statements and the backups' go in one round trip
    // where the engine batches, sent with the backups (flushed before anything that reads what they made).
    const shared = staged.length && staged.every(fewStaged) ? new StatementBatch(target) : undefined;
    for (const s of staged) {
      if (!needsDelta(target, s.plan) || nothingDiffers(s)) continue;
      Object.assign(s, await track(s, 'comparing the staged rows with the table', s.rows, false, () => stageDelta(target, s, shared), ESTIMATED));
      sideEffects.push(...[s.delta, s.gone].filter((t): t is TableName => t !== undefined));
    }
    if (staged.some((s) => s.plan.createTarget && !promotable(target, s.plan))) await shared?.flush();
    for (const s of staged) if (s.plan.createTarget && !promotable(target, s.plan)) sideEffects.push(await createTarget(target, s.plan));
    if (opts.options.backups.enabled) backups = await takeBackups(target, staged, opts, sideEffects, track, shared);
    await shared?.flush();
  };
  try {
    // Engines whose DDL commits implicitly (MySQL) create tables and backups first, and drop them if apply fails.
    if (ddlOutside) await prepare();
    // The planner's settings for few staged rows go in the BEGIN's round trip where the engine batches.
    const first = target.applySql.lookUpStagedKeys && staged.length && staged.every(fewStaged) ? target.applySql.lookUpStagedKeys() : [];
    // Staging tables the commit drops (where DDL is transactional and the COMMIT takes statements: no round trip after it).
    const dropsStaging = !ddlOutside && target.transactionWith ? staged.filter((s) => !promotable(target, s.plan)) : [];
    await transactionWithStatements(target, first, async (last) => {
      if (!ddlOutside) await prepare();
      for (const s of [...staged].reverse()) if (!nothingDiffers(s)) counts.get(s)!.deleted += await deletePhase(target, s, track);
      for (const s of staged) {
        if ((ddlOutside && promotable(target, s.plan)) || nothingDiffers(s)) continue;
        const c = await track(
          s,
          writeStep(target, s.plan),
          s.rows,
          true,
          () => writePhase(target, s, opts.options.onInvalidRow === 'dead-letter', (found) => opts.countRejected?.([...rejected, ...found]), opts.runId),
          s.plan.mode === 'upsert' || s.plan.mode === 'mirror' ? ESTIMATED : promotable(target, s.plan) ? undefined : { insert: { into: s.plan.targetName, from: s.staging } },
        );
        counts.get(s)!.inserted += c.inserted;
        counts.get(s)!.updated += c.updated;
        if (s.plan.mode === 'upsert' || s.plan.mode === 'mirror') counts.get(s)!.unchanged = Math.max(0, s.rows - c.inserted - c.updated - c.rejected.length);
        rejected.push(...c.rejected);
      }
      // Every new table is in under its own name: its indexes, keys and defaults, in this transaction.
      if (!ddlOutside && works.length) {
        opts.onSchemaStarted?.(works);
        const built = withWork(staged, works);
        await track(built, SCHEMA_STEP, sum(built), false, () => carrySchema(target, works, opts.onWarning));
      }
      opts.checkRejected?.(rejected);
      // In the marker's transaction: a crash before the store has them (MySQL: before or right after the swap's RENAME) leaves them for resume.
      if (backups.length) await recordBackupsInTarget(target, opts.runId, backups, opts.markerSchema);
      if (ddlOutside && works.length) await recordPendingSchema(target, opts.runId, works, opts.markerSchema);
      // The watermark moves with the rows it covers: in the same transaction.
      for (const s of watermarks) {
        await writeWatermark(target, s.plan.targetName.schema, opts.runId, { flow: s.plan.incremental!.flow, targetTable: s.plan.targetLabel, value: s.cursorMax! });
      }
      // Where both tables' row versions stand, for the next run: with the rows, or not at all.
      const marks = await targetMarks(target, staged, rejected);
      for (const s of staged) if (s.versions) last.add(...syncStateSql(target, s, marks.get(s), opts));
      // Last, in the COMMIT's round trip where the engine batches (else just before it): where DDL is transactional, the
      // delta tables (the run's own) and the staging tables the apply is done with, and the marker.
      const done = ddlOutside ? [] : staged.filter((s) => needsDelta(target, s.plan) && !nothingDiffers(s)).flatMap(deltaTables);
      last.drop(...done, ...dropsStaging.map((s) => s.staging));
      last.add(markAppliedSql(target, opts.runId, opts.markerSchema));
    }, opts.options.isolation.target);
    for (const s of dropsStaging) s.stagingDropped = true;
  } catch (err) {
    if (ddlOutside) for (const name of sideEffects.reverse()) await target.dropTable(name).catch(() => undefined);
    throw err;
  } finally {
    for (const s of staged) Object.assign(s, { delta: undefined, gone: undefined });
  }
  // Delta tables are the run's own: gone once the apply is in (or rolled back with it); dropped with the commit above where DDL is transactional.
  if (ddlOutside) for (const s of staged) if (needsDelta(target, s.plan) && !nothingDiffers(s)) for (const t of deltaTables(s)) await target.dropTable(t);
  if (ddlOutside) {
    for (const s of staged) if (promotable(target, s.plan)) counts.get(s)!.inserted = s.rows;
    await promoteStagedTargets(target, staged, opts.runId, track);
    for (const s of staged) if (s.plan.swap && !s.plan.rebuild) counts.get(s)!.deleted += await countSwappedOut(target, s, opts.runId, track);
    if (works.length) opts.onSchemaStarted?.(works);
    const built = withWork(staged, works);
    if (works.length) await track(built, SCHEMA_STEP, sum(built), false, () => carrySchemaOutside(target, works, opts));
  }
  // Without backups, the table a swap replaced is not kept.
  if (!opts.options.backups.enabled) for (const s of staged) if (s.plan.swap) await target.dropTable(swappedOut(s.plan, opts.runId));
  for (const s of staged) opts.onApplied(s, counts.get(s)!);
  return { backups, rejected };
}

/**
 * The target's marks to record (syncState.ts) of the tables that refused no
 * row: taken before the comparison, or, for a table swapped or created, here,
 * after the rename, in this transaction (one round trip for them all).
 */
async function targetMarks(target: Session, staged: StagedTable[], rejected: RejectedRow[]): Promise<Map<StagedTable, VersionMark>> {
  const out = new Map<StagedTable, VersionMark>();
  const clean = staged.filter((s) => s.versions && !s.versions.refused && !rejected.some((r) => r.tableIndex === s.plan.index));
  const now = clean.filter((s) => !s.versions!.target);
  const marks = now.length && target.rowVersions ? await target.rowVersions.marks(now.map((s) => s.plan.targetName)) : [];
  now.forEach((s, i) => marks[i] && out.set(s, marks[i]));
  for (const s of clean) if (s.versions!.target) out.set(s, s.versions!.target);
  return out;
}

/** Row versions of a run's own writes recorded at most (each batch of the apply writes under a savepoint of its own: one each). */
const OWN_VERSIONS = 100;

/** A table's record of row versions: the new state, or (no mark: rows were refused) the old one deleted. */
function syncStateSql(target: Session, s: StagedTable, mark: VersionMark | undefined, opts: ApplyOptions): string[] {
  const v = s.versions!;
  // A mark from before the comparison: the rows this apply writes come after it, and are not changes for the next run to find.
  const own = mark && v.target && s.delta ? target.rowVersions!.writtenBySql({ table: s.plan.targetName, key: s.plan.key[0], from: s.delta, max: OWN_VERSIONS }) : undefined;
  return writeSyncStateSql(target, opts.markerSchema, opts.runId, v.flow, mark ? { v: 1, fp: v.fp, source: v.source, target: mark } : undefined, own);
}

/**
 * Compared before copying, and no key range differs: the apply has nothing to
 * write, delete or back up for the table (into MySQL the steps it skips are
 * eight DDL statements). Not where an incremental run moves its watermark,
 * which its backup record carries.
 */
function nothingDiffers(s: StagedTable): boolean {
  return s.ranges !== undefined && s.ranges.length === 0 && s.rows === 0 && (s.cursorMax === undefined || s.cursorMax === null);
}

/** The tables stageDelta makes for a table: the differing rows, and for a mirror the gone keys. */
function deltaTables(s: StagedTable): TableName[] {
  return s.plan.mode === 'mirror' ? [deltaTableName(s.staging), goneTableName(s.staging)] : [deltaTableName(s.staging)];
}

/** Share of a compared table's rows up to which its staged rows are looked up key by key. */
const FEW_STAGED = 0.1;

/**
 * A delta table (compared before copying) that staged few rows against those
 * its range hashes left as they are: looking each staged key up in the
 * target's key index costs less than reading the whole target to join it.
 */
export function fewStaged(s: Pick<StagedTable, 'ranges' | 'rows' | 'unchangedRows'>): boolean {
  return s.ranges !== undefined && s.unchangedRows !== undefined && s.rows <= FEW_STAGED * (s.rows + s.unchangedRows);
}

/**
 * Engines whose DDL commits on its own (MySQL) promote new targets after the
 * apply transaction: the marker it wrote says the run is applied, so a crash
 * before the rename is finished by `resume`, which calls this again (a table
 * already promoted has no staging table left).
 */
export async function promoteStagedTargets(target: Session, staged: StagedTable[], runId: string, track: Track = untracked): Promise<void> {
  for (const s of staged) {
    if (!promotable(target, s.plan) || target.dialect.capabilities.transactionalDdl) continue;
    if (!(await target.describeTable(s.staging))) continue;
    if (s.plan.swap) killPoint('before-swap-rename');
    await track(s, writeStep(target, s.plan), s.rows, true, async () => {
      for (const statement of promoteStatements(target, s, [], [], runId)) await target.execute(statement);
    });
    if (s.plan.swap) killPoint('after-swap-rename');
  }
}

type Track = ApplyTracker['step'];
const untracked: Track = (...args) => args[4]();

/** Steps whose server counts are not their rows. */
const ESTIMATED = { estimate: true };

const SCHEMA_STEP = 'building indexes, keys and defaults';

/** The step that puts a table's staged rows in, as the progress names it. */
function writeStep(target: Session, plan: TablePlan): string {
  if (promotable(target, plan)) {
    const final = stagedInFinalShape(target, plan);
    if (plan.swap) return final ? 'swapping the staged table into place' : 'building the key and swapping the staged table into place';
    return final ? 'renaming the staged table into place' : 'building the key and renaming the staged table into place';
  }
  if (plan.mode === 'replace' || plan.mode === 'append') return 'inserting the staged rows';
  return 'writing the rows that differ';
}

/** The staged tables whose schema is built. */
function withWork(staged: StagedTable[], works: TableWork[]): StagedTable[] {
  const names = new Set(works.map((w) => tableLabel(w.table)));
  const some = staged.filter((s) => names.has(tableLabel(s.plan.targetName)));
  return some.length ? some : staged;
}

const sum = (tables: StagedTable[]) => tables.reduce((n, s) => n + s.rows, 0);

/** The rows of the table a swap moved out, now the run's backup: a plain read, after the commit (deleteRows). */
async function countSwappedOut(target: Session, s: StagedTable, runId: string, track: Track): Promise<number> {
  const old = swappedOut(s.plan, runId);
  if (!(await tableExists(target, old))) return 0;
  return track(s, 'counting the rows it replaced', s.rows, false, () => target.countRows(old));
}

/** The name the table a swap replaced takes: the run's backup of it. */
function swappedOut(plan: TablePlan, runId: string): TableName {
  return { schema: plan.targetName.schema, name: backupTableName(runId, plan.index) };
}

/** A new table's staging table renamed into place; for a swap, the old table renamed away first. */
function promoteStatements(target: Session, { plan, staging, keyIndex }: StagedTable, notNull: string[], key: string[], runId: string): string[] {
  const sql = target.applySql;
  const built = key.length ? keyIndex : undefined;
  if (!plan.swap) return sql.promoteStaging!(staging, plan.targetName, runColumns(target, plan), notNull, key, built);
  return sql.swapStaging!(staging, plan.targetName, swappedOut(plan, runId), runColumns(target, plan), notNull, key, plan.swap.primaryKeyName, built);
}

/** dbferry's columns in a staging table to promote, which promotion drops (none in final shape). */
function runColumns(target: Session, plan: TablePlan): string[] {
  return stagedInFinalShape(target, plan) ? [] : [BATCH_COLUMN, ROW_COLUMN];
}

async function createTarget(target: Session, plan: TablePlan): Promise<TableName> {
  await target.createTable({
    name: plan.targetName,
    columns: createdColumns(plan, plan.targetColumns.map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: c.nullable }))),
    ...tableComment(plan),
    primaryKey: plan.key,
  });
  return plan.targetName;
}

async function takeBackups(target: Session, staged: StagedTable[], opts: ApplyOptions, created: TableName[], track: Track = untracked, shared?: StatementBatch): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  for (const s of staged) {
    if (nothingDiffers(s)) continue;
    const name = s.plan.mode === 'replace' ? 'backing up the table' : 'backing up the rows it changes';
    // A swap's backup is the old table itself, a new table's is a note: no rows to copy, no step to show.
    const backup =
      s.plan.swap || s.plan.createTarget
        ? await takeBackup(target, s, opts, created, shared)
        : await track(s, name, s.rows, false, () => takeBackup(target, s, opts, created, shared), s.plan.mode === 'replace' ? undefined : ESTIMATED);
    if (backup) out.push(backup);
  }
  return out;
}

/** `shared`: statements go in it, sent by its caller (the delta tables' before them), not here. */
async function takeBackup(target: Session, { plan, staging, cursorMax, delta, gone }: StagedTable, opts: ApplyOptions, created: TableName[], shared?: StatementBatch): Promise<BackupRecord | undefined> {
  const sql = target.applySql;
  const out: BackupRecord[] = [];
  {
    const base = backupTableName(opts.runId, plan.index);
    const rowsTable = { schema: plan.targetName.schema, name: base };
    const keysTable = { schema: plan.targetName.schema, name: `${base}_k` };
    const record = {
      tableIndex: plan.index,
      target: plan.targetName,
      key: plan.key,
      columns: plan.targetColumns.map((c) => c.name),
      ...(plan.incremental && cursorMax !== undefined && cursorMax !== null ? { watermark: { flow: plan.incremental.flow, targetTable: plan.targetLabel, previous: plan.incremental.since === undefined ? undefined : encodeWatermark(plan.incremental.since) } } : {}),
    };
    if (plan.swap) {
      // The old table itself, renamed at apply: nothing is copied.
      out.push({ ...record, kind: 'table', rowsTable, swapped: { primaryKeyName: plan.swap.primaryKeyName } });
    } else if (plan.createTarget) {
      out.push({ ...record, kind: 'created' });
    } else if (plan.mode === 'replace') {
      await shared?.flush();
      await target.execute(sql.copyTable(plan.targetName, rowsTable));
      created.push(rowsTable);
      out.push({ ...record, kind: 'table', rowsTable });
    } else if (plan.key.length === 0) {
      opts.onWarning(`${tableLabel(plan.targetName)}: appending to a table without a key cannot be undone (no backup kept); give "key" to make it undoable`);
    } else {
      // One round trip where the engine batches (each table is listed as created before, so a failure drops whatever was made).
      const batch = (shared ?? new StatementBatch(target)).add(sql.copyNewKeys(plan.targetName, delta ?? staging, keysTable, plan.key));
      created.push(keysTable);
      if (plan.mode === 'upsert' || plan.mode === 'mirror') {
        // Only what the apply overwrites (the delta's rows that the target has) or deletes: an unchanged row costs no backup either.
        batch.add(sql.copyMatching(plan.targetName, delta ?? staging, rowsTable, plan.key));
        created.push(rowsTable);
        if (plan.mode === 'mirror' && gone) batch.add(sql.copyRowsOfKeys(plan.targetName, gone, rowsTable, plan.key));
        if (!shared) await batch.flush();
        out.push({ ...record, kind: 'rows', rowsTable, keysTable });
      } else {
        if (!shared) await batch.flush();
        out.push({ ...record, kind: 'keys', keysTable });
      }
    }
  }
  return out[0];
}

async function deletePhase(target: Session, s: StagedTable, track: Track): Promise<number> {
  // A table this run creates starts empty (and a promoted one does not exist until its write phase).
  if (s.plan.createTarget) return 0;
  const name = s.plan.rebuild ? 'dropping and creating the table again' : s.plan.swap ? 'counting the rows it replaces' : s.plan.mode === 'mirror' ? 'deleting the rows the source no longer has' : 'deleting the old rows';
  if (!s.plan.rebuild && !s.plan.swap && s.plan.mode !== 'replace' && s.plan.mode !== 'mirror') return 0;
  if (s.plan.swap && !s.plan.rebuild && !target.dialect.capabilities.transactionalDdl) return 0;
  return track(s, name, s.rows, false, () => deleteRows(target, s), s.plan.mode === 'mirror' && !s.plan.rebuild ? ESTIMATED : undefined);
}

async function deleteRows(target: Session, { plan, staging, gone }: StagedTable): Promise<number> {
  const sql = target.applySql;
  if (plan.rebuild) {
    const rows = await target.countRows(plan.targetName);
    await target.dropTable(plan.targetName);
    await createTarget(target, plan);
    return rows;
  }
  // A swap deletes nothing: the old table, whose rows these are, becomes the backup. Where DDL commits on
  // its own (MySQL) the swap's RENAME follows the commit, and the table it moved out is counted then
  // (countSwappedOut): counted here, in the apply's SERIALIZABLE transaction, InnoDB read-locked every row
  // of the table for the count (0.3-0.6 s for 1,000,000 rows, writers waiting), twice a plain read's cost.
  if (plan.swap) return target.dialect.capabilities.transactionalDdl ? target.countRows(plan.targetName) : 0;
  if (plan.mode === 'replace') return target.execute(sql.deleteAll(plan.targetName));
  if (plan.mode === 'mirror') return target.execute(gone ? sql.deleteRowsOfKeys(plan.targetName, gone, plan.key) : sql.deleteAbsentFromStaging(plan.targetName, staging, plan.key));
  return 0;
}

async function writePhase(target: Session, staged: StagedTable, isolate: boolean, countRejected: (found: readonly RejectedRow[]) => void, runId: string): Promise<WriteResult> {
  const sql = target.applySql;
  const { plan } = staged;
  const staging = staged.delta ?? staged.staging;
  const columns = plan.targetColumns.map((c) => c.name);
  if (promotable(target, plan)) {
    const final = stagedInFinalShape(target, plan);
    const notNull = final ? [] : plan.targetColumns.filter((c) => !c.nullable && !plan.key.includes(c.name)).map((c) => c.name);
    for (const statement of promoteStatements(target, staged, notNull, keyAtStaging(target, plan) ? [] : plan.key, runId)) await target.execute(statement);
    return { inserted: staged.rows, updated: 0, rejected: [] };
  }
  // The update (if any columns can differ) and the insert: statements without values, in one round trip where the engine batches.
  const write: Writes = {
    statements: (filter) => {
      if (plan.mode === 'replace' || plan.mode === 'append') return [sql.insertFromStaging(plan.targetName, staging, columns, filter)];
      const update = sql.updateChangedFromStaging(plan.targetName, staging, plan.targetColumns, plan.key, filter);
      return [...(update ? [update] : []), sql.insertMissingFromStaging(plan.targetName, staging, columns, plan.key, filter)];
    },
    counts: (counts) => (plan.mode === 'replace' || plan.mode === 'append' ? { inserted: counts[0], updated: 0 } : { inserted: counts[counts.length - 1], updated: counts.length > 1 ? counts[0] : 0 }),
  };
  if (!isolate) return { ...write.counts(await executeCounted(target, write.statements())), rejected: [] };
  const whole = await attempt(target, write.statements());
  if (whole.ok) return { ...write.counts(whole.counts), rejected: [] };
  return isolateRejected(target, { ...staged, staging }, write, countRejected);
}

/** A table's writes from staging (rows `filter` alone, when given), and what their affected rows mean. */
interface Writes {
  statements(filter?: string): string[];
  counts(counts: number[]): { inserted: number; updated: number };
}

interface WriteResult {
  inserted: number;
  updated: number;
  rejected: RejectedRow[];
}

/** A staged row the target refused at apply, with the database's reason. */
export interface RejectedRow {
  tableIndex: number;
  row: Row;
  reason: string;
}

let savepoints = 0;

/**
 * Run statements (without values) under a savepoint: a row-level failure rolls
 * back only their changes. The savepoint, the statements and its release in one
 * round trip where the engine batches (which stops at the first error: the
 * savepoint, sent first, is set when a statement after it fails). Each statement's affected rows.
 */
async function attempt(target: Session, statements: string[]): Promise<{ ok: true; counts: number[] } | { ok: false; error: unknown }> {
  const sql = target.applySql;
  const name = `dbferry_sp_${++savepoints}`;
  try {
    const counts = await executeCounted(target, [sql.savepoint(name), ...statements, sql.releaseSavepoint(name)]);
    return { ok: true, counts: counts.slice(1, -1) };
  } catch (error) {
    if (!isRowRejection(error)) throw error;
    await executeCounted(target, [sql.rollbackToSavepoint(name), sql.releaseSavepoint(name)]);
    return { ok: false, error };
  }
}

/**
 * The table's rows as a whole were refused: bisect the staged row numbers
 * (as pgloader does with batches) until the refused rows stand alone; every
 * range that succeeds stays applied inside the transaction.
 */
async function isolateRejected(
  target: Session,
  { plan, staging }: StagedTable,
  write: Writes,
  countRejected: (found: readonly RejectedRow[]) => void,
): Promise<WriteResult> {
  const sql = target.applySql;
  const q = (n: string) => target.quoteIdentifier(n);
  if (target.dialect.capabilities.transactionalDdl) await target.createIndex(staging, `${staging.name}_row`, [ROW_COLUMN]);
  const bounds = await target.query(`SELECT min(${q(ROW_COLUMN)}), max(${q(ROW_COLUMN)}) FROM ${target.quoteTable(staging)}`);
  const result: WriteResult = { inserted: 0, updated: 0, rejected: [] };
  const [lo, hi] = bounds.rows[0].map((v) => Number(v));
  const bisect = async (from: number, to: number): Promise<void> => {
    const r = await attempt(target, write.statements(sql.rowRange(ROW_COLUMN, from, to)));
    if (r.ok) {
      const c = write.counts(r.counts);
      result.inserted += c.inserted;
      result.updated += c.updated;
    } else if (from === to) {
      result.rejected.push({ tableIndex: plan.index, row: await stagedRow(target, plan, staging, from), reason: errorMessage(r.error) });
      countRejected(result.rejected);
    } else {
      const mid = Math.floor((from + to) / 2);
      await bisect(from, mid);
      await bisect(mid + 1, to);
    }
  };
  if (Number.isFinite(lo) && Number.isFinite(hi)) await bisect(lo, hi);
  return result;
}

async function stagedRow(target: Session, plan: TablePlan, staging: TableName, rowNumber: number): Promise<Row> {
  const where = `${target.quoteIdentifier(ROW_COLUMN)} = ${rowNumber}`;
  for await (const batch of target.readRows({ table: staging, columns: plan.targetColumns, orderBy: [], where, batchRows: 1 })) {
    if (batch.length) return batch[0];
  }
  return [];
}
