import type Database from 'better-sqlite3';
import type { Row, TableName } from '../../types.js';
import type { ReadRequest } from '../dialect.js';
import { limitClause } from '../base.js';
import { readerFor, toSqlite, type SqliteValue } from './values.js';

/** Key-bound conditions; COLLATE BINARY so text keys sort by code point, as on every engine. */
export function keysetBounds(
  quote: (n: string) => string,
  request: Pick<ReadRequest, 'orderBy' | 'after' | 'through' | 'since'>,
): { sql: string[]; params: SqliteValue[] } {
  const sql: string[] = [];
  const params: SqliteValue[] = [];
  const tuple = `(${request.orderBy.map((k) => `${quote(k)} COLLATE BINARY`).join(', ')})`;
  const marks = `(${request.orderBy.map(() => '?').join(', ')})`;
  if (request.after) {
    sql.push(`${tuple} > ${marks}`);
    params.push(...request.after.map(toSqlite));
  }
  if (request.through) {
    sql.push(`${tuple} <= ${marks}`);
    params.push(...request.through.map(toSqlite));
  }
  if (request.since) {
    sql.push(`${quote(request.since.column)} > ?`);
    params.push(toSqlite(request.since.value));
  }
  return { sql, params };
}

export async function* readSqliteRows(
  db: Database.Database,
  quote: (n: string) => string,
  quoteTable: (t: TableName) => string,
  request: ReadRequest,
): AsyncGenerator<Row[]> {
  const bounds = keysetBounds(quote, request);
  const conditions = [...(request.where ? [`(${request.where})`] : []), ...bounds.sql];
  const sql =
    `SELECT ${request.columns.map((c) => quote(c.name)).join(', ')} FROM ${quoteTable(request.table)}` +
    (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
    (request.orderBy.length ? ` ORDER BY ${request.orderBy.map((k) => `${quote(k)} COLLATE BINARY`).join(', ')}` : '') +
    limitClause(request);
  const statement = db.prepare(sql).raw(true).safeIntegers(true);
  const readers = request.columns.map((c) => readerFor(c.type));
  const width = readers.length;
  const batchBytes = request.batchBytes ?? Infinity;
  let bytes = 0;
  let batch: Row[] = [];
  for (const raw of statement.iterate(...bounds.params) as IterableIterator<SqliteValue[]>) {
    for (let i = 0; i < width; i++) {
      const v = raw[i];
      bytes += typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.byteLength : 8;
      raw[i] = readers[i](v) as SqliteValue;
    }
    batch.push(raw as Row);
    if (batch.length >= request.batchRows || bytes >= batchBytes) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length) yield batch;
}
