/** One PostgreSQL connection as a dbferry Session: glue over the role files. */
import type pg from 'pg';
import type { TableName, Value } from '../../types.js';
import { quoteAnsi } from '../base.js';
import { StandardApplySql } from '../base.js';
import { swapCheck } from './swap.js';
import { bucketSetParts } from '../../pipeline/rowHash.js';
import type { BucketHash, BucketRequest, BucketSet, Dialect, Fingerprint, PrivilegeRequest, ReadRequest, RowCounters, Session, SwapCheck, TableDef, TargetIsolation } from '../dialect.js';
import { keyBucketCondition } from './keyHash.js';
import { bucketKeys, bucketRanges } from './bucketPlan.js';
import { cancelRunning, type PgConnection } from './connect.js';
import { queryError } from './errors.js';
import { describeTable, listTables, parseTableSpec, tableExists, tablesExist } from './introspect.js';
import { privilegeProblems } from './privileges.js';
import { RAW_FORMATS, RAW_READS, bucketHashes, countRows, fingerprint, keyQuantiles, longestText, readRaw, readRows, type ReadContext } from './read.js';
import { beginSnapshot, endSnapshot, exportSnapshot, joinSnapshot, type SnapshotHost } from './snapshot.js';
import { logicalFromNative, mapType, rawCompatible } from './types.js';
import { TSV, tsvCarries, tsvPair } from '../tsv.js';
import { JSON_ROWS, jsonRowsCarries } from '../jsonRows.js';
import * as write from './write.js';
import type { Column, LogicalType, Row, TypeMapping } from '../../types.js';
import { MAINTENANCE_MEMORY } from './memory.js';
import { PgRowVersions } from './versions.js';

/** Key ranges a bucket condition is written as at most (bucketPlan.ts bucketRanges); past them, the buckets' ids. */
const BUCKET_RANGES = 256;
/** Keys of scattered buckets listed one by one at most this many (ordered in work_mem's default 4MB: 20,000 rows a staging read sorts in memory). */
const LISTED_KEYS = 20_000;

/** The standard statements, with PostgreSQL's $n parameters. */
class PostgresApplySql extends StandardApplySql {
  protected override placeholder(n: number): string {
    return `$${n}`;
  }

  /** The key is built with the rows in: with room to sort them (memory.ts). */
  override promoteStaging(staging: TableName, target: TableName, drop: string[], notNull: string[], key: string[], keyIndex?: string): string[] {
    const statements = super.promoteStaging(staging, target, drop, notNull, key, keyIndex);
    return key.length && !keyIndex ? [MAINTENANCE_MEMORY, ...statements] : statements;
  }

  /** Nested loops over the key index: merge and hash joins read every target row; no JIT, whose compiling costs more than a few thousand rows (set for the transaction only). */
  lookUpStagedKeys(): string[] {
    return ["SELECT set_config('enable_mergejoin', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('jit', 'off', true)"];
  }

  /**
   * One join per bucket width: each bucket's first key (unnest) against a key
   * range of the target, which the key index reads in a few pages, where a
   * condition on the bucket of every row would read the whole table. Keys
   * within int8 only (BucketSet.narrow), so that the index serves the bounds.
   */
  copyAbsentKeysInBuckets(target: TableName, staging: TableName, to: TableName, key: string, set: BucketSet): string[] | undefined {
    if (!set.narrow) return undefined;
    const { lo, levels } = bucketSetParts(set);
    const k = this.quote(key);
    // MATERIALIZED: the planner, misled by the ranges' row estimate, would otherwise probe staging for every target row first;
    // the same estimate (millions of rows) would have it compile the statement (JIT, half a second), so JIT is off for it.
    const statements = levels.map(({ width, ids }) => {
      const first = `${lo}::int8 + r.b * ${width}::int8`;
      return (
        `WITH k AS MATERIALIZED (SELECT t.${k} FROM unnest('{${ids.join(',')}}'::int8[]) AS r(b) JOIN ${this.table(target)} AS t ` +
        `ON t.${k} >= ${first} AND t.${k} <= ${first} + ${(BigInt(width) - 1n).toString()}::int8) ` +
        `INSERT INTO ${this.table(to)} SELECT k.${k} FROM k WHERE NOT EXISTS (SELECT 1 FROM ${this.table(staging)} AS s WHERE s.${k} = k.${k})`
      );
    });
    return [
      "SELECT set_config('dbferry.jit', current_setting('jit'), true), set_config('jit', 'off', true)",
      ...statements,
      "SELECT set_config('jit', current_setting('dbferry.jit'), true)",
    ];
  }

