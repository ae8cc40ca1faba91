/**
 * Names dbferry gives its own tables in a target. The prefix keeps them apart
 * from user tables, and introspection hides them.
 */
export const STAGING_PREFIX = '_dbferry_';

export function stagingTableName(runId: string, tableIndex: number): string {
  return `${STAGING_PREFIX}stg_${runId.replaceAll('-', '').slice(0, 12)}_${tableIndex}`;
}

export function backupTableName(runId: string, tableIndex: number): string {
  return `${STAGING_PREFIX}bak_${runId.replaceAll('-', '').slice(0, 12)}_${tableIndex}`;
}
