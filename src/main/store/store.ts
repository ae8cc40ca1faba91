/**
 * The local state store: one SQLite file (WAL) holding connections, jobs,
 * runs and their events, checkpoints, dead letters and backups.
 * One writer: the process's main thread.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RunEvent, RunStatus, RunSummary } from '../../shared/events.js';
import { MIGRATIONS } from './migrations.js';

export const STORE_FILE = 'dbferry.db';

export class StoreError extends Error {}

export interface RunRecord {
  id: string;
  jobId: string | null;
  jobName: string;
  specJson: string;
  baseDir: string;
  source: string;
  target: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  rowsRead: number;
  rowsWritten: number;
  rowsDeadLettered: number;
  error: string | null;
  summary: RunSummary | null;
}

export interface StoredEvent {
  seq: number;
  at: string;
  event: RunEvent;
}

export interface NewRun {
  id: string;
  jobId?: string;
  jobName: string;
  specJson: string;
  baseDir: string;
  source: string;
  target: string;
}

export class Store {
  readonly db: Database.Database;
  readonly path: string;
  private readonly seqByRun = new Map<string, number>();

  private constructor(path: string) {
    this.path = path;
    try {
      this.db = new Database(path);
    } catch (err) {
      throw new StoreError(`cannot open the state store ${path}: ${(err as Error).message}`);
    }
    this.db.pragma('busy_timeout = 5000');
    // Check the version before changing anything, so a newer store is left exactly as it was.
    this.refuseNewer();
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  /** Open (creating if needed) the store in `dir`. */
  static open(dir: string): Store {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create the state directory ${dir}: ${(err as Error).message}`);
    }
    return new Store(join(dir, STORE_FILE));
  }

  private refuseNewer(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      this.db.close();
      throw new StoreError(
        `the state store ${this.path} was written by a newer dbferry (schema ${current}, this version knows ${MIGRATIONS.length}); ` +
          'upgrade dbferry, or point --state / DBFERRY_HOME at another folder',
      );
    }
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // -- runs -------------------------------------------------------------------

  createRun(run: NewRun): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, job_id, job_name, spec_json, base_dir, source, target, status, started_at, pid)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      )
      .run(run.id, run.jobId ?? null, run.jobName, run.specJson, run.baseDir, run.source, run.target, now(), process.pid);
    this.seqByRun.set(run.id, 0);
  }

  appendEvent(runId: string, event: RunEvent): void {
    let seq = this.seqByRun.get(runId);
    if (seq === undefined) {
      const row = this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM run_events WHERE run_id = ?').get(runId) as { seq: number };
      seq = row.seq;
    }
    seq += 1;
    this.seqByRun.set(runId, seq);
    this.db
      .prepare('INSERT INTO run_events (run_id, seq, at, type, event_json) VALUES (?, ?, ?, ?, ?)')
      .run(runId, seq, now(), event.type, JSON.stringify(event));
  }

  setRunStatus(runId: string, status: RunStatus): void {
    this.db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(status, runId);
  }

  finishRun(summary: RunSummary): void {
    this.db
      .prepare(
        `UPDATE runs SET status = ?, finished_at = ?, rows_read = ?, rows_written = ?, rows_dead_lettered = ?,
           error = ?, summary_json = ? WHERE id = ?`,
      )
      .run(
        summary.status,
        now(),
        summary.rowsRead,
        summary.rowsWritten,
        summary.rowsDeadLettered,
        summary.error ?? null,
        JSON.stringify(summary),
        summary.runId,
      );
  }

  listRuns(limit = 100): RunRecord[] {
    const rows = this.db.prepare('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?').all(limit) as RunRow[];
    return rows.map(toRunRecord);
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && toRunRecord(row);
  }

  /** A run by id or unambiguous id prefix (as printed in short form). */
  findRun(idOrPrefix: string): RunRecord | undefined {
    const exact = this.getRun(idOrPrefix);
    if (exact) return exact;
    const rows = this.db.prepare("SELECT * FROM runs WHERE id LIKE ? || '%' LIMIT 2").all(idOrPrefix) as RunRow[];
    return rows.length === 1 ? toRunRecord(rows[0]) : undefined;
  }

  runEvents(runId: string, afterSeq = 0): StoredEvent[] {
    const rows = this.db
      .prepare('SELECT seq, at, event_json FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq')
      .all(runId, afterSeq) as { seq: number; at: string; event_json: string }[];
    return rows.map((r) => ({ seq: r.seq, at: r.at, event: JSON.parse(r.event_json) as RunEvent }));
  }
}

interface RunRow {
  id: string;
  job_id: string | null;
  job_name: string;
  spec_json: string;
  base_dir: string;
  source: string;
  target: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  rows_read: number;
  rows_written: number;
  rows_dead_lettered: number;
  error: string | null;
  summary_json: string | null;
}

function toRunRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    jobId: r.job_id,
    jobName: r.job_name,
    specJson: r.spec_json,
    baseDir: r.base_dir,
    source: r.source,
    target: r.target,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    rowsRead: r.rows_read,
    rowsWritten: r.rows_written,
    rowsDeadLettered: r.rows_dead_lettered,
    error: r.error,
    summary: r.summary_json ? (JSON.parse(r.summary_json) as RunSummary) : null,
  };
}

export function now(): string {
  return new Date().toISOString();
}
