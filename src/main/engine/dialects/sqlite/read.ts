import type Database from 'better-sqlite3';
import type { Row, TableName } from '../../types.js';
import type { ReadRequest } from '../dialect.js';
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
    (request.orderBy.length ? ` ORDER BY ${request.orderBy.map((k) => `${quote(k)} COLLATE BINARY`).join(', ')}` : '');
  const statement = db.prepare(sql).raw(true).safeIntegers(true);
  const readers = request.columns.map((c) => readerFor(c.type));
  const width = readers.length;
  let batch: Row[] = [];
  for (const raw of statement.iterate(...bounds.params) as IterableIterator<SqliteValue[]>) {
    for (let i = 0; i < width; i++) raw[i] = readers[i](raw[i]) as SqliteValue;
    batch.push(raw as Row);
    if (batch.length >= request.batchRows) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
