/**
 * Reading: COPY (SELECT ...) TO STDOUT in text format, parsed as it streams.
 *
 * COPY cannot take bind parameters, so keyset bounds are written as quoted
 * literals (pg's escapeLiteral) of the values' text form, with no cast: like
 * an untyped bind parameter, an untyped literal takes the key column's type,
 * and escapeLiteral makes any string a single literal, so a bound can never
 * change the statement. A server-side cursor would allow real parameters but
 * costs a round trip per batch and row-format decoding in the driver.
 */
import type { Readable } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { FerryError } from '../../errors.js';
import type { Column, Row, TableName, Value } from '../../types.js';
import { BARE_HASH_KINDS, type BucketHash, type BucketRequest, type Fingerprint, type HashKind, type ReadRequest, type RowCounters } from '../dialect.js';
import { limitClause } from '../base.js';
import { quoteAnsi as q } from '../base.js';
import { CopyTextParser, SHAPE_BOOL, SHAPE_INT, SHAPE_OTHER } from './copyText.js';
import { decoderFor, toPgText } from './types.js';
import { TsvTranscoder, tsvExpression } from './tsv.js';
import { TSV } from '../tsv.js';
import { JSON_ROWS } from '../jsonRows.js';
import { JSON_ROWS_COPY, jsonRowsLine } from './jsonRows.js';
import { keyBucketSql } from './keyHash.js';
import { bucketSettings, withinFrom } from './bucketPlan.js';

export interface ReadContext {
  client: pg.Client;
  quoteTable(name: TableName): string;
  inTransaction(): boolean;
  cancel(): Promise<void>;
  fail(err: unknown, what: string): Error;
}

function literal(v: Value, column: Column | undefined): string {
  const text = toPgText(v, column?.type);
  return text === null ? 'NULL' : pg.escapeLiteral(text);
}

/** `keyColumns`: the key the bounds are on, when the rows need no order (pass-through reads a whole chunk). */
export function selectSql(table: string, req: ReadRequest, keyColumns: string[] = req.orderBy): string {
  if ((req.after || req.through) && keyColumns.length === 0) {
    throw new FerryError('internal', `reading ${table}: key bounds (after/through) need orderBy columns`);
  }
  const byName = new Map(req.columns.map((c) => [c.name, c]));
  const keyCols = keyColumns.map((k) => byName.get(k));
  const tuple = (row: Row) => `(${row.map((v, i) => literal(v, keyCols[i])).join(', ')})`;
  const keys = `(${keyColumns.map((k, i) => keyExpression(k, keyCols[i])).join(', ')})`;
  const conditions: string[] = [];
  if (req.where) conditions.push(`(${req.where})`);
  if (req.after) conditions.push(`${keys} > ${tuple(req.after)}`);
  if (req.through) conditions.push(`${keys} <= ${tuple(req.through)}`);
  if (req.since) conditions.push(`${q(req.since.column)} > ${literal(req.since.value, byName.get(req.since.column))}`);
  const cols = req.columns.map((c) => q(c.name)).join(', ');
  let sql = `SELECT ${cols} FROM ${table}`;
  if (conditions.length) sql += ` WHERE ${conditions.join(' AND ')}`;
  if (req.orderBy.length) sql += ` ORDER BY ${req.orderBy.map((k) => keyExpression(k, byName.get(k))).join(', ')}`;
  return sql + limitClause(req);
}

/**
 * A key column as dbferry orders and bounds it: text by code point (COLLATE
 * "C", byte order in UTF-8), as SQLite (BINARY) and the MySQL reader do, so
 * that key ranges and key order mean the same rows on every engine. The
 * database's collation ('apple' < 'Banana' in en_US) would not. An enum is
 * ordered by its label, not its position. A column that is itself "C" keeps
 * its index; another costs a sort.
 */
function keyExpression(name: string, column: Column | undefined): string {
  const type = column?.type;
  // character(n) keeps its own comparison (trailing blanks do not count), in byte order.
  if (type?.kind === 'text' && type.fixed) return `(${q(name)} COLLATE "C")`;
  if (type?.kind === 'text' || type?.kind === 'enum') return `(${q(name)}::text COLLATE "C")`;
  return q(name);
}

