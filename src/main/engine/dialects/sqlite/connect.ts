import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { SqliteConnection } from '../../../../shared/connectionUrl.js';
import { FerryError } from '../../errors.js';
import type { OpenOptions } from '../dialect.js';

export function resolveSqlitePath(info: SqliteConnection, baseDir: string): string {
  return isAbsolute(info.path) ? info.path : resolve(baseDir, info.path);
}

/** Open the file: a source must exist (and is opened read-only); a target is created if missing. */
export function openSqlite(info: SqliteConnection, options: OpenOptions): Database.Database {
  const path = resolveSqlitePath(info, options.baseDir);
  const asSource = options.role === 'source';
  if (asSource && !existsSync(path)) {
    throw new FerryError('connection', `the source SQLite file ${path} does not exist`, {
      hint: 'check the path in the job spec (relative paths start at the job file\'s folder)',
    });
  }
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: asSource || info.readonly === true, fileMustExist: asSource });
  } catch (err) {
    throw new FerryError('connection', `cannot open the SQLite file ${path}: ${(err as Error).message}`, {
      hint: asSource ? undefined : 'check that its folder exists and is writable',
    });
  }
  // Wait a little for another process's lock, then say who is in the way.
  db.pragma('busy_timeout = 5000');
  // SQLite enforces a declared foreign key only when asked, per connection: a target's are
  // enforced, so an orphan row is refused (and dead-lettered) as PostgreSQL and MariaDB refuse it.
  if (!asSource) db.pragma('foreign_keys = ON');
  try {
    // Reading the schema proves the file is a database (and not locked exclusively).
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (err) {
    db.close();
    const explained = explainSqliteError(err, path);
    if (explained instanceof FerryError) throw explained;
    throw new FerryError('connection', `${path} is not a usable SQLite database: ${(err as Error).message}`);
  }
  return db;
}

/** Turn SQLite's terse errors into messages that name the file and what to do. */
export function explainSqliteError(err: unknown, path: string): unknown {
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message;
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED') {
    return new FerryError('connection', `the SQLite database ${path} is locked by another process`, {
      hint: 'close the program holding it (or wait for it) and run again',
      transient: true,
      cause: err,
    });
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY')) {
    return new FerryError('connection', `the SQLite database ${path} is read-only`, {
      hint: 'make the file and its folder writable, or choose another target',
      cause: err,
    });
  }
  if (code === 'SQLITE_FULL') {
    return new FerryError('connection', `the disk holding ${path} is full: ${message}`, { hint: 'free some space and run again', cause: err });
  }
  return err;
}