  /**
   * Values whose equality is looser than their text compare as text: numeric
   * (1.10 = 1.1), floats (-0 = 0), json (no equality at all) and types
   * dbferry does not know; text in bytes ("C"), whatever the column's collation.
   */
  protected override differs(column: Column, left: string, right: string): string {
    const c = this.quote(column.name);
    const kind = column.type.kind;
    if (kind === 'text') return `${left}.${c}::text COLLATE "C" IS DISTINCT FROM ${right}.${c}::text COLLATE "C"`;
    if (kind === 'decimal' || kind === 'float' || kind === 'any' || (kind === 'json' && !column.type.parsed)) return `${left}.${c}::text IS DISTINCT FROM ${right}.${c}::text`;
    return super.differs(column, left, right);
  }
}

export class PostgresSession implements Session {
  readonly serverVersion: string;
  readonly applySql: StandardApplySql;
  /** Internals for snapshot.ts exportSnapshot/joinSnapshot. */
  readonly pg: SnapshotHost;
  private readonly ctx: ReadContext;
  /** From PostgreSQL 14 (bit_xor; pg_current_snapshot is 13's). */
  readonly rowVersions?: PgRowVersions;

  constructor(
    readonly dialect: Dialect,
    private readonly conn: PgConnection,
    readonly schema: string,
  ) {
    this.serverVersion = conn.serverVersion;
    const quoteTable = (t: TableName) => this.quoteTable(t);
    this.applySql = new PostgresApplySql(quoteAnsi, quoteTable);
    const transactions = new write.Transactions();
    this.ctx = {
      client: conn.client,
      quoteTable,
      inTransaction: () => transactions.depth > 0,
      cancel: () => cancelRunning(conn.client, conn.label),
      fail: (err, what) => queryError(err, what, conn.label),
    };
    this.pg = { ctx: this.ctx, transactions, snapshotOpen: false };
    if (Number(/(\d+)/.exec(this.serverVersion)?.[1] ?? 0) >= 14) this.rowVersions = new PgRowVersions(this.ctx);
  }

  quoteIdentifier(name: string): string {
    return quoteAnsi(name);
  }

  /** Unqualified names are pinned to the session schema, whatever search_path says. */
  quoteTable(name: TableName): string {
    return `${quoteAnsi(name.schema ?? this.schema)}.${quoteAnsi(name.name)}`;
  }

  tableName(spec: string): TableName {
    return parseTableSpec(spec, this.schema);
  }

  async listTables(): Promise<TableName[]> {
    try {
      return await listTables(this.conn.client, this.schema);
    } catch (err) {
      throw this.ctx.fail(err, `listing tables of schema "${this.schema}"`);
    }
  }

  async describeTable(name: TableName): Promise<Awaited<ReturnType<Session['describeTable']>>> {
    const full = { schema: name.schema ?? this.schema, name: name.name };
    try {
      return await describeTable(this.conn.client, full);
    } catch (err) {
      throw this.ctx.fail(err, `describing table ${this.quoteTable(full)}`);
    }
  }

  get backendId(): number {
    return this.conn.backendPid;
  }

  async tablesExist(names: TableName[]): Promise<boolean[]> {
    const full = names.map((name) => ({ schema: name.schema ?? this.schema, name: name.name }));
    try {
      return await tablesExist(this.conn.client, full);
    } catch (err) {
      throw this.ctx.fail(err, `looking for tables ${full.map((t) => this.quoteTable(t)).join(', ')}`);
    }
  }

