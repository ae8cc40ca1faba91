/**
 * dbferry's own tables in a target (the applied-runs marker, watermarks) are
 * made by the first run that needs them. Runs of several processes (queue
 * workers) may apply into one target at the same moment and both try: the
 * one whose CREATE fails because the other's won finds the table there.
 */
import type { Session, TableDef } from '../dialects/dialect.js';
import type { TableName } from '../types.js';

/** Whether the table exists: in one round trip where the session can say so. */
export async function tableExists(session: Session, name: TableName): Promise<boolean> {
  return session.tableExists ? session.tableExists(name) : (await session.describeTable(name)) !== undefined;
}

export async function ensureOwnTable(target: Session, def: TableDef): Promise<void> {
  if (await tableExists(target, def.name)) return;
  await createOwnTable(target, def);
}

/** ensureOwnTable for several tables, looked for in one round trip where the session can (tablesExist). */
export async function ensureOwnTables(target: Session, defs: TableDef[]): Promise<void> {
  if (!target.tablesExist || defs.length < 2) {
    for (const def of defs) await ensureOwnTable(target, def);
    return;
  }
  const found = await target.tablesExist(defs.map((d) => d.name));
  for (const [i, def] of defs.entries()) if (!found[i]) await createOwnTable(target, def);
}

async function createOwnTable(target: Session, def: TableDef): Promise<void> {
  try {
    await target.createTable(def);
  } catch (err) {
    if (await tableExists(target, def.name).catch(() => false)) return;
    throw err;
  }
}
