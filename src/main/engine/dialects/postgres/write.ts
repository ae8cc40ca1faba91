/** Writing: DDL, COPY FROM STDIN in text format, statements and transactions. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Column, Row, TableName, Value } from '../../types.js';
import type { QueryResult, TableDef, TargetIsolation } from '../dialect.js';
import { quoteAnsi as q } from '../base.js';
import { escapeCopyBytes, escapeCopyField } from './copyText.js';
import { slices } from '../escapeBytes.js';
import { toPgText } from './types.js';

export interface WriteContext {
  client: pg.Client;
  quoteTable(name: TableName): string;
  fail(err: unknown, what: string): Error;
}

async function run(ctx: WriteContext, sql: string, what: string, params?: Value[]): Promise<pg.QueryResult> {
  try {
    return await ctx.client.query({ text: sql, values: params?.map(toParam) });
  } catch (err) {
    throw ctx.fail(err, what);
  }
}

/** pg sends numbers and booleans with toString(); only -0 and non-Buffer byte arrays need help. */
function toParam(v: Value): unknown {
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

export async function createTable(ctx: WriteContext, def: TableDef): Promise<void> {
  await run(ctx, createTableSql(ctx, def), `creating table ${ctx.quoteTable(def.name)}`);
}

function createTableSql(ctx: WriteContext, def: TableDef): string {
  // PostgreSQL before 18 computes generated columns on write only (STORED).
  const lines = def.columns.map((c) => `${q(c.name)} ${c.nativeType}${c.generated ? ` GENERATED ALWAYS AS (${c.generated.expression}) STORED` : ''}${c.nullable ? '' : ' NOT NULL'}`);
  if (def.primaryKey.length) lines.push(`PRIMARY KEY (${def.primaryKey.map(q).join(', ')})`);
  return `CREATE TABLE ${ctx.quoteTable(def.name)} (${lines.join(', ')})`;
}

/** dropTable, createTable and createIndex of `index`, in one round trip (one simple query: one implicit transaction). */
export async function recreateTable(ctx: WriteContext, def: TableDef, index?: { name: string; columns: string[] }): Promise<void> {
  const table = ctx.quoteTable(def.name);
  const statements = [`DROP TABLE IF EXISTS ${table}`, createTableSql(ctx, def)];
  if (index) statements.push(`CREATE INDEX IF NOT EXISTS ${q(index.name)} ON ${table} (${index.columns.map(q).join(', ')})`);
  await run(ctx, statements.join(';\n'), `creating table ${table}`);
}

export async function dropTable(ctx: WriteContext, name: TableName): Promise<void> {
  const table = ctx.quoteTable(name);
  await run(ctx, `DROP TABLE IF EXISTS ${table}`, `dropping table ${table}`);
}

export async function createIndex(ctx: WriteContext, name: TableName, indexName: string, columns: string[]): Promise<void> {
  const table = ctx.quoteTable(name);
  await run(ctx, `CREATE INDEX IF NOT EXISTS ${q(indexName)} ON ${table} (${columns.map(q).join(', ')})`, `creating index ${indexName} on ${table}`);
}

const CHUNK_CHARS = 1 << 18;

/**
 * Rows as COPY text in chunks of about 256 KB, encoded lazily as COPY asks for
 * more. Strings are appended (V8 ropes, flattened once per chunk): measured 4x
 * cheaper than collecting fields in an array and joining it. Numbers, the
 * usual values, skip the generic conversion and the escape check.
 */
function* copyText(columns: Column[], rows: Row[]): Generator<string | Buffer> {
  const n = columns.length;
  const types = columns.map((c) => c.type);
  const names = columns.map((c) => c.name);
  const plainNumbers = columns.map((c) => c.type.kind === 'integer' || c.type.kind === 'decimal' || c.type.kind === 'float');
  let chunk = '';
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let i = 0; i < n; i++) {
      const v = row[i];
      if (typeof v === 'number' && plainNumbers[i] && !Object.is(v, -0)) chunk += v;
      else {
        const text = toPgText(v, types[i]);
        if (text !== null && text.length >= CHUNK_CHARS) {
          // A big value goes out as escaped bytes in pieces of its own, not copied into the chunk.
          if (chunk) yield chunk;
          chunk = '';
          yield* slices(escapeCopyBytes(Buffer.from(text, 'utf8'), names[i]), CHUNK_CHARS);
        } else chunk += escapeCopyField(text, names[i]);
      }
      chunk += i === n - 1 ? '\n' : '\t';
    }
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

export async function insertRows(ctx: WriteContext, name: TableName, columns: Column[], rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const table = ctx.quoteTable(name);
  const sql = `COPY ${table} (${columns.map((c) => q(c.name)).join(', ')}) FROM STDIN`;
  try {
    const stream = ctx.client.query(copyFrom(sql));
    await pipeline(Readable.from(copyText(columns, rows), { objectMode: false }), stream);
  } catch (err) {
    throw ctx.fail(err, `writing rows to ${table}`);
  }
}

/**
 * COPY bytes from a source's pass-through (binary COPY, or 'tsv' as COPY text), written as they come.
 * `freeze`: the table is empty and only this COPY writes it (a staging table's one chunk): emptied
 * again and loaded FREEZE in one transaction, its rows are written frozen and its pages all-visible,
 * so the scans that follow (each index build, the foreign keys' validation) skip the visibility
 * check of every row and set no hint bits (measured: the validation of a 1M-row foreign key
 * 0.5 → 0.2 s of CPU, the first index build 0.1 s less). A failure rolls the emptying back with the rows.
 */
export async function writeRaw(ctx: WriteContext, name: TableName, columns: string[], chunks: AsyncIterable<Uint8Array>, format: 'binary' | 'text', freeze = false): Promise<number> {
  const table = ctx.quoteTable(name);
  const options = [...(format === 'binary' ? ['FORMAT binary'] : []), ...(freeze ? ['FREEZE'] : [])];
  try {
    // The emptying goes in the COPY's round trip (one simple query; pg-copy-streams takes the other statements' completions).
    const copy = `COPY ${table} (${columns.map(q).join(', ')}) FROM STDIN${options.length ? ` (${options.join(', ')})` : ''}`;
    const stream = ctx.client.query(copyFrom(freeze ? `BEGIN; TRUNCATE ${table}; ${copy}` : copy));
    await pipeline(Readable.from(chunks, { objectMode: false }), stream);
    if (freeze) await ctx.client.query('COMMIT');
    return stream.rowCount;
  } catch (err) {
    if (freeze) await ctx.client.query('ROLLBACK').catch(() => {});
    throw ctx.fail(err, `writing rows to ${table}`);
  }
}

export async function execute(ctx: WriteContext, sql: string, params?: Value[]): Promise<number> {
  const r = await run(ctx, sql, 'running a statement', params);
  return r.rowCount ?? 0;
}

/** Statements without parameters, one simple query: one round trip, stopping at the first error; each one's affected rows. */
export async function executeAll(ctx: WriteContext, statements: string[]): Promise<number[]> {
  if (statements.length === 0) return [];
  return rowCounts(await run(ctx, statements.join(';\n'), 'running statements'), statements.length);
}

/** A simple query's results, one per statement (pg gives a single statement's result alone). */
function rowCounts(r: pg.QueryResult | pg.QueryResult[], n: number): number[] {
  const results = Array.isArray(r) ? r : [r];
  if (results.length !== n) throw new Error(`expected ${n} results of a batch of statements, got ${results.length}`);
  return results.map((x) => x.rowCount ?? 0);
}

export async function query(ctx: WriteContext, sql: string, params?: Value[]): Promise<QueryResult> {
  try {
    const r = await ctx.client.query<Value[]>({ text: sql, values: params?.map(toParam), rowMode: 'array' });
    return { rows: r.rows };
  } catch (err) {
    throw ctx.fail(err, 'running a query');
  }
}

const ISOLATION: Record<TargetIsolation, string> = {
  serializable: 'SERIALIZABLE',
  'repeatable-read': 'REPEATABLE READ',
  'read-committed': 'READ COMMITTED',
};

/** Tracks whether a transaction is open so nested calls become savepoints. */
export class Transactions {
  depth = 0;

  /** `statements`: run in the round trip of the BEGIN (first) and of the COMMIT (last, before it), stopping at the first error (Session.transactionWith). */
  async run<T>(ctx: WriteContext, fn: () => Promise<T>, isolation?: TargetIsolation, statements: { first?: string[]; last?: () => string[] } = {}): Promise<T> {
    const level = this.depth++;
    const savepoint = `dbferry_tx_${level}`;
    try {
      const begin = level === 0 ? `BEGIN${isolation ? ` ISOLATION LEVEL ${ISOLATION[isolation]}` : ''}` : `SAVEPOINT ${savepoint}`;
      await run(ctx, [begin, ...(statements.first ?? [])].join(';\n'), 'starting a transaction');
    } catch (err) {
      // The BEGIN may have run before a statement after it failed.
      if (statements.first?.length) await ctx.client.query(level === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}`).catch(() => {});
      this.depth--;
      throw err;
    }
    try {
      const result = await fn();
      const last = statements.last?.() ?? [];
      await run(ctx, [...last, level === 0 ? 'COMMIT' : `RELEASE SAVEPOINT ${savepoint}`].join(';\n'), last.length ? 'running statements and committing' : 'committing');
      return result;
    } catch (err) {
      await ctx.client.query(level === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`).catch(() => {});
      throw err;
    } finally {
      this.depth--;
    }
  }
}
