/**
 * A run's checkpoints and dead letters as plain JSON, to carry to another
 * store: a queued run's state travels in its queue job, so the worker that
 * takes over a run whose worker died continues where that one stopped.
 * Values stay in the store's own tagged encoding (bigints, bytes).
 */
import type { Store } from './store.js';
import { now } from './store.js';

export interface PortableCheckpoint {
  tableIndex: number;
  staging: string;
  checkpointJson: string;
  done: boolean;
}

export interface PortableDeadLetter {
  tableIndex: number | null;
  table: string | null;
  columnsJson: string | null;
  keyJson: string | null;
  rowJson: string | null;
  reasonsJson: string;
  stage: string;
  batch: number | null;
  status: string;
}

export interface PortableRunState {
  checkpoints: PortableCheckpoint[];
  deadLetters: PortableDeadLetter[];
  /** The run's backup records, once its apply committed: a worker that only verifies it (the first died) still has them for restore. */
  backups?: PortableBackup[];
}

export function exportRunState(store: Store, runId: string): PortableRunState {
  const checkpoints = store.db
    .prepare('SELECT table_index AS tableIndex, staging_table AS staging, checkpoint_json AS checkpointJson, done FROM checkpoints WHERE run_id = ? ORDER BY table_index')
    .all(runId) as (Omit<PortableCheckpoint, 'done'> & { done: number })[];
  const deadLetters = store.db
    .prepare(
      `SELECT table_index AS tableIndex, table_name AS "table", columns_json AS columnsJson, key_json AS keyJson, row_json AS rowJson,
              reasons_json AS reasonsJson, stage, batch, status
       FROM dead_letters WHERE run_id = ? AND status IN ('open', 'pending') ORDER BY id`,
    )
    .all(runId) as PortableDeadLetter[];
  const backups = exportBackups(store, runId);
  return { checkpoints: checkpoints.map((c) => ({ ...c, done: c.done === 1 })), deadLetters, ...(backups.length ? { backups } : {}) };
}

function exportBackups(store: Store, runId: string): PortableBackup[] {
  return store.db
    .prepare(
      `SELECT target_url AS targetUrl, target_table AS targetTable, kind, record_json AS recordJson, created_at AS createdAt,
              restored_at AS restoredAt, dropped_at AS droppedAt
       FROM backups WHERE run_id = ? ORDER BY id`,
    )
    .all(runId) as PortableBackup[];
}

function replaceBackups(store: Store, runId: string, backups: PortableBackup[]): void {
  store.db.prepare('DELETE FROM backups WHERE run_id = ?').run(runId);
  const add = store.db.prepare(
    'INSERT INTO backups (run_id, target_url, target_table, kind, record_json, created_at, restored_at, dropped_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  for (const b of backups) add.run(runId, b.targetUrl, b.targetTable, b.kind, b.recordJson, b.createdAt, b.restoredAt, b.droppedAt);
}

/** Replace what this store knows of the run's checkpoints and dead letters by `state`. */
export function importRunState(store: Store, runId: string, state: PortableRunState): void {
  store.db.transaction(() => {
    store.db.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(runId);
    store.db.prepare("DELETE FROM dead_letters WHERE run_id = ? AND status IN ('open', 'pending')").run(runId);
    const at = now();
    const addCheckpoint = store.db.prepare('INSERT INTO checkpoints (run_id, table_index, staging_table, checkpoint_json, done, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const c of state.checkpoints) addCheckpoint.run(runId, c.tableIndex, c.staging, c.checkpointJson, c.done ? 1 : 0, at);
    const addLetter = store.db.prepare(
      `INSERT INTO dead_letters (run_id, table_index, table_name, columns_json, key_json, row_json, reasons_json, stage, batch, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const d of state.deadLetters) addLetter.run(runId, d.tableIndex, d.table, d.columnsJson, d.keyJson, d.rowJson, d.reasonsJson, d.stage, d.batch, d.status, at);
    if (state.backups) replaceBackups(store, runId, state.backups);
  })();
}

export interface PortableBackup {
  targetUrl: string;
  targetTable: string;
  kind: string;
  recordJson: string;
  createdAt: string;
  restoredAt: string | null;
  droppedAt: string | null;
}

/**
 * What a finished run leaves behind in the store that ran it, for the app
 * that queued it to record in its own: every dead letter (whatever its
 * status) and every backup record (restore needs them, the backup tables are
 * in the target).
 */
export interface RunLedger {
  deadLetters: (PortableDeadLetter & { createdAt: string })[];
  backups: PortableBackup[];
}

export function exportRunLedger(store: Store, runId: string): RunLedger {
  const deadLetters = store.db
    .prepare(
      `SELECT table_index AS tableIndex, table_name AS "table", columns_json AS columnsJson, key_json AS keyJson, row_json AS rowJson,
              reasons_json AS reasonsJson, stage, batch, status, created_at AS createdAt
       FROM dead_letters WHERE run_id = ? ORDER BY id`,
    )
    .all(runId) as RunLedger['deadLetters'];
  return { deadLetters, backups: exportBackups(store, runId) };
}

/** Record a run's ledger in this store: it replaces the run's dead letters and backups here. */
export function importRunLedger(store: Store, runId: string, ledger: RunLedger): void {
  store.db.transaction(() => {
    store.db.prepare('DELETE FROM dead_letters WHERE run_id = ?').run(runId);
    const addLetter = store.db.prepare(
      `INSERT INTO dead_letters (run_id, table_index, table_name, columns_json, key_json, row_json, reasons_json, stage, batch, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const d of ledger.deadLetters) addLetter.run(runId, d.tableIndex, d.table, d.columnsJson, d.keyJson, d.rowJson, d.reasonsJson, d.stage, d.batch, d.status, d.createdAt);
    replaceBackups(store, runId, ledger.backups);
  })();
}
