/**
 * Where the server tells, the rows a running apply step has done, read from a
 * second connection while the apply's own runs the statement:
 * - MySQL/MariaDB: the rows the apply's transaction has changed so far
 *   (information_schema.innodb_trx.trx_rows_modified; the statement's own
 *   transaction for the DDL that runs outside it), and MariaDB's progress of
 *   an ALTER TABLE (processlist.progress, in percent);
 * - PostgreSQL: an index build's tuples done (pg_stat_progress_create_index),
 *   and for an insert, how much the target has grown (new rows extend it even
 *   before they commit) divided by the staged rows' width.
 * Anything the server will not say (a missing privilege, another engine)
 * leaves the step to the estimate (applyProgress.ts).
 */
import type { Session } from '../dialects/dialect.js';
import type { TableName } from '../types.js';
import type { Endpoint } from './endpoint.js';

/** What the watcher needs to know of a step to measure it. */
export interface StepWatch {
  /** What the server counts is not the step's rows (a comparison, or writes of only the rows that differ): estimate it. */
  estimate?: boolean;
  /** An INSERT … SELECT from `from` (rows) into `into`. */
  insert?: { into: TableName; from: TableName };
}

export interface StepMeter {
  /** Rows the step has done, or undefined when the server does not say. */
  read(): Promise<number | undefined>;
}

/** Bytes dbferry's own columns add to a staged row (_dbferry_batch, _dbferry_row). */
const STAGING_EXTRA = 12;

export class ApplyWatcher {
  private disabled = false;
  /** The second connection, once open (meter waits for it). */
  private watcher!: Session;

  private constructor(
    /** The second connection, opening while the apply goes on: its round trips are not the apply's. */
    private readonly opening: Promise<Session | undefined>,
    private readonly target: Session,
    private readonly mainId: number,
  ) {}

  /** A watcher over the target's session, or none when a second connection cannot be had. */
  static async open(endpoint: Endpoint): Promise<ApplyWatcher | undefined> {
    const target = endpoint.session;
    const engine = target.dialect.engine;
    if (engine === 'sqlite') return undefined;
    let mainId: number;
    try {
      // Known since the session connected where it says (PostgreSQL): no round trip of the apply's.
      mainId = target.backendId ?? Number((await target.query(engine === 'mysql' ? 'SELECT CONNECTION_ID()' : 'SELECT pg_backend_pid()')).rows[0]?.[0]);
    } catch {
      return undefined;
    }
    if (!Number.isSafeInteger(mainId)) return undefined;
    const opening = (async () => {
      const watcher = await endpoint.openAnother();
      try {
        // Never wait on a lock the apply holds (a table it dropped or renamed): the apply would wait on the watcher in turn.
        if (engine === 'postgres') await watcher.execute("SET lock_timeout = '500ms'; SET statement_timeout = '5s'");
        else await watcher.execute('SET SESSION lock_wait_timeout = 2');
      } catch (err) {
        await watcher.close().catch(() => undefined);
        throw err;
      }
      return watcher;
    })().catch(() => undefined);
    return new ApplyWatcher(opening, target, mainId);
  }

  async close(): Promise<void> {
    await (await this.opening)?.close().catch(() => undefined);
  }

  /** A meter for one step of `rows`, started now; undefined when nothing can measure it. */
  async meter(rows: number, watch: StepWatch = {}): Promise<StepMeter | undefined> {
    if (this.disabled || rows <= 0 || watch.estimate) return undefined;
    const watcher = await this.opening;
    if (!watcher) {
      this.disabled = true;
      return undefined;
    }
    this.watcher = watcher;
    try {
      return this.target.dialect.engine === 'mysql' ? await this.mysqlMeter(rows) : await this.postgresMeter(rows, watch);
    } catch {
      this.disabled = true;
      return undefined;
    }
  }

  private async guarded(read: () => Promise<number | undefined>): Promise<number | undefined> {
    if (this.disabled) return undefined;
    try {
      return await read();
    } catch {
      // A watcher that fails once is not asked again: the apply goes on estimated.
      this.disabled = true;
      return undefined;
    }
  }

  private async mysqlMeter(rows: number): Promise<StepMeter> {
    const modified = async () => {
      const r = await this.watcher.query('SELECT trx_rows_modified FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = ?', [this.mainId]);
      return r.rows.length ? Number(r.rows[0][0]) : undefined;
    };
    let alter = true;
    const progress = async () => {
      if (!alter) return undefined;
      try {
        const r = await this.watcher.query('SELECT progress FROM information_schema.processlist WHERE id = ?', [this.mainId]);
        const p = Number(r.rows[0]?.[0]);
        return Number.isFinite(p) && p > 0 ? p : undefined;
      } catch {
        alter = false; // MySQL has no progress column
        return undefined;
      }
    };
    // The step's statements may start a new transaction (DDL commits on its own): a count lower than at the start is a new one.
    let base = (await modified()) ?? 0;
    let last = base;
    return {
      read: () =>
        this.guarded(async () => {
          const now = await modified();
          const pct = await progress();
          if (pct !== undefined) return Math.floor((rows * pct) / 100);
          if (now === undefined) return undefined;
          if (now < last) base = 0;
          last = now;
          return Math.max(0, now - base);
        }),
    };
  }

  /**
   * Bytes a row takes in a table's pages, from a sample of its rows (this
   * connection still sees rows the apply has deleted but not committed): the
   * tuple aligned to 8 bytes, its line pointer, and the pages' free ends.
   */
  private async rowWidth(table: TableName, extra: number): Promise<number | undefined> {
    const r = await this.watcher.query(`SELECT avg(pg_column_size(t.*)) FROM (SELECT * FROM ${this.target.quoteTable(table)} LIMIT 1000) AS t`);
    const avg = Number(r.rows[0]?.[0]) - extra;
    if (!(avg > 0)) return undefined;
    return (Math.ceil(avg / 8) * 8 + 4) * 1.03;
  }

  private async postgresMeter(rows: number, watch: StepWatch): Promise<StepMeter | undefined> {
    const indexBuild = async () => {
      const r = await this.watcher.query('SELECT tuples_done, tuples_total FROM pg_stat_progress_create_index WHERE pid = $1', [this.mainId]);
      const [done, total] = (r.rows[0] ?? []).map(Number);
      return total > 0 ? Math.floor((rows * done) / total) : undefined;
    };
    if (!watch.insert) return { read: () => this.guarded(indexBuild) };
    const size = async (t: TableName) => Number((await this.watcher.query('SELECT pg_relation_size($1::regclass)', [this.target.quoteTable(t)])).rows[0][0]);
    const start = await size(watch.insert.into);
    const width = (await this.rowWidth(watch.insert.into, 0)) ?? (await this.rowWidth(watch.insert.from, STAGING_EXTRA));
    if (width === undefined) return undefined;
    return { read: () => this.guarded(async () => Math.floor(((await size(watch.insert!.into)) - start) / width)) };
  }
}
