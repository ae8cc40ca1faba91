import { type RunDto, displayUrl } from '../../../shared/api.js';
import type { RunRecord } from '../../store/store.js';

function verification(run: RunRecord): RunDto['verification'] {
  const tables = run.summary?.tables ?? [];
  const results = new Set(tables.map((t) => t.verified).filter((v) => v !== undefined));
  if (results.size === 0) return null;
  if (results.has('mismatch')) return 'mismatch';
  return results.size === 1 ? [...results][0]! : 'mixed';
}

export function toRunDto(run: RunRecord, active: boolean): RunDto {
  const end = run.finishedAt ? Date.parse(run.finishedAt) : run.status === 'running' && active ? Date.now() : NaN;
  const duration = run.summary?.durationMs ?? end - Date.parse(run.startedAt);
  return {
    id: run.id,
    jobId: run.jobId,
    jobName: run.jobName,
    source: displayUrl(run.source),
    target: displayUrl(run.target),
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: Number.isFinite(duration) ? duration : null,
    rowsRead: run.rowsRead,
    rowsWritten: run.rowsWritten,
    rowsDeadLettered: run.rowsDeadLettered,
    error: run.error,
    verification: verification(run),
    tables: run.summary?.tables ?? [],
    active,
  };
}
