/** What a "run finished" desktop notification says, in the desktop app and in the browser alike. */
import type { RunSummary } from './events.js';
import { changesText, targetChanges } from './targetChanges.js';
import { formatCount } from './numbers.js';

export function runFinishedText(summary: Pick<RunSummary, 'status' | 'rowsWritten' | 'rowsDeadLettered' | 'error'> & { tables?: RunSummary['tables'] }): { title: string; body: string } {
  const body =
    summary.status === 'succeeded'
      ? `Verified: ${changesText(targetChanges(summary))}`
      : summary.status === 'dead-lettered'
        ? `${formatCount(summary.rowsDeadLettered)} rows in the dead-letter queue`
        : (summary.error ?? summary.status);
  return { title: `dbferry: run ${summary.status}`, body };
}
