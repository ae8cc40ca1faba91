/** What a "run finished" desktop notification says, in the desktop app and in the browser alike. */
import type { RunSummary } from './events.js';

export function runFinishedText(summary: Pick<RunSummary, 'status' | 'rowsWritten' | 'rowsDeadLettered' | 'error'>): { title: string; body: string } {
  const body =
    summary.status === 'succeeded'
      ? `${summary.rowsWritten.toLocaleString()} rows written and verified`
      : summary.status === 'dead-lettered'
        ? `${summary.rowsDeadLettered.toLocaleString()} rows in the dead-letter queue`
        : (summary.error ?? summary.status);
  return { title: `dbferry: run ${summary.status}`, body };
}
