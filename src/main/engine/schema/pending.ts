/**
 * Where DDL commits on its own (MySQL/MariaDB), the schema of the new tables
 * is built after the apply's commit. What is left to build is written in the
 * target inside that transaction, with the "applied" marker, and deleted when
 * the schema step ends: a run killed in between finds it on `resume`, which
 * builds what is not there yet (an index or key that exists is skipped).
 */
import type { Session } from '../dialects/dialect.js';
import { STAGING_PREFIX } from '../naming.js';
import type { TableName } from '../types.js';
import { ensureOwnTable, tableExists } from '../pipeline/ownTable.js';
import { checkedRunId } from '../pipeline/marker.js';
import type { TableWork } from './model.js';

function pendingTable(schema?: string): TableName {
  return { schema, name: `${STAGING_PREFIX}schema_pending` };
}

/** Before the apply transaction: the table is DDL. */
export async function ensurePendingTable(target: Session, schema?: string): Promise<void> {
  await ensureOwnTable(target, {
    name: pendingTable(schema),
    columns: [
      { name: 'run_id', nativeType: target.mapType({ kind: 'text', maxLength: 36 }).nativeType, nullable: false },
      { name: 'work', nativeType: target.mapType({ kind: 'text' }).nativeType, nullable: false },
    ],
    primaryKey: ['run_id'],
  });
}

/** Inside the apply transaction, with the "applied" marker. */
export async function recordPendingSchema(target: Session, runId: string, works: TableWork[], schema?: string): Promise<void> {
  const mark = target.dialect.schema!.placeholder(1);
  await target.execute(
    `INSERT INTO ${target.quoteTable(pendingTable(schema))} (${target.quoteIdentifier('run_id')}, ${target.quoteIdentifier('work')}) VALUES ('${checkedRunId(runId)}', ${mark})`,
    [JSON.stringify(works)],
  );
}

/** The schema a run applied but did not finish building; undefined when there is none. */
export async function pendingSchema(target: Session, runId: string, schema?: string): Promise<TableWork[] | undefined> {
  const name = pendingTable(schema);
  if (!(await tableExists(target, name))) return undefined;
  const r = await target.query(`SELECT ${target.quoteIdentifier('work')} FROM ${target.quoteTable(name)} WHERE ${target.quoteIdentifier('run_id')} = '${checkedRunId(runId)}'`);
  const v = r.rows[0]?.[0];
  if (v === undefined || v === null) return undefined;
  return JSON.parse(typeof v === 'string' ? v : Buffer.from(v as Uint8Array).toString('utf8')) as TableWork[];
}

export async function clearPendingSchema(target: Session, runId: string, schema?: string): Promise<void> {
  const name = pendingTable(schema);
  await target.execute(`DELETE FROM ${target.quoteTable(name)} WHERE ${target.quoteIdentifier('run_id')} = '${checkedRunId(runId)}'`);
}