/**
 * COPY … TO STDOUT as it streams. Inside a transaction (a snapshot), stopping
 * a COPY early means cancelling it, which would abort the whole transaction: a
 * savepoint keeps it usable.
 */
async function* copyOut(ctx: ReadContext, sql: string, what: string): AsyncGenerator<Buffer> {
  const savepoint = ctx.inTransaction();
  if (savepoint) await run(ctx, 'SAVEPOINT dbferry_read', what);
  const stream: Readable = ctx.client.query(copyTo(sql));
  let done = false;
  try {
    // destroyOnReturn false: on an early stop the stream must still be drained (stopEarly).
    for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
    done = true;
  } catch (err) {
    done = true;
    if (savepoint) await rollbackTo(ctx);
    throw ctx.fail(err, what);
  } finally {
    if (!done) await stopEarly(ctx, stream, savepoint);
  }
  // Every row is in: the savepoint is released in the background, queued on the connection before whatever it
  // runs next (pg runs a client's queries in order), so the reader (a target's COPY waiting for the end of its
  // data, over a remote link) does not wait a round trip for it. Only a lost connection can fail it, which the
  // next statement then reports.
  if (savepoint) ctx.client.query('RELEASE SAVEPOINT dbferry_read').catch(() => undefined);
}

/** The formats writeRaw reads: binary COPY, and COPY text as 'tsv' (../tsv.ts). */
export const RAW_FORMATS = ['postgres-binary', TSV] as const;
/** The formats readRaw writes: those, and 'json-rows' for SQLite (../jsonRows.ts). */
export const RAW_READS = [...RAW_FORMATS, JSON_ROWS] as const;

/**
 * The rows as binary COPY, bytes as the server sends them, as 'tsv' or as 'json-rows', with
 * the batch number and a row number appended (dbferry's counters: checked
 * integers).
 */
export function readRaw(ctx: ReadContext, req: ReadRequest, trailing: RowCounters | undefined, format: string): AsyncGenerator<Uint8Array> {
  if (trailing && (!Number.isSafeInteger(trailing.batch) || !Number.isSafeInteger(trailing.rowBase))) throw new Error(`invalid batch ${trailing.batch} or row base ${trailing.rowBase}`);
  const table = ctx.quoteTable(req.table);
  const select = selectSql(table, { ...req, orderBy: [] }, req.orderBy);
  const counterList = trailing ? [`${trailing.batch}::int8`, `${trailing.rowBase} + row_number() OVER ()`] : [];
  const counters = counterList.map((c) => `, ${c}`).join('');
  if (format === JSON_ROWS) {
    const line = jsonRowsLine(req.columns, counterList);
    return copyOut(ctx, `COPY (SELECT ${line} FROM (${select}) AS s) TO STDOUT ${JSON_ROWS_COPY}`, `reading ${table}`);
  }
  if (format === TSV) {
    const list = req.columns.map((c) => tsvExpression(c, q(c.name))).join(', ');
    return tsvOut(copyOut(ctx, `COPY (SELECT ${list}${counters} FROM (${select}) AS s) TO STDOUT`, `reading ${table}`));
  }
  if (format !== RAW_FORMATS[0]) throw new FerryError('internal', `PostgreSQL cannot read rows as ${format}`);
  // Without counters the select itself is copied: no subquery, no window over every row.
  return copyOut(ctx, trailing ? `COPY (SELECT s.*${counters} FROM (${select}) AS s) TO STDOUT (FORMAT binary)` : `COPY (${select}) TO STDOUT (FORMAT binary)`, `reading ${table}`);
}

async function* tsvOut(chunks: AsyncGenerator<Buffer>): AsyncGenerator<Uint8Array> {
  const transcoder = new TsvTranscoder();
  for await (const chunk of chunks) yield transcoder.push(chunk);
  transcoder.finish();
}

