import type { RunEvent } from '../../../../shared/events';
import { fmtDuration, fmtInt } from '../../components/format';

/** One line of the job log, in words. */
export function describeEvent(e: RunEvent): string {
  switch (e.type) {
    case 'run-started':
      return `Run of “${e.job}” started: ${e.source} → ${e.target}`;
    case 'plan':
      return `Planned ${e.tables.length} table${e.tables.length === 1 ? '' : 's'}: ${e.tables.map((t) => `${t.source} → ${t.target} (${t.mode}${t.createTarget ? ', create' : ''})`).join('; ')}${e.warnings.length ? `; ${e.warnings.length} warning(s)` : ''}`;
    case 'table-started':
      return `Copying into staging${e.estimate !== undefined ? `, ~${fmtInt(e.estimate)} rows` : ''} → ${e.target}`;
    case 'progress':
      if (e.phase === 'applying' && e.step) return `applying: ${e.step} (${fmtDuration(e.stepElapsedMs ?? 0)}), ~${fmtInt(e.rowsApplied ?? 0)}${e.estimate ? ` of ${fmtInt(e.estimate)}` : ''} rows applied, ${fmtInt(e.rowsPerSecond)} rows/s${e.etaMs !== undefined ? `, ETA ${fmtDuration(e.etaMs)}` : ''}`;
      if (e.rowsVerified !== undefined) return `verifying: ${fmtInt(e.rowsVerified)}${e.estimate ? ` of ~${fmtInt(e.estimate)}` : ''} rows compared, ${fmtInt(e.rowsPerSecond)} rows/s`;
      return `${e.phase}: ${fmtInt(e.rowsRead)} read, ${fmtInt(e.rowsWritten)} written${e.estimate ? ` of ~${fmtInt(e.estimate)}` : ''}, ${fmtInt(e.rowsPerSecond)} rows/s`;
    case 'table-staged':
      return `Staged ${fmtInt(e.rowsWritten)} of ${fmtInt(e.rowsRead)} rows read in ${fmtDuration(e.durationMs)}`;
    case 'compared':
      return `Compared before copying: ${e.path}`;
    case 'apply-started':
      return `Applying ${e.tables.length} table${e.tables.length === 1 ? '' : 's'} in one transaction`;
    case 'table-applied':
      return `Applied: ${fmtInt(e.inserted)} inserted, ${fmtInt(e.updated)} updated, ${fmtInt(e.deleted)} deleted${e.unchanged ? `, ${fmtInt(e.unchanged)} unchanged` : ''}`;
    case 'apply-committed':
      return `Committed in ${fmtDuration(e.durationMs)}`;
    case 'schema-started':
      return `${e.resumed ? 'Finishing' : 'Building'} the indexes, keys and counters of ${e.tables.length} new table${e.tables.length === 1 ? '' : 's'}`;
    case 'verify':
      return `Verified by ${e.method}: ${e.ok ? 'match' : 'MISMATCH'}, source ${fmtInt(e.sourceRows)} rows, target ${fmtInt(e.targetRows)}${e.mismatches.length ? `; ${e.mismatches.join('; ')}` : ''}`;
    case 'warning':
      return e.message;
    case 'retry':
      return `Retry ${e.attempt} in ${fmtDuration(e.delayMs)}: ${e.message}`;
    case 'error':
      return e.message;
    case 'summary':
      return `Run ${e.status}: ${fmtInt(e.rowsRead)} read, ${fmtInt(e.rowsWritten)} written, ${fmtInt(e.rowsDeadLettered)} dead-lettered in ${fmtDuration(e.durationMs)}${e.error ? `: ${e.error}` : ''}`;
  }
}

export function eventTable(e: RunEvent): string | undefined {
  return 'table' in e && typeof e.table === 'string' ? e.table : undefined;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export function eventLevel(e: RunEvent): LogLevel {
  switch (e.type) {
    case 'error':
      return 'error';
    case 'warning':
    case 'retry':
      return 'warn';
    case 'verify':
      return e.ok ? 'info' : 'error';
    case 'summary':
      return e.status === 'succeeded' ? 'info' : e.status === 'dead-lettered' ? 'warn' : 'error';
    case 'progress':
      return 'debug';
    default:
      return 'info';
  }
}
