/**
 * Transactions and the consistent read snapshot. Several sessions that call
 * beginSnapshot together read the same point in time (InnoDB's consistent
 * snapshot is taken at START TRANSACTION WITH CONSISTENT SNAPSHOT).
 */
import type { Connection } from 'mysql2/promise';
import type { TargetIsolation } from '../dialect.js';

const LEVELS: Record<TargetIsolation, string> = {
  serializable: 'SERIALIZABLE',
  'repeatable-read': 'REPEATABLE READ',
  'read-committed': 'READ COMMITTED',
};

export interface TransactionContext {
  conn: Connection;
  inTransaction: boolean;
  fail(err: unknown): Error;
}

export async function transaction<T>(ctx: TransactionContext, fn: () => Promise<T>, isolation?: TargetIsolation): Promise<T> {
  try {
    if (isolation) await ctx.conn.query(`SET TRANSACTION ISOLATION LEVEL ${LEVELS[isolation]}`);
    await ctx.conn.query('START TRANSACTION');
  } catch (err) {
    throw ctx.fail(err);
  }
  ctx.inTransaction = true;
  try {
    const result = await fn();
    await ctx.conn.query('COMMIT');
    return result;
  } catch (err) {
    await ctx.conn.query('ROLLBACK').catch(() => undefined);
    throw ctx.fail(err);
  } finally {
    ctx.inTransaction = false;
  }
}

export async function beginSnapshot(ctx: TransactionContext): Promise<void> {
  try {
    await ctx.conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await ctx.conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  } catch (err) {
    throw ctx.fail(err);
  }
  ctx.inTransaction = true;
}

/**
 * FLUSH TABLES WITH READ LOCK holds every commit back (what mysqldump
 * --single-transaction --master-data does): snapshots started under it see
 * the same data. It needs the RELOAD privilege, and waits for running
 * statements, so it gives up after a few seconds rather than stall the server.
 */
export async function holdWrites(ctx: TransactionContext, others: () => Promise<void>): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    await ctx.conn.query('SET SESSION lock_wait_timeout = 10');
    await ctx.conn.query('FLUSH TABLES WITH READ LOCK');
  } catch (err) {
    return { ok: false, why: `parallel readers need to hold writes for a moment (FLUSH TABLES WITH READ LOCK), which the server refused: ${(err as Error).message}` };
  }
  try {
    await beginSnapshot(ctx);
    await others();
    return { ok: true };
  } finally {
    await ctx.conn.query('UNLOCK TABLES').catch(() => undefined);
  }
}

export async function endSnapshot(ctx: TransactionContext): Promise<void> {
  ctx.inTransaction = false;
  try {
    await ctx.conn.query('COMMIT');
  } catch (err) {
    throw ctx.fail(err);
  }
}
