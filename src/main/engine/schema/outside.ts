/**
 * Where DDL commits on its own (MySQL/MariaDB), the schema is built after the
 * apply transaction, on the promoted tables. If that fails, the run's new
 * tables go, and so does its "applied" marker: the target is as it was before
 * the run, which fails with the reason.
 */
import type { Session } from '../dialects/dialect.js';
import { FerryError, errorMessage } from '../errors.js';
import { unmarkApplied } from '../pipeline/marker.js';
import type { TablePlan } from '../pipeline/plan.js';
import { carrySchema } from './apply.js';

export async function carrySchemaOutside(target: Session, plans: TablePlan[], opts: { runId: string; markerSchema?: string; onWarning(message: string): void }): Promise<void> {
  try {
    await carrySchema(target, plans, opts.onWarning);
  } catch (err) {
    const failure = errorMessage(err);
    for (const p of [...plans].reverse()) if (p.createTarget) await target.dropTable(p.targetName).catch(() => undefined);
    await unmarkApplied(target, opts.runId, opts.markerSchema).catch(() => undefined);
    // Not transient: the tables it would apply again are gone.
    throw new FerryError('schema', `building the new tables' indexes and keys failed (${failure}); the tables this run created were removed`, {
      hint: 'run again with options.schema "tables" to copy the tables alone',
    });
  }
}