export async function* readRows(ctx: ReadContext, req: ReadRequest): AsyncGenerator<Row[]> {
  const table = ctx.quoteTable(req.table);
  const parser = new CopyTextParser(
    req.columns.map((c) => decoderFor(c.type)),
    req.columns.map((c) => c.type.kind === 'binary'),
    req.columns.map((c) => (c.type.kind === 'integer' ? SHAPE_INT : c.type.kind === 'boolean' ? SHAPE_BOOL : SHAPE_OTHER)),
  );
  const batchRows = Math.max(1, req.batchRows);
  const batchBytes = req.batchBytes ?? Infinity;
  let bytes = 0;
  let batch: Row[] = [];
  for await (const chunk of copyOut(ctx, `COPY (${selectSql(table, req)}) TO STDOUT`, `reading ${table}`)) {
    parser.push(chunk, batch);
    bytes += chunk.length;
    while (batch.length >= batchRows) {
      const full = batch.length === batchRows ? batch : batch.slice(0, batchRows);
      batch = batch.length === batchRows ? [] : batch.slice(batchRows);
      bytes = 0;
      yield full;
    }
    if (bytes >= batchBytes && batch.length) {
      const full = batch;
      batch = [];
      bytes = 0;
      yield full;
    }
  }
  parser.finish();
  if (batch.length) yield batch;
}

/** How long a cancelled COPY may take to stop before its connection is given up. */
const STOP_MS = 15_000;

/**
 * The consumer stopped before the end: cancel the COPY and drain what is in
 * flight. Bounded: a COPY that does not stop (seen once under load: the
 * driver kept the cancelled COPY as its running query, so the savepoint's
 * rollback queued behind it for good) closes the connection, and the session
 * fails as a dropped connection does (retried on a new one) instead of hanging.
 */
async function stopEarly(ctx: ReadContext, stream: Readable, savepoint: boolean): Promise<void> {
  const stopping = (async () => {
    await ctx.cancel();
    try {
      for await (const chunk of stream) void chunk;
    } catch {
      // "canceling statement due to user request" is what we asked for.
    }
    if (savepoint) await rollbackTo(ctx);
    return true;
  })();
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([stopping, new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), STOP_MS)))]);
  clearTimeout(timer);
  if (stopped) return;
  (ctx.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  throw new FerryError('connection', `a read that was stopped early did not end within ${STOP_MS / 1000} s; its connection was closed`, { transient: true });
}

async function rollbackTo(ctx: ReadContext): Promise<void> {
  await ctx.client.query('ROLLBACK TO SAVEPOINT dbferry_read; RELEASE SAVEPOINT dbferry_read').catch(() => {});
}

async function run(ctx: ReadContext, sql: string, what: string): Promise<void> {
  try {
    await ctx.client.query(sql);
  } catch (err) {
    throw ctx.fail(err, what);
  }
}

/**
 * The request's rows summed up on the server: count(*), and the exact sum of
 * a 64-bit hash (hashtextextended) of each row's text as ROW(…)::text prints
 * it (a NULL as nothing, text quoted where needed). The session's settings
 * (connect.ts: UTC, ISO dates, extra_float_digits 3, hex bytea) make that text
 * exact for every type. 1M rows of the bench's table: 1.4 s of one core (md5
 * in place of the hash: 3.4 s).
 */
export async function fingerprint(ctx: ReadContext, req: ReadRequest): Promise<Fingerprint> {
  const table = ctx.quoteTable(req.table);
  const select = selectSql(table, { ...req, orderBy: [] }, req.orderBy);
  const row = req.columns.map((c) => `s.${q(c.name)}`).join(', ');
  const sql = `SELECT count(*)::text AS n, coalesce(sum(hashtextextended(ROW(${row})::text, 0)), 0)::text AS h FROM (${select}) AS s`;
  const what = `summing up rows of ${table}`;
  // Inside a snapshot a failed query would abort the transaction: the caller falls back to reading the rows in it.
  const savepoint = ctx.inTransaction();
  if (savepoint) await run(ctx, 'SAVEPOINT dbferry_read', what);
  try {
    const r = await ctx.client.query<{ n: string; h: string }>(sql);
    if (savepoint) await run(ctx, 'RELEASE SAVEPOINT dbferry_read', what);
    return { rows: Number(r.rows[0].n), hash: r.rows[0].h };
  } catch (err) {
    if (savepoint) await rollbackTo(ctx);
    throw ctx.fail(err, what);
  }
}

