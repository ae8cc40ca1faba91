/**
 * Where DDL commits on its own (MySQL/MariaDB), the schema is built after the
 * apply transaction, on the promoted tables. If that fails, the run's new
 * tables go, and so does its "applied" marker: the target is as it was before
 * the run, which fails with the reason. What is left to build was recorded
 * with the commit (pending.ts): a run killed meanwhile builds the rest on
 * `resume`, and the record goes once it is all built.
 */
import type { Session } from '../dialects/dialect.js';
import { FerryError, errorMessage } from '../errors.js';
import { unmarkApplied } from '../pipeline/marker.js';
import type { TableWork } from './model.js';
import { carrySchema } from './apply.js';
import { clearPendingSchema } from './pending.js';

export async function carrySchemaOutside(
  target: Session,
  works: TableWork[],
  opts: { runId: string; markerSchema?: string; resumed?: boolean; onWarning(message: string): void },
): Promise<void> {
  if (works.length === 0) return;
  try {
    await carrySchema(target, works, opts.onWarning, { resumed: opts.resumed });
    await clearPendingSchema(target, opts.runId, opts.markerSchema);
  } catch (err) {
    const failure = errorMessage(err);
    for (const w of [...works].reverse()) await target.dropTable(w.table).catch(() => undefined);
    await unmarkApplied(target, opts.runId, opts.markerSchema).catch(() => undefined);
    await clearPendingSchema(target, opts.runId, opts.markerSchema).catch(() => undefined);
    // Not transient: the tables it would apply again are gone.
    throw new FerryError('schema', `building the new tables' indexes and keys failed (${failure}); the tables this run created were removed`, {
      hint: 'run again with options.schema "tables" to copy the tables alone',
    });
  }
}
