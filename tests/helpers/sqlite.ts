import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/**
 * A checksum of a SQLite table's content that does not go through dbferry's
 * own code: rows in key order, every value as text (numbers by their shortest
 * form, so 404.86 stored as REAL equals the text '404.86'), bytes as hex.
 */
export function sqliteChecksum(file: string, table: string, orderBy: string): { rows: number; sha: string } {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare(`SELECT * FROM "${table}" ORDER BY ${orderBy}`).raw(true).all() as unknown[][];
    const hash = createHash('sha256');
    for (const row of rows) hash.update(JSON.stringify(row.map(text)) + '\n');
    return { rows: rows.length, sha: hash.digest('hex') };
  } finally {
    db.close();
  }
}

function text(v: unknown): string | null {
  if (v === null) return null;
  if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`;
  return String(v);
}

export function sqliteExec(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

export function sqliteAll(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}
