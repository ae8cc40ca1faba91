/**
 * Whether a run's process is alive, told by a lock the operating system
 * releases with the process, not by its PID: a killed process that nobody has
 * reaped yet still answers to its PID, and a PID is reused. The lock is an
 * exclusive transaction on a small SQLite file beside the store (SQLite's
 * POSIX locks are gone the moment the process dies, reaped or not).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from './store.js';

function lockFile(store: Store, runId: string): string {
  return join(dirname(store.path), 'locks', `${runId.replace(/[^0-9a-f-]/gi, '')}.lock`);
}

/** Hold the run's lock until the returned function is called (or the process ends). */
export function holdRunLock(store: Store, runId: string): () => void {
  const path = lockFile(store, runId);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec('BEGIN EXCLUSIVE');
  return () => {
    db.close();
    rmSync(path, { force: true });
  };
}

/** true: a live process holds the run's lock; false: its process is gone; undefined: the run has no lock file (none was taken). */
export function runLockHeld(store: Store, runId: string): boolean | undefined {
  const path = lockFile(store, runId);
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
    db.exec('ROLLBACK');
    return false;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw err;
  } finally {
    db.close();
  }
}
