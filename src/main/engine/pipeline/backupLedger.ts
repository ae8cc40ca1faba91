/**
 * The run's backup records, written in the target inside the apply
 * transaction, with the "applied" marker. The local store learns of them only
 * after the apply; a process killed in between (or, on MySQL/MariaDB, between
 * the commit and the swap's RENAME TABLE, or right after it) would leave the
 * target changed and the store with nothing to undo it by. `resume` reads them
 * here and records them in the store; once recorded they are deleted.
 */
import type { Session, TableDef } from '../dialects/dialect.js';
import { STAGING_PREFIX } from '../naming.js';
import type { TableName } from '../types.js';
import type { BackupRecord } from './apply.js';
import { checkedRunId } from './marker.js';
import { ensureOwnTable, tableExists } from './ownTable.js';

function ledgerTable(schema?: string): TableName {
  return { schema, name: `${STAGING_PREFIX}applied_backups` };
}

/** Before the apply transaction: the table is DDL. */
export async function ensureBackupLedger(target: Session, schema?: string): Promise<void> {
  await ensureOwnTable(target, backupLedgerDef(target, schema));
}

/** The ledger table as ensureBackupLedger creates it. */
export function backupLedgerDef(target: Session, schema?: string): TableDef {
  return {
    name: ledgerTable(schema),
    columns: [
      { name: 'run_id', nativeType: target.mapType({ kind: 'text', maxLength: 36 }).nativeType, nullable: false },
      { name: 'records', nativeType: target.mapType({ kind: 'text' }).nativeType, nullable: false },
    ],
    primaryKey: ['run_id'],
  };
}

/** Inside the apply transaction, with the "applied" marker. */
export async function recordBackupsInTarget(target: Session, runId: string, records: BackupRecord[], schema?: string): Promise<void> {
  const mark = target.dialect.schema!.placeholder(1);
  await target.execute(
    `INSERT INTO ${target.quoteTable(ledgerTable(schema))} (${target.quoteIdentifier('run_id')}, ${target.quoteIdentifier('records')}) VALUES ('${checkedRunId(runId)}', ${mark})`,
    [JSON.stringify(records)],
  );
}

/** The backups an applied run recorded in the target and the store has not yet taken; undefined when there are none. */
export async function backupsInTarget(target: Session, runId: string, schema?: string): Promise<BackupRecord[] | undefined> {
  const name = ledgerTable(schema);
  if (!(await tableExists(target, name))) return undefined;
  const r = await target.query(`SELECT ${target.quoteIdentifier('records')} FROM ${target.quoteTable(name)} WHERE ${target.quoteIdentifier('run_id')} = '${checkedRunId(runId)}'`);
  const v = r.rows[0]?.[0];
  if (v === undefined || v === null) return undefined;
  return JSON.parse(typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8')) as BackupRecord[];
}

/**
 * The store has them: the target's copy is done with. Only for records the
 * ledger holds (the apply wrote them there, or backupsInTarget read them), so
 * the table is there: no round trip to look for it first.
 */
export async function clearBackupsInTarget(target: Session, runId: string, schema?: string): Promise<void> {
  const name = ledgerTable(schema);
  await target.execute(`DELETE FROM ${target.quoteTable(name)} WHERE ${target.quoteIdentifier('run_id')} = '${checkedRunId(runId)}'`);
}
