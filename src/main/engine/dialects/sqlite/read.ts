import type Database from 'better-sqlite3';
import { FerryError } from '../../errors.js';
import type { Row, TableName, Value } from '../../types.js';
import type { ReadRequest, RowCounters } from '../dialect.js';
import { limitClause } from '../base.js';
import { registerUtf8Check, tsvLine, utf8Problem } from './tsv.js';
import { readerFor, toSqlite, type SqliteValue } from './values.js';
import { refuseRow } from '../../readRefusals.js';
import { decodeText } from '../../textEncoding.js';

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

/** A TEXT value's bytes where it is not plain ASCII, else NULL (as utf8Problem asks). */
function nonAsciiBytes(x: string): string {
  return `CASE WHEN typeof(${x}) = 'text' AND ${x} GLOB '*[^ -~]*' THEN CAST(${x} AS BLOB) END`;
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
  registerUtf8Check(db);
  // Beside each column that may hold TEXT: where its bytes are not UTF-8 (asked only of non-ASCII text);
  // in a column decoded from another encoding, the bytes of its non-ASCII text, to decode here.
  const checks = request.columns.map((c) => (c.type.kind === 'binary' ? '' : `, ${c.encoding ? nonAsciiBytes(quote(c.name)) : utf8Problem(quote(c.name))}`)).join('');
  const { sql, params } = selectSql(quote, quoteTable, request, request.columns.map((c) => quote(c.name)).join(', ') + checks);
  const statement = db.prepare(sql).raw(true).safeIntegers(true);
  const readers = request.columns.map((c) => readerFor(c.type));
  const width = readers.length;
  const checked = request.columns.flatMap((c, i) => (c.type.kind === 'binary' ? [] : [i]));
  const batchBytes = request.batchBytes ?? Infinity;
  let bytes = 0;
  let batch: Row[] = [];
  for (const raw of statement.iterate(...params) as IterableIterator<SqliteValue[]>) {
    for (let i = 0; i < width; i++) {
      const v = raw[i];
      bytes += typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.byteLength : 8;
      raw[i] = readers[i](v) as SqliteValue;
    }
    for (let k = 0; k < checked.length; k++) {
      const problem = raw[width + k];
      if (problem === null) continue;
      const column = request.columns[checked[k]];
      if (column.encoding) raw[checked[k]] = readers[checked[k]](decodeText(problem as Uint8Array, column.encoding)) as SqliteValue;
      else refuseRow(raw as Row, `${column.name}: ${String(problem)}`);
    }
    raw.length = width;
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
  const line = tsvLine(request.columns, quote, checked);
  if (request.orderBy.length === 1) {
    yield* readTsvBlocks(db, quote, quoteTable, request, trailing, line);
    return;
  }
  const { sql, params } = selectSql(quote, quoteTable, request, line);
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

/** What a block of lines aims at, and the most rows it takes. */
const BLOCK_BYTES = 256 * 1024;
const MAX_BLOCK_ROWS = 4096;
const FIRST_BLOCK_ROWS = 64;

/**
 * readSqliteTsv where the rows have one key column: SQLite joins the lines of
 * the next N keys itself (group_concat) and hands them over as bytes, so no
 * line becomes a JavaScript string (1M rows: 1.28 → 0.80 s of the main
 * thread). A block's lines may come in any order, each with its own row
 * number; the next block starts after its largest key, and N follows the
 * bytes a block came to. A NULL key (SQLite allows it in a PRIMARY KEY that
 * is not INTEGER) could not be read on after: refused, so the chunk goes row by row.
 */
async function* readTsvBlocks(
  db: Database.Database,
  quote: (n: string) => string,
  quoteTable: (t: TableName) => string,
  request: ReadRequest,
  trailing: RowCounters | undefined,
  line: string,
): AsyncGenerator<Uint8Array> {
  const key = quote(request.orderBy[0]);
  const numbered = trailing ? ` || char(9) || ${trailing.batch} || char(9) || (? + n)` : '';
  const numbers = trailing ? `, row_number() OVER (ORDER BY k COLLATE BINARY) AS n` : '';
  // Two shapes of statement: without a lower key bound (the chunk's first block, when it has none) and with one.
  const statements = new Map<boolean, Database.Statement>();
  const statementFor = (after: Row | undefined) => {
    const bounded = after !== undefined;
    let statement = statements.get(bounded);
    if (!statement) {
      // Only the SQL is wanted here: any one-value `after` gives the bounded shape.
      const inner = selectSql(quote, quoteTable, { ...request, after: bounded ? [null] : undefined }, `${line} AS line, ${key} AS k`).sql;
      statement = db
        .prepare(
          `SELECT CAST(group_concat(line${numbered}, char(10)) || char(10) AS BLOB), max(k COLLATE BINARY), count(*), count(k) ` +
            `FROM (SELECT line, k${numbers} FROM (${inner} LIMIT ?))`,
        )
        .raw(true)
        .safeIntegers(true);
      statements.set(bounded, statement);
    }
    return statement;
  };
  let after = request.after;
  let rows = 0;
  let n = FIRST_BLOCK_ROWS;
  for (;;) {
    // BigInts: better-sqlite3 binds a number as REAL, and the row numbers must print as integers.
    const params = [...(trailing ? [BigInt(trailing.rowBase + rows)] : []), ...keysetBounds(quote, { ...request, after }).params, BigInt(n)];
    const [bytes, last, count, keyed] = statementFor(after).get(...params) as [Buffer | null, SqliteValue, bigint, bigint];
    if (count === 0n || bytes === null) return;
    if (keyed !== count) throw new FerryError('data', `key column "${request.orderBy[0]}" holds NULL, which a read in key order cannot page past`);
    yield bytes;
    rows += Number(count);
    if (Number(count) < n) return;
    after = [last as Value];
    n = Math.max(1, Math.min(MAX_BLOCK_ROWS, Math.round((n * BLOCK_BYTES) / Math.max(1, bytes.length))));
  }
}
