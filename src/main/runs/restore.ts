/**
 * Undo a run from its backups: the store says which backup tables hold what,
 * the engine puts the rows back.
 */
import { jobSpecSchema, type JobSpec } from '../../shared/jobSpec.js';
import { openEndpoint } from '../engine/connect.js';
import type { BackupRecord } from '../engine/pipeline/apply.js';
import { restoreBackups, type RestoredTable } from '../engine/pipeline/restore.js';
import { listBackups, markBackups } from '../store/runState.js';
import type { Store } from '../store/store.js';
import { RunError, redactSpec } from './runner.js';

export async function restoreRun(store: Store, idOrPrefix: string, given?: JobSpec): Promise<{ runId: string; tables: RestoredTable[] }> {
  const run = store.findRun(idOrPrefix);
  if (!run) throw new RunError(`no run "${idOrPrefix}" in the history (see \`dbferry runs\`)`);
  const backups = listBackups(store, { runId: run.id }).filter((b) => !b.restoredAt && !b.droppedAt);
  if (backups.length === 0) {
    const any = listBackups(store, { runId: run.id });
    throw new RunError(
      any.length
        ? `run ${run.id} was already undone, or its backups were pruned (options.backups.keep)`
        : `run ${run.id} has no backups: it changed nothing, or it failed and was rolled back, or backups were off`,
    );
  }
  const later = listBackups(store).filter(
    (b) => b.id > Math.max(...backups.map((x) => x.id)) && !b.restoredAt && b.targetUrl === backups[0].targetUrl && backups.some((x) => x.targetTable === b.targetTable),
  );
  if (later.length) {
    const runs = [...new Set(later.map((b) => b.runId.slice(0, 8)))];
    throw new RunError(`later runs (${runs.join(', ')}) changed the same tables; restore them first (newest first), then this one`);
  }
  const stored = jobSpecSchema.parse(JSON.parse(run.specJson));
  let spec = stored;
  if (given) {
    if (JSON.stringify(redactSpec(given).target) !== JSON.stringify(stored.target)) throw new RunError(`the job file's target is not the target of run ${run.id}`);
    spec = given;
  } else if (stored.target.url.includes('••••')) {
    throw new RunError(`run ${run.id}'s target needs a password dbferry does not store; pass the job file: dbferry backups restore ${run.id.slice(0, 8)} --job JOB.json`);
  }
  const target = await openEndpoint(spec.target.url, { baseDir: run.baseDir, role: 'target', schema: spec.target.schema, ssh: spec.target.ssh });
  try {
    const tables = await restoreBackups(target, backups.map((b) => b.record as BackupRecord), spec.options.isolation.target, run.id);
    markBackups(store, backups.map((b) => b.id), 'restored_at');
    return { runId: run.id, tables };
  } finally {
    await target.close();
  }
}