  async tableExists(name: TableName): Promise<boolean> {
    const full = { schema: name.schema ?? this.schema, name: name.name };
    try {
      return await tableExists(this.conn.client, full);
    } catch (err) {
      throw this.ctx.fail(err, `looking for table ${this.quoteTable(full)}`);
    }
  }

  privilegeProblems(request: PrivilegeRequest): Promise<string[]> {
    return privilegeProblems(this.ctx, this.schema, request);
  }

  swapCheck(table: TableName): Promise<SwapCheck> {
    return swapCheck((sql, params) => this.query(sql, params), this.quoteTable({ schema: table.schema ?? this.schema, name: table.name }));
  }

  mapType(type: LogicalType): TypeMapping {
    return mapType(type);
  }

  parseNativeType(nativeType: string): LogicalType {
    return logicalFromNative(nativeType);
  }

  readRows(request: ReadRequest): AsyncIterable<Row[]> {
    return readRows(this.ctx, request);
  }

  readonly rawReads = RAW_READS;
  readonly rawWrites = RAW_FORMATS;

  rawReadable(column: Column, format: string): boolean {
    if (format === JSON_ROWS) return jsonRowsCarries(column);
    return format === TSV ? tsvCarries(column) : true;
  }

  /** Binary COPY of one type is read only as that type: same logical and native type on both sides. */
  rawCompatible(source: Column, target: Column, format: string): boolean {
    if (format === TSV) return tsvPair(source, target);
    return JSON.stringify(source.type) === JSON.stringify(target.type) && rawCompatible(source.nativeType, target.nativeType);
  }

  readRaw(request: ReadRequest, trailing: RowCounters | undefined, format: string): AsyncIterable<Uint8Array> {
    return readRaw(this.ctx, request, trailing, format);
  }

  writeRaw(table: TableName, columns: string[], chunks: AsyncIterable<Uint8Array>, format: string, opts?: { alone?: boolean }): Promise<number> {
    // Frozen rows need the table emptied in the COPY's own transaction: not inside another one.
    const freeze = opts?.alone === true && this.pg.transactions.depth === 0;
    return write.writeRaw(this.ctx, table, columns, chunks, format === TSV ? 'text' : 'binary', freeze);
  }

  countRows(table: TableName, where?: string): Promise<number> {
    return countRows(this.ctx, table, where);
  }

  longestText(table: TableName, column: Column, where?: string): Promise<number | null> {
    return longestText(this.ctx, table, column.name, where);
  }

  keyQuantiles(table: TableName, key: Column, count: number): Promise<Value[] | undefined> {
    return keyQuantiles(this.ctx, table, this.schema, key, count);
  }

  fingerprint(request: ReadRequest): Promise<Fingerprint> {
    return fingerprint(this.ctx, request);
  }

  bucketHashes(request: BucketRequest): Promise<BucketHash[]> {
    return bucketHashes(this.ctx, request, Number(/(\d+)/.exec(this.serverVersion)?.[1] ?? 0), this.conn.serverEncoding === 'UTF8');
  }

  keyBucketCondition(columns: Column[], set: BucketSet): string {
    return keyBucketCondition(columns, set);
  }

