/**
 * Stage: stream one table from the source into a staging table in the target,
 * in bounded batches, reporting progress and checkpointing each batch.
 */
import type { Session } from '../dialects/dialect.js';
import { FerryError } from '../errors.js';
import type { Row, TableName } from '../types.js';
import type { TablePlan } from './plan.js';

export interface StageHooks {
  signal?: AbortSignal;
  batchRows: number;
  /** Called after each batch is durably in the staging table. */
  onBatch(progress: { rowsRead: number; rowsWritten: number; lastKey?: Row }): void;
}

export interface StageResult {
  rowsRead: number;
  rowsWritten: number;
}

export async function createStagingTable(plan: TablePlan, target: Session, staging: TableName): Promise<void> {
  await target.dropTable(staging);
  await target.createTable({
    name: staging,
    // No constraints on staging: the apply step, in one transaction, is where they are enforced.
    columns: plan.targetColumns.map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: true })),
    primaryKey: [],
  });
}

export async function stageTable(plan: TablePlan, source: Session, target: Session, staging: TableName, hooks: StageHooks): Promise<StageResult> {
  let rowsRead = 0;
  let rowsWritten = 0;
  const keyIdx = plan.orderBy.map((k) => plan.columns.findIndex((c) => c.name === k));
  const rows = source.readRows({
    table: plan.sourceName,
    columns: plan.columns,
    orderBy: plan.orderBy,
    where: plan.spec.where,
    batchRows: hooks.batchRows,
  });
  for await (const batch of rows) {
    if (hooks.signal?.aborted) throw new FerryError('cancelled', 'the run was cancelled');
    rowsRead += batch.length;
    await target.insertRows(staging, plan.targetColumns, batch);
    rowsWritten += batch.length;
    const last = batch[batch.length - 1];
    hooks.onBatch({ rowsRead, rowsWritten, lastKey: keyIdx.length ? keyIdx.map((i) => last[i]) : undefined });
  }
  if (plan.key.length) {
    // The apply step joins staging to the target by key: index it once it is full.
    await target.createIndex(staging, `${staging.name}_key`, plan.key);
  }
  return { rowsRead, rowsWritten };
}
