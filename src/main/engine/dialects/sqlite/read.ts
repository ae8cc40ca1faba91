import type Database from 'better-sqlite3';
import type { Row, TableName } from '../../types.js';
import type { ReadRequest, RowCounters } from '../dialect.js';
import { limitClause } from '../base.js';
import { tsvLine } from './tsv.js';
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

/** SELECT `list` of the request's rows, bounded and ordered by key. */
export function selectSql(quote: (n: string) => string, quoteTable: (t: TableName) => string, request: ReadRequest, list: string): { sql: string; params: SqliteValue[] } {
  const bounds = keysetBounds(quote, request);
  const conditions = [...(request.where ? [`(${request.where})`] : []), ...bounds.sql];
  const sql =
    `SELECT ${list} FROM ${quoteTable(request.table)}` +
    (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
    (request.orderBy.length ? ` ORDER BY ${request.orderBy.map((k) => `${quote(k)} COLLATE BINARY`).join(', ')}` : '') +
    limitClause(request);
  return { sql, params: bounds.params };
}

export async function* readSqliteRows(
  db: Database.Database,
  quote: (n: string) => string,
  quoteTable: (t: TableName) => string,
  request: ReadRequest,
): AsyncGenerator<Row[]> {
  const { sql, params } = selectSql(quote, quoteTable, request, request.columns.map((c) => quote(c.name)).join(', '));
  const statement = db.prepare(sql).raw(true).safeIntegers(true);
  const readers = request.columns.map((c) => readerFor(c.type));
  const width = readers.length;
  const batchBytes = request.batchBytes ?? Infinity;
  let bytes = 0;
  let batch: Row[] = [];
  for (const raw of statement.iterate(...params) as IterableIterator<SqliteValue[]>) {
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

const CHUNK_CHARS = 256 * 1024;

/**
 * The request's rows as 'tsv' (./tsv.ts), each line followed by the batch and
 * its row number. SQLite builds each line; here they are only joined and
 * encoded, a quarter megabyte at a time. Unchecked (`checked` false), the
 * caller makes the check beside the read.
 */
export async function* readSqliteTsv(
  db: Database.Database,
  quote: (n: string) => string,
  quoteTable: (t: TableName) => string,
  request: ReadRequest,
  trailing: RowCounters | undefined,
  checked = true,
): AsyncGenerator<Uint8Array> {
  const { sql, params } = selectSql(quote, quoteTable, request, tsvLine(request.columns, quote, checked));
  const statement = db.prepare(sql).pluck(true);
  const tail = trailing ? `\t${trailing.batch}\t` : undefined;
  let row = trailing?.rowBase ?? 0;
  let chunk = '';
  for (const line of statement.iterate(...params) as IterableIterator<string>) {
    chunk += tail ? line + tail + ++row + '\n' : line + '\n';
    if (chunk.length >= CHUNK_CHARS) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  if (chunk) yield Buffer.from(chunk, 'utf8');
}