  bucketCondition(key: string, set: BucketSet): string {
    // A few key ranges (neighbouring buckets merged): through the key's index (bucketPlan.ts).
    const ranges = bucketRanges(set, BUCKET_RANGES);
    if (ranges) return `(${ranges.map(([a, b]) => `${this.quoteIdentifier(key)} BETWEEN ${a.toString()}::int8 AND ${b.toString()}::int8`).join(' OR ')})`;
    // Scattered narrow buckets (a delta run's leaves are single keys): their keys as an array the index looks up one by one.
    const keys = bucketKeys(set, LISTED_KEYS);
    if (keys) return `(${this.quoteIdentifier(key)} = ANY ('{${keys.join(',')}}'::int8[]))`;
    // Levels of both kinds (single-key leaves, and wide buckets only the target has keys in): each level
    // in the form its index serves, ORed, where one list of bucket ids read the whole table.
    if (set.narrow && set.levels.length > 1) return `(${set.levels.map((l) => this.bucketCondition(key, { ...set, levels: [l] })).join(' OR ')})`;
    const { lo, levels } = bucketSetParts(set);
    const t = set.narrow ? 'int8' : 'numeric';
    const k = `${this.quoteIdentifier(key)}::${t}`;
    const div = (w: string) => (set.narrow ? `((${k} - ${lo}::int8) / ${w}::int8)` : `div(${k} - ${lo}::numeric, ${w}::numeric)`);
    // Bounded by the buckets' span, which the key's index reads (the target's far keys: a few pages, not the table).
    const span = (l: { width: string; ids: string[] }) => {
      if (!set.narrow || !l.ids.length) return '';
      const ids = l.ids.map(BigInt);
      const [min, max] = ids.reduce(([a, b], i) => [i < a ? i : a, i > b ? i : b], [ids[0], ids[0]]);
      const w = BigInt(l.width);
      return `${this.quoteIdentifier(key)} BETWEEN ${(BigInt(lo) + min * w).toString()}::int8 AND ${(BigInt(lo) + (max + 1n) * w - 1n).toString()}::int8 AND `;
    };
    return `(${levels.map((l) => `(${span(l)}${div(l.width)} IN (${l.ids.map((i) => `${i}::${t}`).join(', ')}))`).join(' OR ')})`;
  }

  createTable(def: TableDef): Promise<void> {
    return write.createTable(this.ctx, def);
  }

  dropTable(name: TableName): Promise<void> {
    return write.dropTable(this.ctx, name);
  }

  recreateTable(def: TableDef, index?: { name: string; columns: string[] }): Promise<void> {
    return write.recreateTable(this.ctx, def, index);
  }

  createIndex(table: TableName, indexName: string, columns: string[]): Promise<void> {
    return write.createIndex(this.ctx, table, indexName, columns);
  }

  insertRows(table: TableName, columns: Column[], rows: Row[]): Promise<void> {
    return write.insertRows(this.ctx, table, columns, rows);
  }

  execute(sql: string, params?: Value[]): Promise<number> {
    return write.execute(this.ctx, sql, params);
  }

  executeAll(statements: string[]): Promise<number[]> {
    return write.executeAll(this.ctx, statements);
  }

  query(sql: string, params?: Value[]): ReturnType<Session['query']> {
    return write.query(this.ctx, sql, params);
  }

  transaction<T>(fn: () => Promise<T>, isolation?: TargetIsolation): Promise<T> {
    return this.pg.transactions.run(this.ctx, fn, isolation);
  }

  transactionWith<T>(fn: () => Promise<T>, isolation: TargetIsolation | undefined, statements: { first?: string[]; last?: () => string[] }): Promise<T> {
    return this.pg.transactions.run(this.ctx, fn, isolation, statements);
  }

  beginSnapshot(): Promise<void> {
    return beginSnapshot(this.pg);
  }

  endSnapshot(): Promise<void> {
    return endSnapshot(this.pg);
  }

  exportSnapshot(): Promise<string> {
    return exportSnapshot(this);
  }

  joinSnapshot(id: string): Promise<void> {
    return joinSnapshot(this, id);
  }

  /**
   * A connection the server terminated can leave pg's end() waiting for an
   * 'end' that already came: give it a moment, then drop the socket.
   */
  async close(): Promise<void> {
    const client = this.conn.client as pg.Client & { connection?: { stream?: { destroy(): void } } };
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        client.connection?.stream?.destroy();
        resolve();
      }, 2000);
      timer.unref();
    });
    await Promise.race([client.end().catch(() => {}), gone]);
    clearTimeout(timer);
  }
}
