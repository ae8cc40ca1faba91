/**
 * dbferry's own tables in a target (the applied-runs marker, watermarks) are
 * made by the first run that needs them. Runs of several processes (queue
 * workers) may apply into one target at the same moment and both try: the
 * one whose CREATE fails because the other's won finds the table there.
 */
import type { Session, TableDef } from '../dialects/dialect.js';

export async function ensureOwnTable(target: Session, def: TableDef): Promise<void> {
  if (await target.describeTable(def.name)) return;
  try {
    await target.createTable(def);
  } catch (err) {
    if (await target.describeTable(def.name).catch(() => undefined)) return;
    throw err;
  }
}
