/**
 * Apply: make the staged rows the target's, for every table of the job, in
 * one short transaction. Deletes run children-first, inserts parents-first,
 * so foreign keys hold at every step. Any failure rolls everything back.
 */
import type { JobOptions } from '../../../shared/jobSpec.js';
import type { Session } from '../dialects/dialect.js';
import type { TableName } from '../types.js';
import type { TablePlan } from './plan.js';

export interface AppliedCounts {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface StagedTable {
  plan: TablePlan;
  staging: TableName;
}

export async function applyAll(
  target: Session,
  staged: StagedTable[],
  options: JobOptions,
  onApplied: (table: StagedTable, counts: AppliedCounts) => void,
): Promise<void> {
  const created: TableName[] = [];
  const ddlOutside = !target.dialect.capabilities.transactionalDdl;
  // Engines whose DDL commits implicitly (MySQL) create missing tables first and drop them if apply fails.
  if (ddlOutside) {
    for (const s of staged) if (s.plan.createTarget) created.push(await createTarget(target, s.plan));
  }
  const counts = new Map<StagedTable, AppliedCounts>(staged.map((s) => [s, { inserted: 0, updated: 0, deleted: 0 }]));
  try {
    await target.transaction(async () => {
      if (!ddlOutside) for (const s of staged) if (s.plan.createTarget) await createTarget(target, s.plan);
      for (const s of [...staged].reverse()) counts.get(s)!.deleted += await deletePhase(target, s);
      for (const s of staged) {
        const c = await writePhase(target, s);
        const total = counts.get(s)!;
        total.inserted += c.inserted;
        total.updated += c.updated;
      }
    }, options.isolation.target);
  } catch (err) {
    for (const name of created) await target.dropTable(name).catch(() => undefined);
    throw err;
  }
  for (const s of staged) onApplied(s, counts.get(s)!);
}

async function createTarget(target: Session, plan: TablePlan): Promise<TableName> {
  await target.createTable({
    name: plan.targetName,
    columns: plan.targetColumns.map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: c.nullable })),
    primaryKey: plan.key,
  });
  return plan.targetName;
}

async function deletePhase(target: Session, { plan, staging }: StagedTable): Promise<number> {
  const sql = target.applySql;
  if (plan.mode === 'replace') return target.execute(sql.deleteAll(plan.targetName));
  if (plan.mode === 'mirror') return target.execute(sql.deleteAbsentFromStaging(plan.targetName, staging, plan.key));
  return 0;
}

async function writePhase(target: Session, { plan, staging }: StagedTable): Promise<{ inserted: number; updated: number }> {
  const sql = target.applySql;
  const columns = plan.targetColumns.map((c) => c.name);
  if (plan.mode === 'replace' || plan.mode === 'append') {
    return { inserted: await target.execute(sql.insertFromStaging(plan.targetName, staging, columns)), updated: 0 };
  }
  const update = sql.updateFromStaging(plan.targetName, staging, columns, plan.key);
  const updated = update ? await target.execute(update) : 0;
  const inserted = await target.execute(sql.insertMissingFromStaging(plan.targetName, staging, columns, plan.key));
  return { inserted, updated };
}
