/**
 * Replace into a table that exists: by swap where nothing pins the old table.
 * The rows are staged into a table of the target's shape (as for a new
 * table), and the apply renames the old table to be the run's backup and the
 * staged one into place: an exclusive lock for a rename, where DELETE + INSERT
 * holds row locks for the whole apply, and no row is copied to back it up.
 * Where something would be lost or stay with the old table, the plan says so
 * and replace runs in place as before.
 */
import type { Session, SwapCheck } from '../dialects/dialect.js';
import type { TablePlan } from './plan.js';

export interface SwapPlan {
  primaryKeyName?: string;
}

/** How a table's rows reach it, for the plan: fresh copy, swap, in place, and why. */
export function describePath(plan: Pick<TablePlan, 'createTarget' | 'mode' | 'swap'>, reasons: string[] = []): string {
  if (plan.createTarget) return 'fresh copy: the table is created from the staged rows';
  if (plan.swap) return 'swap: the staged table is renamed into place, the old one kept as the backup';
  if (plan.mode === 'replace') return `in place (DELETE + INSERT): ${reasons.join('; ')}`;
  return plan.mode === 'append' ? 'in place: staged rows are inserted' : 'in place: only rows that differ are written';
}

/** Whether a replace into an existing table can swap; if not, why. */
export async function planSwap(target: Session, plan: Pick<TablePlan, 'mode' | 'targetInfo' | 'targetColumns' | 'key' | 'incremental' | 'targetName'>): Promise<{ swap?: SwapPlan; reasons: string[] }> {
  const info = plan.targetInfo;
  if (plan.mode !== 'replace' || !info) return { reasons: [] };
  const reasons: string[] = [];
  const caps = target.dialect.capabilities;
  if (!target.swapCheck || !caps.promoteStaging || !caps.stagingInFinalShape || !target.applySql.swapStaging) reasons.push('this engine swaps no tables yet');
  const names = (cols: { name: string }[]) => cols.map((c) => c.name).join('\u0000');
  if (names(info.columns) !== names(plan.targetColumns)) reasons.push('the job copies other columns than the table has, or in another order');
  if (info.primaryKey.join('\u0000') !== plan.key.join('\u0000')) reasons.push("the table's primary key is not the job's key");
  // Staged rows are told apart by key on resume: integer keys (see stagedInFinalShape).
  if (plan.key.length && !plan.key.every((k) => plan.targetColumns.find((c) => c.name === k)?.type.kind === 'integer')) reasons.push('its key is not an integer (not yet swapped)');
  if (plan.incremental) reasons.push('an incremental table keeps the rows of earlier runs');
  if (reasons.length) return { reasons };
  const check: SwapCheck = await target.swapCheck!(plan.targetName);
  if (check.blockers.length) return { reasons: check.blockers };
  return { swap: { primaryKeyName: check.primaryKeyName }, reasons: [] };
}