/**
 * ANALYZE's histogram of the key column (pg_stats): about evenly spaced values, read from the catalog.
 * A parent of partitions or inheritance children has its statistics over the whole tree (inherited),
 * which is what reading it reads: those first (a partitioned table has only those, once ANALYZE ran on it).
 */
export async function keyQuantiles(ctx: ReadContext, table: TableName, schema: string, key: Column, count: number): Promise<Value[] | undefined> {
  if (key.type.kind !== 'integer' || count < 1) return undefined;
  let bounds: string | null | undefined;
  try {
    const r = await ctx.client.query<{ bounds: string | null }>(
      'SELECT histogram_bounds::text AS bounds FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3 ORDER BY inherited DESC LIMIT 1',
      [table.schema ?? schema, table.name, key.name],
    );
    bounds = r.rows[0]?.bounds;
  } catch {
    return undefined;
  }
  const values = bounds ? bounds.replace(/^\{|\}$/g, '').split(',') : [];
  if (values.length < 3 || values.some((v) => !/^-?\d+$/.test(v))) return undefined;
  const decode = decoderFor(key.type);
  const out: Value[] = [];
  for (let i = 1; i <= count; i++) out.push(decode(values[Math.round((i * (values.length - 1)) / (count + 1))]));
  // Equal neighbours (a skewed key) would make empty chunks: keep each value once, in order.
  return out.filter((v, i) => i === 0 || v !== out[i - 1]);
}

export async function longestText(ctx: ReadContext, table: TableName, column: string, where?: string): Promise<number | null> {
  const sql = `SELECT max(char_length(${q(column)}::text)) AS n FROM ${ctx.quoteTable(table)}${where ? ` WHERE (${where})` : ''}`;
  try {
    const r = await ctx.client.query<{ n: number | null }>(sql);
    return r.rows[0].n === null ? null : Number(r.rows[0].n);
  } catch (err) {
    throw ctx.fail(err, `measuring the longest value of ${ctx.quoteTable(table)}.${column}`);
  }
}

export async function countRows(ctx: ReadContext, table: TableName, where?: string): Promise<number> {
  const sql = `SELECT count(*) AS n FROM ${ctx.quoteTable(table)}${where ? ` WHERE (${where})` : ''}`;
  try {
    const r = await ctx.client.query<{ n: number | bigint }>(sql);
    return Number(r.rows[0].n);
  } catch (err) {
    throw ctx.fail(err, `counting rows of ${ctx.quoteTable(table)}`);
  }
}

/**
 * A column's value for its hash kind (rowHash.ts): `text` when the SQL is of
 * type text already; otherwise a value whose type's output function prints
 * exactly the kind's text (the same function `::text` calls for these types),
 * which concat_ws (rowTextSql) prints itself. NULL for NULL.
 */
function hashValue(kind: HashKind, column: Column): { sql: string; text: boolean } {
  const x = `s.${q(column.name)}`;
  const value = (sql: string) => ({ sql, text: false });
  const text = (sql: string) => ({ sql, text: true });
  // Types whose `::text` is their output function (an I/O cast); not boolean ('true'), char(n) (trimmed), inet (its mask), unknown ones.
  const printsAsText = ['integer', 'decimal', 'date', 'time', 'timestamp'].includes(column.type.kind);
  if (column.type.kind === 'boolean') return text(`CASE WHEN ${x} THEN '1' WHEN NOT ${x} THEN '0' END`);
  switch (kind) {
    case 'dec':
      return value(`trim_scale(${x}::numeric)`);
    case 'textfixed':
      return text(`rtrim(${x}::text, ' ')`);
    case 'uuid':
      return text(`lower(${x}::text)`);
    case 'bytes':
      return text(`encode(${x}, 'hex')`);
    case 'date':
      // date_out under DateStyle ISO (connect.ts) prints YYYY-MM-DD as to_char(x, 'YYYY-MM-DD') did for every date
      // MySQL/MariaDB can hold (years 1 to 9999; BC and infinity differ, and have no MySQL counterpart), at less CPU.
      return printsAsText ? value(x) : text(`${x}::text`);
    case 'ts':
      // timestamp prints without trailing fractional zeros (ISO DateStyle, connect.ts); timestamptz in UTC, without its zone.
      return column.type.kind === 'timestamp' && column.type.withTimeZone ? value(`(${x} AT TIME ZONE 'UTC')`) : printsAsText ? value(x) : text(`${x}::text`);
    case 'native':
      return column.type.kind === 'binary' ? text(`'x' || encode(${x}, 'hex')`) : text(`${x}::text`);
    default:
      return printsAsText ? value(x) : text(`${x}::text`);
  }
}

