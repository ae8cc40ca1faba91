/**
 * Streaming reads: one SELECT per request, rows pulled from the socket with
 * backpressure (mysql2 pauses the connection when the stream's buffer is
 * full) and grouped into batches, so a table is never held in memory.
 */
import mysql from 'mysql2';
import type { Connection as CoreConnection } from 'mysql2';
import type { Connection } from 'mysql2/promise';
import type { Column, Row, TableName, Value } from '../../types.js';
import { BARE_HASH_KINDS, type BucketHash, type BucketRequest, type BucketSet, type HashKind, type ReadRequest, type RowCounters } from '../dialect.js';
import { bucketSetParts } from '../../pipeline/rowHash.js';
import { limitClause } from '../base.js';
import { quoteBacktick } from '../base.js';
import { decoderFor, toParam } from './values.js';
import { TSV, TsvWriter, isTimestamptz, tsvCarries } from '../tsv.js';
import { JSON_ROWS, ROW_END } from '../jsonRows.js';
import { FerryError } from '../../errors.js';
import { jsonRowsOpen, jsonRowsRefusal } from './jsonRows.js';
import { keyBucketSql } from './keyHash.js';

export interface ReadContext {
  conn: Connection;
  core: CoreConnection;
  quoteTable(name: TableName): string;
  readonly maxAllowedPacket: number;
  /** How rows of native kinds are hashed (bucketHashes). */
  readonly nativeRowHash?: NativeRowHash;
  /** Turns driver errors into FerryErrors. */
  fail(err: unknown): Error;
}

