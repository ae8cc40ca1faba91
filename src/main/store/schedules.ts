/**
 * Schedules: a saved job, a cron expression, and what the scheduler last did
 * about it. Next-run times are computed by src/main/queue; the store keeps
 * them so that a slot missed while dbferry was closed is still due at start.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { now } from './store.js';

/** started: a run was started; skipped: a run of the job was still going; not-started: it could not start; retry: a transient failure, tried again at next_run_at. */
export type ScheduleOutcome = 'started' | 'skipped' | 'not-started' | 'retry';

export interface ScheduleRecord {
  id: string;
  jobId: string;
  cron: string;
  enabled: boolean;
  lastRunAt: string | null;
  nextRunAt: string | null;
  lastRunId: string | null;
  lastOutcome: ScheduleOutcome | null;
  lastOutcomeAt: string | null;
  lastMessage: string | null;
  retries: number;
  createdAt: string | null;
  updatedAt: string | null;
}

interface ScheduleRow {
  id: string;
  job_id: string;
  cron: string;
  enabled: number;
  last_run_at: string | null;
  next_run_at: string | null;
  last_run_id: string | null;
  last_outcome: ScheduleOutcome | null;
  last_outcome_at: string | null;
  last_message: string | null;
  retries: number;
  created_at: string | null;
  updated_at: string | null;
}

function toRecord(r: ScheduleRow): ScheduleRecord {
  return {
    id: r.id,
    jobId: r.job_id,
    cron: r.cron,
    enabled: r.enabled === 1,
    lastRunAt: r.last_run_at,
    nextRunAt: r.next_run_at,
    lastRunId: r.last_run_id,
    lastOutcome: r.last_outcome,
    lastOutcomeAt: r.last_outcome_at,
    lastMessage: r.last_message,
    retries: r.retries,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface ScheduleFields {
  jobId: string;
  cron: string;
  enabled: boolean;
  /** null while disabled. */
  nextRunAt: string | null;
}

export class Schedules {
  constructor(private readonly db: Database.Database) {}

  list(): ScheduleRecord[] {
    return (this.db.prepare('SELECT * FROM schedules ORDER BY created_at, rowid').all() as ScheduleRow[]).map(toRecord);
  }

  get(id: string): ScheduleRecord | undefined {
    const row = this.db.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as ScheduleRow | undefined;
    return row && toRecord(row);
  }

  /** Enabled schedules whose next run is at or before `at`, earliest first. */
  due(at: Date): ScheduleRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at, rowid')
      .all(at.toISOString()) as ScheduleRow[];
    return rows.map(toRecord);
  }

  /** The earliest next run of an enabled schedule. */
  earliest(): string | undefined {
    const row = this.db.prepare('SELECT min(next_run_at) AS at FROM schedules WHERE enabled = 1 AND next_run_at IS NOT NULL').get() as { at: string | null };
    return row.at ?? undefined;
  }

  create(fields: ScheduleFields): ScheduleRecord {
    const id = randomUUID();
    const at = now();
    this.db
      .prepare('INSERT INTO schedules (id, job_id, cron, enabled, next_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, fields.jobId, fields.cron, fields.enabled ? 1 : 0, fields.nextRunAt, at, at);
    return this.get(id)!;
  }

  /** A new cron, job or switch starts afresh: pending retries are forgotten. */
  update(id: string, fields: ScheduleFields): ScheduleRecord | undefined {
    this.db
      .prepare('UPDATE schedules SET job_id = ?, cron = ?, enabled = ?, next_run_at = ?, retries = 0, updated_at = ? WHERE id = ?')
      .run(fields.jobId, fields.cron, fields.enabled ? 1 : 0, fields.nextRunAt, now(), id);
    return this.get(id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes > 0;
  }

  /**
   * Take a due slot: move next_run_at from `expected` to `next`, only if no
   * one else did. Two processes on one store (the app and `dbferry ui`) then
   * never both start the same slot.
   */
  claim(id: string, expected: string, next: string | null): boolean {
    return (
      this.db.prepare('UPDATE schedules SET next_run_at = ? WHERE id = ? AND enabled = 1 AND next_run_at = ?').run(next, id, expected).changes === 1
    );
  }

  /** What the scheduler did about a slot, for the Schedules screen and `dbferry schedules`. */
  recordOutcome(id: string, outcome: { kind: ScheduleOutcome; message: string; runId?: string; at: string; retries?: number }): void {
    const started = outcome.kind === 'started';
    this.db
      .prepare(
        `UPDATE schedules SET last_outcome = ?, last_message = ?, last_outcome_at = ?,
           last_run_id = CASE WHEN ? THEN ? ELSE last_run_id END,
           last_run_at = CASE WHEN ? THEN ? ELSE last_run_at END,
           retries = COALESCE(?, retries)
         WHERE id = ?`,
      )
      .run(outcome.kind, outcome.message, outcome.at, started ? 1 : 0, outcome.runId ?? null, started ? 1 : 0, outcome.at, outcome.retries ?? null, id);
  }

  /** The run it started ended: what the scheduler makes of it (null: nothing to add to the run's own status). */
  noteRunEnded(id: string, runId: string, message: string | null, retries: number): void {
    this.db.prepare('UPDATE schedules SET last_message = COALESCE(?, last_message), retries = ? WHERE id = ? AND last_run_id = ?').run(message, retries, id, runId);
  }

  /** A transient failure: try again at `at`, before the regular slot `regularNext` (unless the schedule was changed meanwhile). */
  scheduleRetry(id: string, at: string, retries: number, message: string, decidedAt: string, regularNext: string | null): void {
    this.db
      .prepare(
        `UPDATE schedules SET next_run_at = ?, retries = ?, last_outcome = 'retry', last_message = ?, last_outcome_at = ?
         WHERE id = ? AND enabled = 1 AND next_run_at IS ?`,
      )
      .run(at, retries, message, decidedAt, id, regularNext);
  }

  setNextRunIfMissing(id: string, next: string): void {
    this.db.prepare('UPDATE schedules SET next_run_at = ? WHERE id = ? AND next_run_at IS NULL').run(next, id);
  }
}