/**
 * rowHash.ts rowText in SQL: each piece '-' for NULL, a bare kind's text, or
 * another kind's length, ':' and its text; '|' between them.
 *
 * One concat_ws, where a chain of `||` made a new text for each of the 2n - 1
 * joins; and a bare piece of a NOT NULL column given as its value (an int8, a
 * timestamp), which concat_ws prints with the type's output function, where
 * `x::text` printed it and concat_ws then copied the text again. A nullable
 * column needs its '-': coalesce, of texts (concat_ws would skip a NULL and
 * its '|'). The bench's orders, PostgreSQL 15, instructions a row (callgrind):
 * the text 9,720 → 8,080 (concat_ws of texts, array_to_string, format(): all
 * more); the whole hash 23,250 → 19,170 with textsend and first60Bits.
 */
function rowTextSql(req: BucketRequest): string {
  const pieces = req.columns.map((c, i) => {
    const v = hashValue(req.kinds[i], c);
    const t = v.text ? v.sql : `${v.sql}::text`;
    if (BARE_HASH_KINDS.has(req.kinds[i])) return c.nullable ? `coalesce(${t}, '-')` : v.sql;
    const piece = `length(${t})::text || ':' || ${t}`;
    return c.nullable ? `coalesce(${piece}, '-')` : piece;
  });
  return `concat_ws('|', ${pieces.join(', ')})`;
}

/**
 * A SHA-256's first 15 hex digits as a non-negative int8, from its first 8
 * bytes: `d` is named twice per byte, so a column of the query (OFFSET 0
 * keeps the planner from copying the digest's expression into each).
 * Eight get_byte and shifts cost 0.17 s a million against 0.32 s for
 * `('x' || left(encode(d, 'hex'), 15))::bit(60)::int8` (64 hex digits made,
 * 15 cut off by characters, parsed as bits), 0.24 s for 16 digits as bit(64)
 * (keyHash.ts, which has no column to name): 1,600 instructions a row less.
 */
function first60Bits(d: string): string {
  const bytes = [0, 1, 2, 3, 4, 5, 6].map((i) => `(get_byte(${d}, ${i})::int8 << ${52 - 8 * i})`);
  return `(${bytes.join(' | ')} | (get_byte(${d}, 7) >> 4)::int8)`;
}

/**
 * Types whose hash function separates what dbferry's apply calls different:
 * not an unconstrained numeric (1.5 and 1.50 hash alike), floats (0 and -0),
 * json, character(n), or text in a collation of its own (which may call 'a' and 'A' equal).
 */
function hashedByValue(c: Column): boolean {
  const t = c.type;
  if (c.collation) return false;
  switch (t.kind) {
    case 'integer':
    case 'boolean':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'uuid':
    case 'enum':
      // An enum is hashed by its label (valueHash), not by hash_record_extended's OID of it.
      return true;
    case 'text':
      return !t.fixed && /^(text|character varying)/i.test(c.nativeType);
    case 'binary':
      return /^bytea/i.test(c.nativeType);
    case 'decimal':
      return t.scale !== undefined;
    default:
      return false;
  }
}

/**
 * A hashedByValue column's value hashed by its type's own extended hash
 * function under `seed`, never NULL; undefined for a type not listed here.
 * An enum and a date go as their text: an enum's hash is of its OID, which
 * differs between two databases for the same label, and a date has no hash
 * function SQL can call (its own takes an int4).
 */
