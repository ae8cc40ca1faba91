import type Database from 'better-sqlite3';

/**
 * One read transaction: every later read on this connection sees the file as
 * it was at the first read (WAL), or holds a shared lock (rollback journal).
 */
export function beginSqliteSnapshot(db: Database.Database): void {
  if (db.inTransaction) return;
  db.exec('BEGIN DEFERRED');
  db.prepare('SELECT count(*) FROM sqlite_master').get();
}

export function endSqliteSnapshot(db: Database.Database): void {
  if (db.inTransaction) db.exec('COMMIT');
}
