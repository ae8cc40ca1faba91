/**
 * Consistent reads: one REPEATABLE READ READ ONLY transaction per session,
 * and sharing it across sessions (pg_export_snapshot / SET TRANSACTION SNAPSHOT)
 * so parallel readers see the same point in time.
 */
import { FerryError } from '../../errors.js';
import type { Session } from '../dialect.js';
import type { Transactions, WriteContext } from './write.js';

export interface SnapshotHost {
  ctx: WriteContext;
  transactions: Transactions;
  snapshotOpen: boolean;
}

const BEGIN = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

async function run(host: SnapshotHost, sql: string, what: string): Promise<void> {
  try {
    await host.ctx.client.query(sql);
  } catch (err) {
    throw host.ctx.fail(err, what);
  }
}

export async function beginSnapshot(host: SnapshotHost, snapshotId?: string): Promise<void> {
  if (host.snapshotOpen) return;
  if (host.transactions.depth > 0) {
    throw new FerryError('internal', 'cannot start a read snapshot inside an open transaction');
  }
  const join = snapshotId === undefined ? '' : `; SET TRANSACTION SNAPSHOT '${snapshotId.replaceAll("'", "''")}'`;
  try {
    await run(host, BEGIN + join, snapshotId === undefined ? 'starting a read snapshot' : `joining snapshot ${snapshotId}`);
  } catch (err) {
    await host.ctx.client.query('ROLLBACK').catch(() => {});
    throw err;
  }
  host.snapshotOpen = true;
  host.transactions.depth++;
}

export async function endSnapshot(host: SnapshotHost): Promise<void> {
  if (!host.snapshotOpen) return;
  host.snapshotOpen = false;
  host.transactions.depth--;
  await run(host, 'COMMIT', 'ending the read snapshot');
}

function hostOf(session: Session): SnapshotHost {
  const host = (session as unknown as { pg?: SnapshotHost }).pg;
  if (session.dialect.engine !== 'postgres' || !host) {
    throw new FerryError('internal', 'snapshot export and import are PostgreSQL features');
  }
  return host;
}

/**
 * Open a snapshot on `session` (if not already) and export it: other sessions
 * pass the id to joinSnapshot. The id is valid while this snapshot stays open.
 */
export async function exportSnapshot(session: Session): Promise<string> {
  const host = hostOf(session);
  await beginSnapshot(host);
  try {
    const r = await host.ctx.client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    return r.rows[0].id;
  } catch (err) {
    throw host.ctx.fail(err, 'exporting the read snapshot');
  }
}

/** Start this session's snapshot at the exported one (same data, same point in time). */
export async function joinSnapshot(session: Session, snapshotId: string): Promise<void> {
  const host = hostOf(session);
  if (host.snapshotOpen) throw new FerryError('internal', 'this session already has a read snapshot');
  await beginSnapshot(host, snapshotId);
}
