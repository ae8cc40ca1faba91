/**
 * Upsert and mirror into a table that exists write only the rows that differ.
 * One pass over the staged rows and the target finds them (new keys, or any
 * column that differs, compared exactly by the dialect), into a table of
 * their own: the backup, the update and the insert then read only that, and
 * an unchanged row costs one comparison, no write and no backup.
 */
import type { Session } from '../dialects/dialect.js';
import type { TableName } from '../types.js';
import type { StagedTable } from './apply.js';
import type { TablePlan } from './plan.js';
import { promotable } from './stage.js';

export function needsDelta(target: Session, plan: TablePlan): boolean {
  return (plan.mode === 'upsert' || plan.mode === 'mirror') && plan.key.length > 0 && !plan.createTarget && !promotable(target, plan);
}

export function deltaTableName(staging: TableName): TableName {
  return { schema: staging.schema, name: `${staging.name}_d` };
}

/** Mirror: the keys of the target rows the source no longer has, found once for the backup and the delete. */
export function goneTableName(staging: TableName): TableName {
  return { schema: staging.schema, name: `${staging.name}_g` };
}

/** The delta table, and for a mirror the gone keys' table: the tables it created. */
export async function stageDelta(target: Session, { plan, staging }: StagedTable): Promise<{ delta: TableName; gone?: TableName }> {
  const delta = deltaTableName(staging);
  await target.dropTable(delta);
  for (const sql of target.applySql.copyDiffering(plan.targetName, staging, delta, plan.targetColumns, plan.key)) await target.execute(sql);
  if (plan.mode !== 'mirror') return { delta };
  const gone = goneTableName(staging);
  await target.dropTable(gone);
  for (const sql of target.applySql.copyAbsentKeys(plan.targetName, staging, gone, plan.key)) await target.execute(sql);
  return { delta, gone };
}