function valueHash(c: Column, seed: number): string | undefined {
  const x = `s.${q(c.name)}`;
  const t = c.type;
  const n = c.nativeType.toLowerCase();
  const fn = (() => {
    switch (t.kind) {
      case 'integer':
        return /^smallint\b/.test(n) ? `hashint2extended(${x}, ${seed})` : /^integer\b/.test(n) ? `hashint4extended(${x}, ${seed})` : /^bigint\b/.test(n) ? `hashint8extended(${x}, ${seed})` : undefined;
      case 'boolean':
        return `hashint4extended(${x}::int, ${seed})`;
      case 'date':
      case 'enum':
        return `hashtextextended(${x}::text, ${seed})`;
      case 'time':
        return /with time zone/.test(n) ? `timetz_hash_extended(${x}, ${seed})` : `time_hash_extended(${x}, ${seed})`;
      case 'timestamp':
        return t.withTimeZone ? `timestamp_hash_extended(${x} AT TIME ZONE 'UTC', ${seed})` : `timestamp_hash_extended(${x}, ${seed})`;
      case 'uuid':
        return `uuid_hash_extended(${x}, ${seed})`;
      case 'text':
        return `hashtextextended(${x}, ${seed})`;
      case 'binary':
        return `hashtextextended(encode(${x}, 'hex'), ${seed})`;
      case 'decimal':
        return `hash_numeric_extended(${x}, ${seed})`;
      default:
        return undefined;
    }
  })();
  // Every column, whatever its NOT NULL says: one NULL would make the row's hash NULL, which sum() leaves out.
  return fn && `coalesce(${fn}, ${-seed}::int8)`;
}

/**
 * BucketRequest (dialect.ts): one scan, grouped by bucket. Every column
 * 'native' (both sides PostgreSQL, the same types): the row's own text
 * hashed by hashtextextended, as fingerprint() does, which costs less than md5.
 */
