/**
 * What a run leaves in the store besides its events: checkpoints (to resume),
 * dead letters (rows that did not make it), backups (to undo).
 */
import { runLockHeld } from './runLock.js';
import type { Store } from './store.js';
import { now } from './store.js';
import { decodeValues, encodeValues } from '../engine/valueJson.js';

type Value = null | string | number | bigint | boolean | Uint8Array;

interface Progress {
  batch: number;
  lastKey?: Value[];
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  cursorMax?: Value;
  bytes?: number;
}

export interface ChunkRow extends Progress {
  index: number;
  after?: Value[];
  through?: Value[];
  done: boolean;
}

export interface CheckpointRow {
  tableIndex: number;
  staging: string;
  checkpoint: Progress;
  done: boolean;
  chunks?: ChunkRow[];
}

/** Values (keys, the cursor) as tagged JSON, so bigints and bytes come back as they were read. */
function encodeProgress<T extends Progress & { after?: Value[]; through?: Value[] }>(p: T): Record<string, unknown> {
  const { lastKey, cursorMax, after, through, ...rest } = p;
  return {
    ...rest,
    lastKey: lastKey ? encodeValues(lastKey) : null,
    cursorMax: cursorMax === undefined ? null : encodeValues([cursorMax]),
    ...(after ? { after: encodeValues(after) } : {}),
    ...(through ? { through: encodeValues(through) } : {}),
  };
}

function decodeProgress<T>(o: Record<string, unknown>): T {
  const { lastKey, cursorMax, after, through, ...rest } = o as Record<string, string | null | undefined>;
  return {
    ...rest,
    lastKey: lastKey ? decodeValues(lastKey) : undefined,
    cursorMax: cursorMax ? decodeValues(cursorMax)[0] : undefined,
    ...(after ? { after: decodeValues(after) } : {}),
    ...(through ? { through: decodeValues(through) } : {}),
  } as T;
}

export function saveCheckpoint(store: Store, runId: string, c: CheckpointRow): void {
  const json = { ...encodeProgress(c.checkpoint), ...(c.chunks ? { chunks: c.chunks.map((k) => encodeProgress(k)) } : {}) };
  store.db
    .prepare(
      `INSERT INTO checkpoints (run_id, table_index, staging_table, checkpoint_json, done, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, table_index) DO UPDATE SET staging_table = excluded.staging_table,
         checkpoint_json = excluded.checkpoint_json, done = excluded.done, updated_at = excluded.updated_at`,
    )
    .run(runId, c.tableIndex, c.staging, JSON.stringify(json), c.done ? 1 : 0, now());
}

export function loadCheckpoints(store: Store, runId: string): CheckpointRow[] {
  const rows = store.db.prepare('SELECT table_index, staging_table, checkpoint_json, done FROM checkpoints WHERE run_id = ? ORDER BY table_index').all(runId) as {
    table_index: number;
    staging_table: string;
    checkpoint_json: string;
    done: number;
  }[];
  return rows.map((r) => {
    const { chunks, ...totals } = JSON.parse(r.checkpoint_json) as Record<string, unknown> & { chunks?: Record<string, unknown>[] };
    return {
      tableIndex: r.table_index,
      staging: r.staging_table,
      done: r.done === 1,
      checkpoint: decodeProgress<Progress>(totals),
      ...(chunks ? { chunks: chunks.map((k) => decodeProgress<ChunkRow>(k)) } : {}),
    };
  });
}

export function clearCheckpoints(store: Store, runId: string): void {
  store.db.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(runId);
}

/** Staging tables of runs that can still be resumed (interrupted or cancelled), by name. */
export function resumableStagingTables(store: Store): Set<string> {
  const rows = store.db
    .prepare(`SELECT c.staging_table FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.status IN ('running', 'interrupted', 'cancelled')`)
    .pluck()
    .all() as string[];
  return new Set(rows);
}

export interface NewDeadLetter {
  tableIndex: number;
  table: string;
  columns: string[];
  key?: Value[];
  row: Value[];
  reasons: string[];
  stage: string;
  batch?: number;
}

