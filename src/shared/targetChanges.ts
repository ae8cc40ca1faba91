/**
 * What a run changed in the target, for a headline: the rows it wrote
 * (inserted or updated), the rows it deleted, and the rows it found there as
 * they are. A re-sync stages rows it then leaves alone, so "written" must not
 * be the rows staged (a run that changed nothing said "8,672 written").
 */
import type { RunSummary, TableSummary } from './events.js';
import { formatCount } from './numbers.js';

export interface TargetChanges {
  written: number;
  deleted: number;
  unchanged: number;
}

export function targetChanges(s: Pick<RunSummary, 'rowsWritten'> & { tables?: TableSummary[] }): TargetChanges {
  const tables = s.tables ?? [];
  if (!tables.some((t) => t.applied)) return { written: s.rowsWritten, deleted: 0, unchanged: 0 };
  const c: TargetChanges = { written: 0, deleted: 0, unchanged: 0 };
  for (const t of tables) {
    if (!t.applied) {
      c.written += t.rowsWritten;
      continue;
    }
    c.written += t.applied.inserted + t.applied.updated;
    c.deleted += t.applied.deleted;
    c.unchanged += t.applied.unchanged;
  }
  return c;
}

/** "3,000 written, 1,000 deleted, 996,000 unchanged"; "8,672 written" where nothing was found unchanged. */
export function changesText(c: TargetChanges, n: (v: number) => string = formatCount): string {
  return [`${n(c.written)} written`, c.deleted ? `${n(c.deleted)} deleted` : '', c.unchanged ? `${n(c.unchanged)} unchanged` : ''].filter(Boolean).join(', ');
}