export async function bucketHashes(ctx: ReadContext, req: BucketRequest, serverMajor = 0, utf8 = false): Promise<BucketHash[]> {
  const table = ctx.quoteTable(req.table);
  const select = selectSql(table, { ...req, orderBy: [] }, req.orderBy);
  const { lo, width, within, narrow } = req.buckets;
  // Keys from lo up: the dividend is never negative, so integer division is a floor.
  const type = narrow ? 'int8' : 'numeric';
  const key = `s.${q(req.orderBy[0])}::${type}`;
  const num = (n: bigint) => `${n.toString()}::${type}`;
  const keyHash = req.buckets.keyHash;
  const byKey = keyHash ? req.orderBy.map((k) => req.columns.find((c) => c.name === k)!) : [];
  const bucket = (w: bigint) =>
    keyHash ? keyBucketSql(byKey, keyHash, w, 's.') : narrow ? `((${key} - ${num(lo)}) / ${num(w)})` : `div(${key} - ${num(lo)}, ${num(w)})`;
  // h: the row's hash, or (the SHA-256 of rowText) its digest, which the outer query turns into the hash.
  let h: string;
  let hash = 'r.h';
  let fence = '';
  const row = `ROW(${req.columns.map((c) => `s.${q(c.name)}`).join(', ')})`;
  const byValue = req.kinds.every((k) => k === 'native') && serverMajor >= 14 && req.columns.every(hashedByValue) ? req.columns.map((c, i) => valueHash(c, i + 1)) : [];
  if (byValue.length && byValue.every((x) => x !== undefined)) {
    // Every column's hash function tells apart exactly the values the apply does: each value hashed as it
    // is, no text made, under a seed of its column's place (a value moved to another column changes the
    // hash), NULL as the place's own number; the row's XOR hashed again, so that values swapped between two
    // rows change the bucket's sum. A third less than hash_record_extended(ROW(...)), which builds each row
    // as a record and takes it apart again (0.43 s against 0.65 s of server CPU for the bench's 1M orders).
    h = `hashint8extended(${byValue.join(' # ')}, 0)`;
  } else if (req.kinds.every((k) => k === 'native')) {
    h = `hashtextextended(${row}::text, 0)`;
  } else {
    // rowHash.ts rowText's SHA-256. Its UTF-8: in a UTF8 database the text's own bytes, which textsend gives
    // (the session's client_encoding is UTF8 too, connect.ts; a parallel worker's is the database's) without
    // convert_to's check of every character and its encoding names looked up per row (830 instructions a row).
    const text = rowTextSql(req);
    h = `sha256(${utf8 ? `textsend(${text})` : `convert_to(${text}, 'UTF8')`})`;
    hash = first60Bits('r.h');
    fence = ' OFFSET 0';
  }
  // A level below the first: its buckets' key ranges through the index (bucketPlan.ts), or a condition on every row's bucket.
  const from = withinFrom(req, select) ?? `(${select}) AS s${within ? ` WHERE ${bucket(within.width)} IN (${within.ids.map(num).join(', ')})` : ''}`;
  // The buckets as a few rows of text (bucketList): a row of three columns costs 19 bytes of framing, as much as its values.
  const ints = narrow || !!keyHash;
  const grouped = `SELECT r.b, count(*) AS n, sum(${hash}) AS h FROM (SELECT ${bucket(width)} AS b, ${h} AS h FROM ${from}${fence}) AS r GROUP BY r.b`;
  const entry = `${ints ? 'to_hex(g.b)' : 'g.b::text'} || ':' || to_hex(g.n) || ':' || g.h::text`;
  const sql = `SELECT string_agg(${entry}, ',') AS e FROM (${grouped}) AS g GROUP BY ${ints ? `g.b / ${LIST_BUCKETS}` : `div(g.b, ${LIST_BUCKETS})`}`;
  const what = `hashing rows of ${table}`;
  // The statement's planner settings (bucketPlan.ts) last for it alone: set in a transaction of its own, or under a
  // savepoint of the run's (the snapshot's), rolled back after it (it writes nothing; the snapshot stays).
  // One round trip (a remote link's 10 ms each, four a level before): the statements have no parameters,
  // and a simple query of several answers each one's rows.
  const savepoint = ctx.inTransaction();
  const settings = `SELECT ${bucketSettings(!!within).map(([n, v]) => `set_config('${n}', ${v}, true)`).join(', ')}`;
  const open = savepoint ? 'SAVEPOINT dbferry_read' : 'BEGIN';
  const close = savepoint ? 'ROLLBACK TO SAVEPOINT dbferry_read; RELEASE SAVEPOINT dbferry_read' : 'ROLLBACK';
  try {
    const results = (await ctx.client.query(`${open}; ${settings}; ${sql}; ${close}`)) as unknown as Array<pg.QueryResult<{ e: string }>>;
    const out: BucketHash[] = [];
    for (const row of results[2].rows) bucketList(row.e, ints, out);
    return out;
  } catch (err) {
    if (savepoint) await rollbackTo(ctx);
    else await ctx.client.query('ROLLBACK').catch(() => {});
    throw ctx.fail(err, what);
  }
}

/** Buckets a row of bucketHashes' answer lists at most (by id: a level's ids up to 4,096 apart share a row). */
const LIST_BUCKETS = 4096;

/**
 * A row of bucketHashes' answer: buckets separated by ',', each its id (hex
 * where ids are int8, else decimal), ':', its row count (hex), ':' and the
 * exact sum of its rows' hashes (decimal).
 */
export function bucketList(text: string, hexIds: boolean, out: BucketHash[]): void {
  for (const item of text.split(',')) {
    const a = item.indexOf(':');
    const b = item.indexOf(':', a + 1);
    if (a < 1 || b < a + 2 || b === item.length - 1) throw new Error(`not a bucket hash: ${JSON.stringify(item.slice(0, 80))}`);
    const id = item.slice(0, a);
    // to_hex prints a negative int8 as its 64 bits: none is (keys from lo up, key hashes' remainders), read it as signed all the same.
    out.push({ bucket: hexIds ? BigInt.asIntN(64, BigInt(`0x${id}`)) : BigInt(id), rows: parseInt(item.slice(a + 1, b), 16), hash: item.slice(b + 1) });
  }
}