export function addDeadLetter(store: Store, runId: string, d: NewDeadLetter, status: 'open' | 'pending' = 'open'): void {
  store.db
    .prepare(
      `INSERT INTO dead_letters (run_id, table_index, table_name, columns_json, key_json, row_json, reasons_json, stage, batch, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(runId, d.tableIndex, d.table, JSON.stringify(d.columns), d.key ? encodeValues(d.key) : null, encodeValues(d.row), JSON.stringify(d.reasons), d.stage, d.batch ?? null, status, now());
}

/** Rows refused by an apply that has not committed yet: replaces an earlier attempt's. */
export function setPendingDeadLetters(store: Store, runId: string, letters: NewDeadLetter[]): void {
  store.db.transaction(() => {
    store.db.prepare("DELETE FROM dead_letters WHERE run_id = ? AND status = 'pending'").run(runId);
    for (const d of letters) addDeadLetter(store, runId, d, 'pending');
  })();
}

/** The apply committed: its refused rows join the queue. */
export function confirmPendingDeadLetters(store: Store, runId: string): void {
  store.db.prepare("UPDATE dead_letters SET status = 'open' WHERE run_id = ? AND status = 'pending'").run(runId);
}

/** Letters from batches a resumed run stages again (they would be recorded twice): batches after `after`, through `through`. */
export function discardDeadLettersAfter(store: Store, runId: string, tableIndex: number, after: number, through = Number.MAX_SAFE_INTEGER): void {
  store.db.prepare('DELETE FROM dead_letters WHERE run_id = ? AND table_index = ? AND batch > ? AND batch <= ?').run(runId, tableIndex, after, through);
}

export function discardPendingDeadLetters(store: Store, runId: string): void {
  store.db.prepare("DELETE FROM dead_letters WHERE run_id = ? AND status = 'pending'").run(runId);
}

export interface DeadLetterRecord {
  id: number;
  runId: string;
  tableIndex: number;
  table: string;
  columns: string[];
  key: Value[] | null;
  row: Value[];
  reasons: string[];
  stage: string;
  /** open: waiting for retry or discard; pending: refused by an apply not yet committed; rolled-back: its run failed, nothing was applied. */
  status: 'open' | 'pending' | 'retried' | 'discarded' | 'rolled-back';
  createdAt: string;
}

export function listDeadLetters(store: Store, filter: { runId?: string; status?: string; limit?: number } = {}): DeadLetterRecord[] {
  const rows = store.db
    .prepare(
      `SELECT * FROM dead_letters WHERE (? IS NULL OR run_id = ?) AND (? IS NULL OR status = ?) ORDER BY id LIMIT ?`,
    )
    .all(filter.runId ?? null, filter.runId ?? null, filter.status ?? null, filter.status ?? null, filter.limit ?? 1_000_000) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as number,
    runId: r.run_id as string,
    tableIndex: r.table_index as number,
    table: r.table_name as string,
    columns: JSON.parse(r.columns_json as string) as string[],
    key: r.key_json ? decodeValues(r.key_json as string) : null,
    row: decodeValues(r.row_json as string),
    reasons: JSON.parse(r.reasons_json as string) as string[],
    stage: r.stage as string,
    status: r.status as DeadLetterRecord['status'],
    createdAt: r.created_at as string,
  }));
}

export function markRunDeadLetters(store: Store, runId: string, status: 'rolled-back'): void {
  store.db.prepare("UPDATE dead_letters SET status = ? WHERE run_id = ? AND status IN ('open', 'pending')").run(status, runId);
}

export function setDeadLetterStatus(store: Store, ids: number[], status: 'retried' | 'discarded'): void {
  const stmt = store.db.prepare('UPDATE dead_letters SET status = ? WHERE id = ?');
  store.db.transaction(() => ids.forEach((id) => stmt.run(status, id)))();
}

export interface BackupRow {
  id: number;
  runId: string;
  targetUrl: string;
  targetTable: string;
  kind: string;
  record: unknown;
  createdAt: string;
  restoredAt: string | null;
  droppedAt: string | null;
}

export function addBackups(store: Store, runId: string, targetUrl: string, records: { targetTable: string; kind: string; record: unknown }[]): void {
  const stmt = store.db.prepare('INSERT INTO backups (run_id, target_url, target_table, kind, record_json, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  store.db.transaction(() => records.forEach((r) => stmt.run(runId, targetUrl, r.targetTable, r.kind, JSON.stringify(r.record), now())))();
}

export function listBackups(store: Store, filter: { runId?: string } = {}): BackupRow[] {
  const rows = store.db
    .prepare('SELECT * FROM backups WHERE (? IS NULL OR run_id = ?) ORDER BY id DESC')
    .all(filter.runId ?? null, filter.runId ?? null) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: r.id as number,
    runId: r.run_id as string,
    targetUrl: r.target_url as string,
    targetTable: r.target_table as string,
    kind: r.kind as string,
    record: JSON.parse(r.record_json as string),
    createdAt: r.created_at as string,
    restoredAt: (r.restored_at as string) ?? null,
    droppedAt: (r.dropped_at as string) ?? null,
  }));
}

/** Live backups of a target table beyond the newest `keep`: to be dropped. */
export function backupsBeyondKeep(store: Store, targetUrl: string, targetTable: string, keep: number): BackupRow[] {
  const live = listBackups(store).filter((b) => b.targetUrl === targetUrl && b.targetTable === targetTable && !b.restoredAt && !b.droppedAt);
  return live.slice(keep);
}

export function markBackups(store: Store, ids: number[], column: 'restored_at' | 'dropped_at'): void {
  const stmt = store.db.prepare(`UPDATE backups SET ${column === 'restored_at' ? 'restored_at' : 'dropped_at'} = ? WHERE id = ?`);
  store.db.transaction(() => ids.forEach((id) => stmt.run(now(), id)))();
}

/** Runs left 'running' by a process that no longer exists were interrupted (crash, kill -9). */
export function markInterruptedRuns(store: Store): void {
  const running = store.db.prepare("SELECT id, pid FROM runs WHERE status = 'running'").all() as { id: string; pid: number | null }[];
  for (const r of running) {
    if (r.pid === process.pid) continue;
    const held = runLockHeld(store, r.id);
    if (held) continue;
    // A run without a lock file was started by a dbferry before run locks: its PID is all there is.
    if (held === undefined && r.pid && processAlive(r.pid)) continue;
    store.setRunStatus(r.id, 'interrupted');
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