export async function* readRows(ctx: ReadContext, request: ReadRequest): AsyncIterable<Row[]> {
  const decoders = request.columns.map((c) => decoderFor(c.type));
  const width = decoders.length;
  const batchRows = Math.max(1, request.batchRows);
  const batchBytes = request.batchBytes ?? Infinity;
  let bytes = 0;
  let batch: Row[] = [];
  for await (const rows of bufferfuls(ctx, { sql: selectSql(ctx, request), rowsAsArray: true }, Math.min(batchRows, 1000))) {
    for (const raw of rows) {
      // mysql2 gives each row an array of its own: decoded in place.
      for (let i = 0; i < width; i++) {
        const v = raw[i];
        bytes += typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.byteLength : 8;
        raw[i] = decoders[i](v);
      }
      batch.push(raw as Row);
      if (batch.length >= batchRows || bytes >= batchBytes) {
        yield batch;
        batch = [];
        bytes = 0;
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * The rows as 'tsv' (dialect.ts) or 'json-rows' (../jsonRows.ts), each
 * followed by dbferry's counters (the batch number and rowBase + its number)
 * where there are any; bytes never decoded (mysql2's typeCast off).
 */
export function readRaw(ctx: ReadContext, request: ReadRequest, trailing: RowCounters | undefined, format: string): AsyncGenerator<Uint8Array> {
  if (format === JSON_ROWS) return readJsonRows(ctx, request, trailing);
  if (format !== TSV) throw new FerryError('internal', `MySQL cannot read rows as ${format}`);
  return readTsv(ctx, request, trailing);
}

/**
 * 'tsv': the values as the server sends them in the text protocol, escaped as they are copied
 * into the output straight from each row's packet (inPlace): mysql2's parser would make a Buffer
 * per value and an array per row first, most of a 1M-row read's CPU with the garbage they leave.
 */
function readTsv(ctx: ReadContext, request: ReadRequest, trailing: RowCounters | undefined): AsyncGenerator<Buffer> {
  let row = trailing?.rowBase ?? 0;
  const tail = trailing ? `\t${trailing.batch}\t` : undefined;
  return inPlace(ctx, selectSql(ctx, request), (packet, out) => {
    writeTsvValues(packet, out);
    if (tail) out.text(`${tail}${++row}\n`);
    else out.byte(NEWLINE);
  });
}

/** A row of a text-protocol result set as mysql2 hands it to its parser: the payload is buffer[offset, end). */
interface RowPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

/** What inPlace uses of mysql2's query command: its row state (the parser's place) and its events. */
interface QueryCommand {
  row(this: QueryCommand, packet: RowPacket, connection: unknown): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  _localStreamError?: unknown;
  doneInsert(rs: null): unknown;
}

/**
 * A row's values, length-coded strings one after another (NULL is 0xfb), as 'tsv' fields: the
 * bytes of each escaped into `out` where they lie in the packet.
 */
export function writeTsvValues(packet: RowPacket, out: TsvWriter): void {
  const b = packet.buffer;
  const end = packet.end;
  let at = packet.offset;
  let first = true;
  while (at < end) {
    if (first) first = false;
    else out.byte(TAB);
    const tag = b[at++];
    let len: number;
    if (tag < 0xfb) len = tag;
    else if (tag === 0xfb) {
      out.value(null);
      continue;
    } else if (tag === 0xfc) {
      len = b[at] | (b[at + 1] << 8);
      at += 2;
    } else if (tag === 0xfd) {
      len = b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
      at += 3;
    } else {
      len = b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 2 ** 32;
      at += 8;
    }
    if (at + len > end) throw new FerryError('internal', 'a row packet from the server ends inside a value');
    out.valueAt(b, at, at + len);
    at += len;
  }
}

/**
 * The rows of `sql`, each written by `write` from its packet as it arrives (mysql2's row state
 * replaced on this one query), handed out a quarter megabyte at a time through the query's stream,
 * with its backpressure (a few pieces buffered, then the connection paused).
 */
async function* inPlace(ctx: ReadContext, sql: string, write: (packet: RowPacket, out: TsvWriter) => void): AsyncGenerator<Buffer> {
  const out = new TsvWriter();
  const pieces = bufferfuls(ctx, { sql, typeCast: false }, 4, (command) => {
    const cmd = command as QueryCommand;
    const parse = cmd.row;
    const row = function (this: QueryCommand, packet: RowPacket, connection: unknown): unknown {
      if (packet.isEOF()) {
        const rest = out.take(0);
        if (rest) this.emit('result', rest, 0);
        return parse.call(this, packet, connection);
      }
      try {
        write(packet, out);
      } catch (err) {
        // As mysql2 does with a row its parser refuses: the query ends with the error.
        this._localStreamError = err;
        return this.doneInsert(null);
      }
      const full = out.take(CHUNK_BYTES);
      if (full) this.emit('result', full, 0);
      return row;
    };
    cmd.row = row;
  });
  for await (const list of pieces) for (const piece of list as unknown as Buffer[]) yield piece;
}

/**
 * 'json-rows': each row's JSON text as the server built it (./jsonRows.ts),
 * closed here with dbferry's counters. A row the server marked as refused
 * stops the read with an error naming the value.
 */
async function* readJsonRows(ctx: ReadContext, request: ReadRequest, trailing: RowCounters | undefined): AsyncGenerator<Buffer> {
  let row = trailing?.rowBase ?? 0;
  const tail = trailing ? `,${trailing.batch},` : undefined;
  const close = Buffer.from(`]${ROW_END}`);
  const rows = written(ctx, selectSql(ctx, request, jsonRowsOpen(request.columns)), (raw, out) => {
    // CONCAT gives NULL (and a warning) for a result longer than max_allowed_packet.
    if (raw[0] === null) throw new FerryError('data', `a row's JSON would be longer than the server's max_allowed_packet (${ctx.maxAllowedPacket} bytes)`);
    out.bytes(raw[0]);
    if (tail) out.text(`${tail}${++row}]${ROW_END}`);
    else out.bytes(close);
  });
  for await (const chunk of rows) {
    const refusal = jsonRowsRefusal(chunk, request.columns);
    if (refusal) throw refusal;
    yield chunk;
  }
}

/** The rows of `sql`, undecoded, each written by `write`, handed out a quarter megabyte at a time. */
async function* written(ctx: ReadContext, sql: string, write: (raw: (Buffer | null)[], out: TsvWriter) => void): AsyncGenerator<Buffer> {
  const out = new TsvWriter();
  for await (const rows of bufferfuls(ctx, { sql, rowsAsArray: true, typeCast: false }, 1000)) {
    for (const raw of rows as (Buffer | null)[][]) write(raw, out);
    const full = out.take(CHUNK_BYTES);
    if (full) yield full;
  }
  const rest = out.take(0);
  if (rest) yield rest;
}

const CHUNK_BYTES = 256 * 1024;
const TAB = 0x09;
const NEWLINE = 0x0a;

/**
 * The text protocol prints these as 'tsv' carries them (BIT comes as raw bits), and TIMESTAMP as
 * UTC text: the session's time zone is +00:00 (connect.ts).
 */
export function tsvReadable(c: Column): boolean {
  return (tsvCarries(c) || (isTimestamptz(c) && /^\s*timestamp\b/i.test(c.nativeType))) && !/^\s*bit\b/i.test(c.nativeType);
}

/** The server writes these as 'json-rows' (./jsonRows.ts): what 'tsv' carries but booleans (BIT(1), which tsvReadable leaves out). */
export function jsonRowsReadable(c: Column): boolean {
  return tsvReadable(c) && c.type.kind !== 'boolean';
}

/**
 * A mysql2 query streamed: rows taken from the stream's buffer synchronously,
 * a bufferful at a time (a promise per bufferful rather than per row: ~18% less
 * CPU for a 1M-row read), with backpressure (mysql2 pauses the connection while
 * the buffer is full).
 */
async function* bufferfuls(ctx: ReadContext, query: Parameters<CoreConnection['query']>[0] & object, highWaterMark: number, prepare?: (command: unknown) => void): AsyncGenerator<unknown[][]> {
  // Listened to for the whole read: mysql2 emits a query's error on the stream
  // whenever it comes, also while a bufferful is out with the caller; a connection
  // that drops mid-stream it reports on the connection only (a query without a
  // callback is not told), which without this left the read waiting forever.
  let failed: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const onError = (err: Error) => {
    failed ??= err;
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  // Before the query: on a connection that dropped while idle (a lost SSH tunnel, a KILL
  // between statements) mysql2 emits "closed state" on the connection at once, inside query().
  ctx.core.on('error', onError);
  const command = ctx.core.query(query as never);
  // Before any row comes: the command runs once the socket delivers its packets, after this turn.
  prepare?.(command);
  const stream = command.stream({ highWaterMark });
  stream.on('error', onError);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('readable', () => wake?.());
  try {
    for (;;) {
      const rows: unknown[][] = [];
      let raw: unknown[] | null;
      while ((raw = stream.read() as unknown[] | null) !== null) rows.push(raw);
      if (rows.length) {
        yield rows;
        // Rows that came while the caller had these filled the buffer (and paused the connection):
        // its 'readable' went by unheard. Read again before waiting.
        continue;
      }
      if (failed) throw failed;
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } catch (err) {
    throw ctx.fail(err);
  } finally {
    // The stream's listeners go with it; the connection outlives the read.
    ctx.core.removeListener('error', onError);
    // Stopping early destroys the stream; mysql2 then resumes and discards the rest.
    stream.destroy();
  }
}

/** The request's SELECT, of its columns or of `list`; `ordered` false: without ORDER BY (the key bounds all the same). */
function selectSql(ctx: ReadContext, r: ReadRequest, list = r.columns.map((c) => selectExpression(c)).join(', '), ordered = true): string {
  const keyColumns = r.orderBy.map((name) => r.columns.find((c) => c.name === name));
  const conditions: string[] = [];
  if (r.where) conditions.push(`(${r.where})`);
  if (r.after) conditions.push(keysetCondition(r.orderBy, keyColumns, r.after, '>'));
  if (r.through) conditions.push(keysetCondition(r.orderBy, keyColumns, r.through, '<='));
  if (r.since) conditions.push(keysetCondition([r.since.column], [r.columns.find((c) => c.name === r.since!.column)], [r.since.value], '>'));
  let sql = `SELECT ${list} FROM ${ctx.quoteTable(r.table)}`;
  if (conditions.length) sql += ` WHERE ${conditions.join(' AND ')}`;
  if (r.orderBy.length && ordered) sql += ` ORDER BY ${r.orderBy.map((k, i) => keyExpression(k, keyColumns[i])).join(', ')}`;
  return sql + limitClause(r);
}

/**
 * A key column as dbferry orders and bounds it: by code point, as PostgreSQL
 * (COLLATE "C") and SQLite (BINARY) do, so that key ranges and key order mean
 * the same rows on both sides of a copy. A text key in a case- or
 * accent-insensitive collation ('apple' < 'Banana' < 'cherry') is compared as
 * its UTF-8 bytes ('Banana' < 'apple' < 'cherry'), an ENUM (ordered by its
 * labels' positions) as its label's bytes. The index on the column cannot
 * serve that order, so such a key costs a sort; a _bin column keeps its index.
 */
export function keyExpression(name: string, column: Column | undefined): string {
  const q = quoteBacktick(name);
  if (!column || !needsByteOrder(column)) return q;
  return `CAST(CONVERT(${q} USING utf8mb4) AS BINARY)`;
}

function needsByteOrder(column: Column): boolean {
  if (column.type.kind === 'enum') return true;
  if (column.type.kind !== 'text') return false;
  return !/(_bin|^binary)$/i.test(column.collation ?? '');
}

function selectExpression(c: Column): string {
  const q = quoteBacktick(c.name);
  // Geometry would otherwise be parsed into objects by the driver.
  if (/^(geometry|point|linestring|polygon|multi|geometrycollection)/i.test(c.nativeType)) return `ST_AsBinary(${q})`;
  // The text protocol prints FLOAT with 6 significant digits (16777215 -> "1.67772e7"):
  // widened to DOUBLE it arrives as the exact single-precision value.
  if (c.type.kind === 'float' && c.type.bytes === 4) return `CAST(${q} AS DOUBLE)`;
  return q;
}

/**
 * (k1, k2) > (a, b) spelled out as `k1 >= a AND (k1 > a OR (k1 = a AND k2 > b))`:
 * MariaDB does not turn row-value comparisons into index ranges, this it does.
 * Values are bound placeholders, formatted by the driver's escaper.
 */
export function keysetCondition(keys: string[], columns: (Column | undefined)[], bound: Row, op: '>' | '<='): string {
  const strict = op === '>' ? '>' : '<';
  const loose = op === '>' ? '>=' : '<=';
  const params: Value[] = [];
  const q = keys.map((k, i) => keyExpression(k, columns[i]));
  const p = (i: number) => {
    params.push(toParam(bound[i], columns[i]));
    return '?';
  };
  const lead = keys.length > 1 ? `${q[0]} ${loose} ${p(0)} AND ` : '';
  const alternatives: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const parts: string[] = [];
    for (let j = 0; j < i; j++) parts.push(`${q[j]} = ${p(j)}`);
    const last = i === keys.length - 1 ? (op === '>' ? '>' : '<=') : strict;
    parts.push(`${q[i]} ${last} ${p(i)}`);
    alternatives.push(parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`);
  }
  const sql = `${lead}(${alternatives.join(' OR ')})`;
  return mysql.format(sql, params as Parameters<typeof mysql.format>[1]);
}

export async function longestText(ctx: ReadContext, table: TableName, column: string, where?: string): Promise<number | null> {
  try {
    const [result] = await ctx.conn.query({
      sql: `SELECT MAX(CHAR_LENGTH(${quoteBacktick(column)})) FROM ${ctx.quoteTable(table)}${where ? ` WHERE (${where})` : ''}`,
      rowsAsArray: true,
    });
    const n = (result as unknown[][])[0][0];
    return n === null ? null : Number(n);
  } catch (err) {
    throw ctx.fail(err);
  }
}

export async function countRows(ctx: ReadContext, table: TableName, where?: string): Promise<number> {
  try {
    const [result] = await ctx.conn.query({
      sql: `SELECT COUNT(*) FROM ${ctx.quoteTable(table)}${where ? ` WHERE (${where})` : ''}`,
      rowsAsArray: true,
    });
    return Number((result as unknown[][])[0][0]);
  } catch (err) {
    throw ctx.fail(err);
  }
}

/** A fractional column's text without trailing zeros (its text always has a point: the type's scale or precision is not 0). */
function stripFraction(t: string): string {
  return `TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${t}))`;
}

/**
 * Can the column's text hold a fractional part? Not an integer, nor a
 * DECIMAL of scale 0, nor a TIME or DATETIME of no fractional seconds: their
 * text is its own without trailing zeros, and is not taken apart three times
 * per row to strip them (6 casts of a DATETIME per row, where 2 do).
 */
function fractional(column: Column): boolean {
  const t = column.type;
  if (t.kind === 'integer') return false;
  if (t.kind === 'decimal') return t.scale !== 0;
  if (t.kind === 'time' || t.kind === 'timestamp') return t.precision !== 0;
  return true;
}

/**
 * A column's text for its hash kind (../../pipeline/rowHash.ts), in utf8mb4;
 * NULL for NULL. The column itself where the server's own text is the kind's
 * (an integer, a date, a decimal or time of no fraction): CONCAT_WS prints it
 * without a cast. Text already in utf8mb4 is not converted.
 */
function hashPiece(kind: HashKind, column: Column): string {
  const x = quoteBacktick(column.name);
  const chars = /^utf8mb4_/i.test(column.collation ?? '') ? x : `CONVERT(${x} USING utf8mb4)`;
  if (column.type.kind === 'boolean' || (kind === 'int' && /^\s*bit\b/i.test(column.nativeType))) return `CASE WHEN ${x} IS NULL THEN NULL WHEN ${x} <> 0 THEN '1' ELSE '0' END`;
  switch (kind) {
    case 'int':
    case 'decx':
    case 'date':
      return x;
    case 'ts':
      // A DATETIME or TIMESTAMP prints 19 characters before its fraction (years 0000-9999): without a fraction its
      // first 19, else its text without trailing zeros (a digit of the fraction is not 0, so the point stays).
      // One conversion to text, where stripFraction's two TRIMs cost 0.15-0.2 s of server CPU per 1M rows
      // (a third of the bench's text). TIMESTAMP prints in the session's time zone, UTC (connect.ts).
      // MICROSECOND as IF's condition itself (0 is false), not compared with 0: 14 instructions a row fewer (callgrind).
      if (column.type.kind === 'timestamp' && fractional(column)) return `IF(MICROSECOND(${x}), TRIM(TRAILING '0' FROM ${x}), LEFT(${x}, 19))`;
      return fractional(column) ? stripFraction(x) : x;
    case 'dec':
    case 'time':
      // A fraction always has its point: no LOCATE.
      return fractional(column) ? stripFraction(x) : x;
    case 'text':
      return chars;
    case 'textfixed':
      return `TRIM(TRAILING ' ' FROM ${chars})`;
    case 'uuid':
      return `LOWER(CAST(${x} AS CHAR CHARACTER SET utf8mb4))`;
    case 'bytes':
      return `LOWER(HEX(${x}))`;
    default:
      if (column.type.kind === 'binary') return `CONCAT('x', LOWER(HEX(${x})))`;
      if (column.type.kind === 'float' && column.type.bytes === 4) return `CAST(CAST(${x} AS DOUBLE) AS CHAR CHARACTER SET utf8mb4)`;
      return `CAST(${x} AS CHAR CHARACTER SET utf8mb4)`;
  }
}

/**
 * The row text of rowHash.ts: '|' between the pieces, bare kinds as they are, others prefixed with their length, '-' for NULL.
 * A NOT NULL column's length and text joined by CONCAT_WS, ~20 instructions a row fewer than CONCAT (callgrind); a nullable
 * one's by CONCAT, whose NULL COALESCE turns into '-' (CONCAT_WS would give '').
 */
function normalizedRowText(req: BucketRequest): string {
  const pieces = req.columns.map((c, i) => {
    const t = hashPiece(req.kinds[i], c);
    if (BARE_HASH_KINDS.has(req.kinds[i])) return c.nullable ? `COALESCE(${t}, '-')` : t;
    return c.nullable ? `COALESCE(CONCAT(CHAR_LENGTH(${t}), ':', ${t}), '-')` : `CONCAT_WS(':', CHAR_LENGTH(${t}), ${t})`;
  });
  return `CONCAT_WS('|', ${pieces.join(', ')})`;
}

/**
 * How a row of native kinds is hashed: 'crc32+crc32c' where the server has
 * CRC32C (MariaDB 10.8+), the row text's CRC32 and CRC32C as one 64-bit
 * number, at half the CPU of md5 and its hex digits turned into a number
 * (most of a comparison's time: 1.2 s against 2.1 s of server CPU for
 * 1,000,000 rows of the bench's orders); else the md5 of BucketRequest.
 */
export type NativeRowHash = 'crc32+crc32c' | 'md5';

export function nativeRowHashOf(facts: { flavor: string; version: string }): NativeRowHash {
  const [major, minor] = (/(\d+)\.(\d+)/.exec(facts.version) ?? []).slice(1).map(Number);
  return facts.flavor === 'mariadb' && (major > 10 || (major === 10 && minor >= 8)) ? 'crc32+crc32c' : 'md5';
}

/** Kinds whose text is never '-' nor holds a '|' (digits, signs, points, dates): not prefixed with their length. */
const BARE_KINDS = ['integer', 'decimal', 'float', 'boolean', 'date', 'time', 'timestamp'];

/**
 * Both sides MySQL/MariaDB, the same types: the values as the server prints
 * them, '|' between them, any text or bytes prefixed with their length (a '|'
 * inside cannot shift a value into the next), NULL as '-' (which no value
 * prints as). A column that cannot be NULL is printed bare: the same text as
 * a nullable column's value on the other side.
 */
function nativeRowText(columns: Column[]): string {
  const value = (c: Column) => {
    const x = quoteBacktick(c.name);
    if (/^\s*bit\b/i.test(c.nativeType)) return `${x} + 0`;
    if (c.type.kind === 'float' && c.type.bytes === 4) return `CAST(${x} AS DOUBLE)`;
    if (BARE_KINDS.includes(c.type.kind)) return x;
    // As normalizedRowText: CONCAT_WS where the value is never NULL, CONCAT (NULL for NULL) where it may be.
    return c.nullable ? `CONCAT(LENGTH(${x}), ':', ${x})` : `CONCAT_WS(':', LENGTH(${x}), ${x})`;
  };
  return `CONCAT_WS('|', ${columns.map((c) => (c.nullable ? `COALESCE(${value(c)}, '-')` : value(c))).join(', ')})`;
}

/**
 * The row's hash: of native text (both sides one engine that hashes alike:
 * rowHash.ts hashKinds), CRC32 + CRC32C where the server has them; else md5,
 * as PostgreSQL and rowHash.ts compute it. (CRC32 + CRC32C build the text
 * twice: for the dearer normalized text that costs what md5 saves.)
 */
function rowHashSql(ctx: ReadContext, req: BucketRequest): string {
  if (!req.kinds.every((k) => k === 'native')) return `CAST(CONV(LEFT(SHA2(${normalizedRowText(req)}, 256), 15), 16, 10) AS UNSIGNED)`;
  const text = nativeRowText(req.columns);
  return ctx.nativeRowHash === 'crc32+crc32c' ? `((CRC32(${text}) << 32) | CRC32C(${text}))` : `CAST(CONV(RIGHT(MD5(${text}), 15), 16, 10) AS UNSIGNED)`;
}

/**
 * A column's native text, as far as it depends on the column: its type without
 * display width or size (TINYINT(1) and TINYINT(4), TEXT and MEDIUMTEXT,
 * VARCHAR(32) and VARCHAR(64) print a value alike; CHAR drops trailing
 * spaces VARCHAR keeps) and its collation.
 */
function printedAs(c: Column): string {
  const t = c.nativeType.toLowerCase().replace(/\s+/g, ' ').trim();
  const family = /^(tiny|small|medium|big)?int\b|^integer\b/.test(t)
    ? t.replace(/\(\d+\)/, '').replace(/\bzerofill\b/, 'zerofill!')
    : /^(tiny|medium|long)?text\b/.test(t)
      ? 'text'
      : /^varchar\b/.test(t)
        ? 'varchar'
        : /^char\b/.test(t)
          ? 'char'
          : undefined;
  // ZEROFILL pads to the display width: its width counts.
  if (!family || family.includes('zerofill!')) return `${t}|${c.collation ?? ''}`;
  return `${family}|${c.collation ?? ''}`;
}

export function printsAlike(a: Column, b: Column): boolean {
  return printedAs(a) === printedAs(b);
}

/**
 * Session.keyIdentities: a text key column of a collation (every MySQL/MariaDB
 * collation but a NO PAD binary one calls some different strings equal) as the
 * hex of its WEIGHT_STRING, trailing spaces dropped first where the collation
 * pads (PAD SPACE: 'a ' = 'a'); other columns as their value. Values are bound.
 */
export async function keyIdentities(ctx: ReadContext, columns: Column[], keys: Value[][]): Promise<string[]> {
  const collated = columns.map((c) => (c.type.kind === 'text' || c.type.kind === 'enum') && !!c.collation && /^[A-Za-z0-9_]+$/.test(c.collation));
  if (!collated.some(Boolean)) return keys.map((k) => JSON.stringify(k.map((v) => (v === null ? null : String(v)))));
  const out: string[] = [];
  const BATCH = 500;
  for (let at = 0; at < keys.length; at += BATCH) {
    const batch = keys.slice(at, at + BATCH);
    const params: unknown[] = [];
    const selects = batch.map((key, n) => {
      const parts = columns.map((c, i) => {
        params.push(toParam(key[i]));
        if (!collated[i]) return 'HEX(?)';
        const v = /nopad/i.test(c.collation!) ? '?' : `TRIM(TRAILING ' ' FROM ?)`;
        return `HEX(WEIGHT_STRING(CONVERT(${v} USING ${c.collation!.split('_')[0]}) COLLATE ${c.collation}))`;
      });
      return `SELECT ${n}, CONCAT_WS(',', ${parts.join(', ')})`;
    });
    try {
      const [rows] = await ctx.conn.query({ sql: selects.join(' UNION ALL '), values: params, rowsAsArray: true });
      const byIndex = new Map((rows as unknown[][]).map((r) => [Number(r[0]), String(r[1])]));
      for (let n = 0; n < batch.length; n++) out.push(byIndex.get(n)!);
    } catch (err) {
      throw ctx.fail(err);
    }
  }
  return out;
}

/** Bucket ids ORed as key ranges at most this many (MariaDB checks each row against every range of an OR). */
const FEW_RANGES = 32;
/**
 * Keys listed one by one at most this many: point reads of the index (4,000
 * keys of 2,000 scattered buckets: 10 ms of server CPU, against 230 ms for
 * testing each row of a 1,000,000-row span; 128,000 keys of 2,000 buckets of
 * 64: 0.4 s against 0.8 s for the span), and at most this many bytes of SQL
 * (servers take 4 MB or more a statement).
 */
const LISTED_KEYS = 200_000n;
const LISTED_BYTES = 2_000_000n;

/**
 * The keys of several levels' buckets, sorted, when they fit one IN list
 * (LISTED_KEYS, LISTED_BYTES) and more than one level has buckets; else
 * undefined (each level's own condition then).
 */
export function listedKeys(lo: bigint, levels: Array<{ width: bigint; ids: bigint[] }>): bigint[] | undefined {
  const used = levels.filter((l) => l.ids.length);
  if (used.length < 2) return undefined;
  let n = 0n;
  let last = lo;
  for (const l of used) {
    n += BigInt(l.ids.length) * l.width;
    for (const id of l.ids) if (lo + (id + 1n) * l.width - 1n > last) last = lo + (id + 1n) * l.width - 1n;
  }
  if (n > LISTED_KEYS || n * BigInt(last.toString().length + 2) > LISTED_BYTES) return undefined;
  const keys = new Set<bigint>();
  for (const l of used) for (const id of l.ids) for (let k = lo + id * l.width; k < lo + (id + 1n) * l.width; k++) keys.add(k);
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The keys of a BucketSet's buckets, in a form the key's index serves (Session.bucketCondition). */
export function bucketSetCondition(key: string, set: BucketSet): string {
  const { lo, levels } = bucketSetParts(set);
  // Every level's keys in one IN list where they fit one: MariaDB reads an OR of two IN lists by scanning the table.
  const listed = listedKeys(BigInt(lo), levels.map((l) => ({ width: BigInt(l.width), ids: l.ids.map(BigInt) })));
  if (listed) return `(${quoteBacktick(key)} IN (${listed.join(', ')}))`;
  return `(${levels.map((l) => bucketsCondition(key, BigInt(lo), BigInt(l.width), l.ids.map(BigInt), set.narrow)).join(' OR ')})`;
}

/**
 * Bucket ids split into parts whose keys an IN list of bucketsCondition takes
 * (LISTED_KEYS, LISTED_BYTES), in key order; one part where they fit, or
 * where a bucket alone is wider than a list (its own key range then).
 */
export function listedParts(lo: bigint, width: bigint, ids: bigint[]): bigint[][] {
  const sorted = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!sorted.length) return [sorted];
  const digits = BigInt((lo + (sorted[sorted.length - 1] + 1n) * width).toString().length + 2);
  const perPart = [LISTED_KEYS, LISTED_BYTES / digits].reduce((a, b) => (a < b ? a : b)) / width;
  if (perPart < 2n || BigInt(sorted.length) <= perPart) return [sorted];
  const parts: bigint[][] = [];
  for (let i = 0; i < sorted.length; i += Number(perPart)) parts.push(sorted.slice(i, i + Number(perPart)));
  return parts;
}

/**
 * floor((key - lo) / width) is one of `ids`, in a form the key's index
 * serves: a few buckets (neighbours joined) as key ranges; up to
 * LISTED_KEYS keys as an IN list of them; more as the span from the first to
 * the last bucket's keys (an index range) with each row's bucket number
 * looked up in the sorted IN list.
 */
export function bucketsCondition(key: string, lo: bigint, width: bigint, ids: bigint[], narrow: boolean): string {
  const q = quoteBacktick(key);
  const sorted = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!sorted.length) return '(1 = 0)';
  const from = (id: bigint) => lo + id * width;
  const to = (id: bigint) => lo + (id + 1n) * width - 1n;
  const runs: Array<[bigint, bigint]> = [];
  for (const id of sorted) {
    const last = runs[runs.length - 1];
    if (last && id === last[1] + 1n) last[1] = id;
    else runs.push([id, id]);
  }
  if (runs.length <= FEW_RANGES) return `(${runs.map(([a, b]) => (a === b && width === 1n ? `${q} = ${from(a)}` : `${q} BETWEEN ${from(a)} AND ${to(b)}`)).join(' OR ')})`;
  const listed = BigInt(sorted.length) * width;
  if (listed <= LISTED_KEYS && listed * BigInt(to(sorted[sorted.length - 1]).toString().length + 2) <= LISTED_BYTES) {
    const keys: bigint[] = [];
    for (const id of sorted) for (let k = from(id); k <= to(id); k++) keys.push(k);
    return `(${q} IN (${keys.join(', ')}))`;
  }
  const k = narrow ? `CAST(${q} AS SIGNED)` : `CAST(${q} AS DECIMAL(65,0))`;
  return `(${q} BETWEEN ${from(sorted[0])} AND ${to(sorted[sorted.length - 1])} AND ((${k} - ${lo}) DIV ${width}) IN (${sorted.join(', ')}))`;
}

/** BucketRequest (dialect.ts): one scan, grouped by bucket, the hashes summed exactly (SUM of BIGINT UNSIGNED is a DECIMAL). */
export async function bucketHashes(ctx: ReadContext, req: BucketRequest): Promise<BucketHash[]> {
  const key = quoteBacktick(req.orderBy[0]);
  const { lo, width, within, narrow } = req.buckets;
  // More keys in the buckets `within` than one IN list takes: a statement per part of them, each
  // read through the key's index, where one statement tested every row of their span.
  const parts = !within || req.buckets.keyHash ? undefined : listedParts(lo, within.width, within.ids);
  if (parts && parts.length > 1) {
    const out: BucketHash[] = [];
    for (const ids of parts) out.push(...(await bucketHashes(ctx, { ...req, buckets: { ...req.buckets, within: { width: within!.width, ids } } })));
    return out;
  }
  // Keys from lo up: the dividend is never negative, so DIV is a floor. A signed integer key is subtracted as it
  // is (its CAST AS SIGNED changed nothing, at ~50 instructions a row: callgrind).
  const keyColumn = req.columns.find((c) => c.name === req.orderBy[0]);
  const signedKey = keyColumn?.type.kind === 'integer' && !keyColumn.type.unsigned;
  const k = narrow ? (signedKey ? key : `CAST(${key} AS SIGNED)`) : `CAST(${key} AS DECIMAL(65,0))`;
  const keyHash = req.buckets.keyHash;
  const byKey = keyHash ? req.orderBy.map((name) => req.columns.find((c) => c.name === name)!) : [];
  const bucket = (w: bigint) => (keyHash ? keyBucketSql(byKey, keyHash, w) : `((${k} - ${lo.toString()}) DIV ${w.toString()})`);
  // Integer buckets as key ranges or keys the index serves; hashed key buckets by their hash (a scan).
  const only = !within ? undefined : keyHash ? `${bucket(within.width)} IN (${within.ids.map(String).join(', ')})` : bucketsCondition(req.orderBy[0], lo, within.width, within.ids, !!narrow);
  const where = only ? (req.where ? `(${req.where}) AND ${only}` : only) : req.where;
  // Without ORDER BY (the buckets' order is of no use; MariaDB sorted the groups). The normalized text's SHA-256 in one
  // SELECT grouped by the bucket's expression: MariaDB merged the derived table all the same, but read each row's values
  // through it. Instructions a row of the bench's orders (callgrind, MariaDB 10.11), with the CAST and CONCAT_WS above:
  // SHA-256 16,665 -> 16,515, crc32+crc32c 12,618 -> 12,506 (for which the derived table costs less than one SELECT,
  // +45 a row). A LIMIT would have to come before the grouping: a derived table then too.
  const b = bucket(width);
  const h = rowHashSql(ctx, req);
  const list = (b: string, h: string) => `CAST(${b} AS CHAR), COUNT(*), CAST(SUM(${h}) AS CHAR)`;
  const oneSelect = !req.kinds.every((k) => k === 'native') && req.limit === undefined && req.offset === undefined;
  const sql = oneSelect
    ? `${selectSql(ctx, { ...req, where }, list(b, h), false)} GROUP BY ${b} ORDER BY NULL`
    : `SELECT ${list('b', 'h')} FROM (${selectSql(ctx, { ...req, where }, `${b} AS b, ${h} AS h`, false)}) AS r GROUP BY b ORDER BY NULL`;
  try {
    const [result] = await ctx.conn.query({ sql, rowsAsArray: true });
    return (result as unknown[][]).map((r) => ({ bucket: BigInt(String(r[0])), rows: Number(r[1]), hash: String(r[2]) }));
  } catch (err) {
    throw ctx.fail(err);
  }
}
