/**
 * Undo a run: put every table it changed back as it was, from the backups
 * taken just before its apply step, in one transaction (children's deletes
 * first, parents' inserts first; overwritten rows are updated back in place).
 * Tables the run created are dropped.
 */
import type { Session, TargetIsolation } from '../dialects/dialect.js';
import { FerryError } from '../errors.js';
import { tableLabel } from '../types.js';
import type { BackupRecord } from './apply.js';
import { writeWatermark } from './watermark.js';

export interface RestoredTable {
  table: string;
  kind: BackupRecord['kind'];
  deleted: number;
  inserted: number;
}

export async function restoreBackups(target: Session, records: BackupRecord[], isolation: TargetIsolation, runId: string): Promise<RestoredTable[]> {
  // Apply order was parents first; undo children first.
  const ordered = [...records].sort((a, b) => b.tableIndex - a.tableIndex);
  for (const r of ordered) {
    for (const t of [r.rowsTable, r.keysTable]) {
      if (t && !(await target.describeTable(t))) {
        throw new FerryError('schema', `the backup table ${tableLabel(t)} of ${tableLabel(r.target)} is gone from the target; this run can no longer be undone`);
      }
    }
  }
  // A table replaced by swap is swapped back where nothing now pins the one in place; else its rows are copied back.
  const swapBack = new Set<BackupRecord>();
  for (const r of ordered) if (await canSwapBack(target, r)) swapBack.add(r);
  await indexBackups(target, ordered.filter((r) => !swapBack.has(r)));
  const results = new Map<BackupRecord, RestoredTable>(ordered.map((r) => [r, { table: tableLabel(r.target), kind: r.kind, deleted: 0, inserted: 0 }]));
  const sql = target.applySql;
  const ddlInTx = target.dialect.capabilities.transactionalDdl;
  const drops = ordered.filter((r) => r.kind === 'created');
  await target.transaction(async () => {
    for (const r of swapBack) {
      results.get(r)!.deleted = await target.countRows(r.target);
      results.get(r)!.inserted = await target.countRows(r.rowsTable!);
    }
    for (const r of ordered) {
      const out = results.get(r)!;
      if (swapBack.has(r)) continue;
      if (r.kind === 'table') out.deleted += await target.execute(sql.deleteAll(r.target));
      if ((r.kind === 'rows' || r.kind === 'keys') && r.keysTable) out.deleted += await target.execute(sql.deleteMatching(r.target, r.keysTable, r.key));
    }
    for (const r of [...ordered].reverse()) {
      if ((r.kind === 'table' || r.kind === 'rows') && r.rowsTable && !swapBack.has(r)) {
        const info = await target.describeTable(r.rowsTable);
        // A table the run rebuilt (plan.rebuild) no longer has dbferry's leftover columns: its rows go back without them.
        // The columns the target computes itself (generated) take no value.
        const now = new Set((await target.describeTable(r.target))?.columns.filter((c) => !c.generated).map((c) => c.name));
        const columns = info!.columns.map((c) => c.name).filter((c) => now.has(c));
        if (r.kind === 'table') results.get(r)!.inserted += await target.execute(sql.insertFromStaging(r.target, r.rowsTable, columns));
        else {
          // Overwritten rows get their old values in place: deleted and inserted again, a parent row
          // would break the foreign keys of rows that still reference it.
          const update = sql.updateFromStaging(r.target, r.rowsTable, columns, r.key);
          if (update) results.get(r)!.inserted += await target.execute(update);
          results.get(r)!.inserted += await target.execute(sql.insertMissingFromStaging(r.target, r.rowsTable, columns, r.key));
        }
      }
    }
    // Rows past the old watermark are gone again: the next run copies them again.
    for (const r of ordered) {
      if (r.watermark) await writeWatermark(target, r.target.schema, runId, { flow: r.watermark.flow, targetTable: r.watermark.targetTable, value: r.watermark.previous });
    }
    if (ddlInTx) for (const r of drops) await target.dropTable(r.target);
    if (ddlInTx) for (const r of swapBack) for (const s of sql.swapBack!(r.target, r.rowsTable!, r.swapped?.primaryKeyName)) await target.execute(s);
  }, isolation);
  if (!ddlInTx) for (const r of swapBack) for (const s of sql.swapBack!(r.target, r.rowsTable!, r.swapped?.primaryKeyName)) await target.execute(s);
  // MySQL: DROP TABLE commits implicitly, so tables the run created go after the data is back.
  if (!ddlInTx) for (const r of drops) await target.dropTable(r.target);
  for (const r of ordered) {
    for (const t of [r.rowsTable, r.keysTable]) if (t) await target.dropTable(t).catch(() => undefined);
  }
  return ordered.map((r) => results.get(r)!);
}

async function canSwapBack(target: Session, r: BackupRecord): Promise<boolean> {
  if (r.kind !== 'table' || !r.swapped || !r.rowsTable || !target.applySql.swapBack || !target.swapCheck) return false;
  return (await target.swapCheck(r.target)).blockers.length === 0;
}

/**
 * Backup tables are written at apply without indexes (keeping apply short);
 * restore matches them to the target by key, which without an index is a scan
 * per target row on MySQL and SQLite (minutes for a table of 20k rows).
 * Best effort: a backup that cannot be indexed is restored all the same.
 */
async function indexBackups(target: Session, records: BackupRecord[]): Promise<void> {
  for (const r of records) {
    if (r.key.length === 0) continue;
    for (const t of [r.rowsTable, r.keysTable]) {
      if (t) await target.createIndex(t, `${t.name}_key`, r.key).catch(() => undefined);
    }
  }
}
