/**
 * A row in the target, written inside the apply transaction, that says "run X
 * is applied". After a crash between the commit and the store's record of it,
 * `resume` finds the marker and does not apply the run a second time.
 */
import type { Session, TableDef } from '../dialects/dialect.js';
import { STAGING_PREFIX } from '../naming.js';
import type { TableName } from '../types.js';
import { ensureOwnTable, tableExists } from './ownTable.js';

const RUN_ID = /^[0-9a-f-]{36}$/i;

function markerTable(target: Session, schema?: string): TableName {
  return { schema, name: `${STAGING_PREFIX}applied_runs` };
}

export function checkedRunId(runId: string): string {
  // The run id is dbferry's own UUID; checked, then written as a literal so the
  // statement reads the same in every engine's placeholder style.
  if (!RUN_ID.test(runId)) throw new Error(`invalid run id ${runId}`);
  return runId;
}

export async function ensureMarkerTable(target: Session, schema?: string): Promise<void> {
  await ensureOwnTable(target, markerTableDef(target, schema));
}

/** The marker table as ensureMarkerTable creates it. */
export function markerTableDef(target: Session, schema?: string): TableDef {
  return {
    name: markerTable(target, schema),
    columns: [
      { name: 'run_id', nativeType: target.mapType({ kind: 'text', maxLength: 36 }).nativeType, nullable: false },
      { name: 'applied_at', nativeType: target.mapType({ kind: 'text', maxLength: 32 }).nativeType, nullable: false },
    ],
    primaryKey: ['run_id'],
  };
}

/** Inside the apply transaction. The marker's INSERT: dbferry's own checked run id and an ISO time, no parameters (it may go in a StatementBatch). */
export function markAppliedSql(target: Session, runId: string, schema?: string): string {
  return (
    `INSERT INTO ${target.quoteTable(markerTable(target, schema))} (${target.quoteIdentifier('run_id')}, ${target.quoteIdentifier('applied_at')}) ` +
    `VALUES ('${checkedRunId(runId)}', '${new Date().toISOString()}')`
  );
}

export async function wasApplied(target: Session, runId: string, schema?: string): Promise<boolean> {
  const name = markerTable(target, schema);
  if (!(await tableExists(target, name))) return false;
  const r = await target.query(`SELECT 1 FROM ${target.quoteTable(name)} WHERE ${target.quoteIdentifier('run_id')} = '${checkedRunId(runId)}'`);
  return r.rows.length > 0;
}

/** The run was undone after its commit (MySQL: its schema could not be built): it is no longer applied. */
export async function unmarkApplied(target: Session, runId: string, schema?: string): Promise<void> {
  await target.execute(`DELETE FROM ${target.quoteTable(markerTable(target, schema))} WHERE ${target.quoteIdentifier('run_id')} = '${checkedRunId(runId)}'`);
}
