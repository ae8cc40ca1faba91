import { existsSync, statSync, unlinkSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { SqliteConnection } from '../../../../shared/connectionUrl.js';
import type { Column, LogicalType, Row, TableInfo, TableName, TypeMapping, Value } from '../../types.js';
import { StandardApplySql, quoteAnsi, tableQuoter } from '../base.js';
import { bucketHashesInProcess, bucketSetParts } from '../../pipeline/rowHash.js';
import { keyBucketCondition, registerKeyHash } from './keyHash.js';
import type { ApplySql, BucketHash, BucketRequest, BucketSet, Dialect, OpenOptions, PrivilegeRequest, QueryResult, ReadRequest, RowCounters, Session, SwapCheck, TableDef, TargetIsolation } from '../dialect.js';
import { explainSqliteError, openSqlite, resolveSqlitePath } from './connect.js';
import { describeSqliteTable, listSqliteTables } from './introspect.js';
import { privilegeProblems } from './privileges.js';
import { swapCheck } from './swap.js';
import { keysetBounds, readSqliteRows, readSqliteTsv, selectSql } from './read.js';
import { beginSqliteSnapshot, endSqliteSnapshot } from './snapshot.js';
import { parseSqliteType, sqliteTypeFor } from './types.js';
import { checkList, refusal, registerRefuse, sqliteTsvReadable, valueList } from './tsv.js';
import { SqliteChecker } from './checker.js';
import { readerFor, toSqlite, type SqliteValue } from './values.js';
import { SqliteWriter, createTableSql, inTransaction, writeJsonRows } from './write.js';
import { TSV, tsvPair } from '../tsv.js';
import { JSON_ROWS, jsonRowsPair } from '../jsonRows.js';
import { FerryError } from '../../errors.js';

/** The pass-through of SQLite into SQLite: the target attaches the source file (pullRaw). */
const SQLITE_FILE = 'sqlite-file';
/** The source file's name while attached. */
const ATTACHED = 'dbferry_source';

/**
 * UPDATE ... FROM is supported since 3.33. A new target's staging table is
 * already in its final shape (capabilities.stagingInFinalShape): promoting it
 * is a rename, transactional like all of SQLite's DDL.
 */
class SqliteApplySql extends StandardApplySql {
  /**
   * `IS NOT` is null-safe; text compares in bytes whatever the column's
   * collation (NOCASE). Where values of any storage class may sit (no type,
   * NUMERIC), 1 = 1.0 holds: the storage class tells that change.
   */
  protected override differs(column: Column, left: string, right: string): string {
    const c = this.quote(column.name);
    const a = `${left}.${c}`;
    const b = `${right}.${c}`;
    const plain = `${a} IS NOT ${b} COLLATE BINARY`;
    return ['any', 'decimal', 'float'].includes(column.type.kind) ? `(${plain} OR typeof(${a}) <> typeof(${b}))` : plain;
  }

  override promoteStaging(staging: TableName, target: TableName): string[] {
    return [`ALTER TABLE ${this.table(staging)} RENAME TO ${this.quote(target.name)}`];
  }

  override deleteStagedKeys(staging: TableName, key: string[], after: boolean, through: boolean): string {
    const none = key.map(() => null);
    const { sql } = keysetBounds(this.quote, { orderBy: key, after: after ? none : undefined, through: through ? none : undefined });
    return `DELETE FROM ${this.table(staging)}${sql.length ? ` WHERE ${sql.join(' AND ')}` : ''}`;
  }
}

/** SQLite's UPSERT grammar needs no override. */
export class SqliteSession implements Session {
  readonly serverVersion: string;
  readonly applySql: ApplySql;
  readonly path: string;
  readonly quoteTable: (t: TableName) => string;
  private readonly db: Database.Database;
  private readonly writer: SqliteWriter;
  private refuseRegistered = false;
  private checker?: SqliteChecker;
  /** Opening this target created its file: if nothing is ever written to it (a plan, a run refused before it writes), closing removes it. */
  private readonly createdFile: boolean;
  /** Write-ahead log: readers do not hold writers back, so no other session can share this one's snapshot. */
  private readonly wal: boolean;

  constructor(
    readonly dialect: Dialect,
    info: SqliteConnection,
    options: OpenOptions,
  ) {
    this.path = resolveSqlitePath(info, options.baseDir);
    this.createdFile = options.role === 'target' && !existsSync(this.path);
    this.db = openSqlite(info, options);
    this.quoteTable = tableQuoter(quoteAnsi);
    const version = (this.db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    this.serverVersion = `SQLite ${version}`;
    this.applySql = new SqliteApplySql(quoteAnsi, this.quoteTable);
    this.writer = new SqliteWriter(this.db, quoteAnsi, this.quoteTable);
    this.wal = String(this.db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.rawReads = this.wal ? [TSV] : [SQLITE_FILE, TSV];
  }

  quoteIdentifier(name: string): string {
    return quoteAnsi(name);
  }

  tableName(spec: string): TableName {
    // SQLite has no schemas here ("main" is the only one dbferry writes); strip a "main." prefix.
    const m = /^main\.(.+)$/i.exec(spec);
    return { name: unquote(m ? m[1] : spec) };
  }

  async listTables(): Promise<TableName[]> {
    return listSqliteTables(this.db);
  }

  async describeTable(name: TableName): Promise<TableInfo | undefined> {
    return describeSqliteTable(this.db, name);
  }

  privilegeProblems(request: PrivilegeRequest): Promise<string[]> {
    return privilegeProblems({ path: this.path, readonly: this.db.readonly }, request);
  }

  swapCheck(table: TableName): Promise<SwapCheck> {
    return swapCheck((sql, params) => this.query(sql, params), table.name);
  }

  mapType(type: LogicalType): TypeMapping {
    return sqliteTypeFor(type);
  }

  parseNativeType(nativeType: string): LogicalType {
    return parseSqliteType(nativeType);
  }

  readRows(request: ReadRequest): AsyncIterable<Row[]> {
    return readSqliteRows(this.db, quoteAnsi, this.quoteTable, request);
  }

  /**
   * Rows can be read as 'tsv', each line built by SQLite (./tsv.ts); SQLite has
   * no bulk load to write it. A SQLite target attaches this file and copies the
   * rows itself ('sqlite-file'), where its read sees this session's snapshot:
   * with a rollback journal, whose shared lock keeps every writer from
   * committing while the snapshot is held (not so in WAL mode).
   */
  readonly rawReads: string[];

  rawReadable(column: Column, format: string): boolean {
    return (format === TSV || format === SQLITE_FILE) && sqliteTsvReadable(column);
  }

  readonly rawPulls = [SQLITE_FILE];
  /** SQLite parses 'json-rows' itself (../jsonRows.ts): a PostgreSQL source's rows never become values here. */
  readonly rawWrites = [JSON_ROWS];

  rawCompatible(source: Column, target: Column, format: string): boolean {
    if (format === JSON_ROWS) return jsonRowsPair(source, target);
    return format === SQLITE_FILE && tsvPair(source, target);
  }

  async writeRaw(table: TableName, columns: string[], chunks: AsyncIterable<Uint8Array>, format: string): Promise<number> {
    if (format !== JSON_ROWS) throw new FerryError('internal', `SQLite cannot write rows as ${format}`);
    try {
      return await writeJsonRows(this.db, this.quoteTable(table), columns, chunks, quoteAnsi);
    } catch (err) {
      throw explainSqliteError(err, this.path);
    }
  }

  /**
   * INSERT … SELECT from the source file, attached for the statement; one
   * transaction, as a batch is. The values are checked beside the copy where
   * the source allows it (checksBeside): the transaction commits once the
   * check has found nothing, and rolls back otherwise.
   */
  async pullRaw(source: Session, request: ReadRequest, trailing: RowCounters | undefined, table: TableName, into: Column[], format: string): Promise<{ rows: number; bytes: number }> {
    if (format !== SQLITE_FILE || !(source instanceof SqliteSession)) throw new FerryError('internal', `SQLite cannot copy rows as ${format} from ${source.dialect.engine}`);
    this.ensureRefuse();
    const columns = into.slice(0, request.columns.length);
    const check = source.checksBeside() ? source.checkBeside(request, columns) : undefined;
    check?.catch(() => undefined); // awaited below
    const list = valueList(request.columns, columns, quoteAnsi, check === undefined);
    const counters = trailing ? `, ${trailing.batch}, ${trailing.rowBase} + row_number() OVER (${request.orderBy.length ? `ORDER BY ${request.orderBy.map((k) => `${quoteAnsi(k)} COLLATE BINARY`).join(', ')}` : ''})` : '';
    const from = (t: TableName) => `${quoteAnsi(ATTACHED)}.${quoteAnsi(t.name)}`;
    const { sql, params } = selectSql(quoteAnsi, from, request, list + counters);
    const names = into.map((c) => c.name);
    const insert = `INSERT INTO ${this.quoteTable(table)} (${names.map(quoteAnsi).join(', ')}) ${sql}`;
    // The bytes are the pages the rows took in the file (no value passes through here to be counted).
    const used = () => Number(this.db.pragma('page_count', { simple: true })) - Number(this.db.pragma('freelist_count', { simple: true }));
    const before = used();
    this.run(() => this.db.prepare(`ATTACH ? AS ${quoteAnsi(ATTACHED)}`).run(source.path));
    try {
      const rows = await inTransaction(this.db, async () => {
        const changes = this.run(() => this.db.prepare(insert).run(...params).changes);
        await check;
        return changes;
      });
      return { rows, bytes: Math.max(0, used() - before) * Number(this.db.pragma('page_size', { simple: true })) };
    } finally {
      this.db.exec(`DETACH ${quoteAnsi(ATTACHED)}`);
    }
  }

  /**
   * Whether a pass-through read of this source can leave its check to a
   * worker beside it (checkBeside): the worker's own connection must see
   * what this one reads, which a rollback journal's shared lock, held by this
   * session's snapshot, guarantees; in WAL mode writers commit beside readers.
   * Measured on 1M rows: the checks took ~1 s of SQLite → SQLite's 1.8 s.
   */
  checksBeside(): boolean {
    return !this.wal && this.db.inTransaction && SqliteChecker.available();
  }

  /** The check of `request`'s values (into a SQLite target's columns `into`) on a worker: rejects with the first value that cannot go. */
  checkBeside(request: ReadRequest, into?: Column[]): Promise<void> {
    const { list, where } = checkList(request.columns, into, quoteAnsi);
    const { sql, params } = selectSql(quoteAnsi, this.quoteTable, { ...request, where: request.where ? `(${request.where}) AND ${where}` : where, limit: 1, offset: undefined }, list);
    this.checker ??= new SqliteChecker();
    return this.checker.query(this.path, sql, params).then((row) => {
      if (!row) return;
      const i = Number(row[0]);
      throw refusal(request.columns[i].name, String(row[1 + i]));
    });
  }

  private ensureRefuse(): void {
    if (!this.refuseRegistered) {
      registerRefuse(this.db);
      this.refuseRegistered = true;
    }
  }

  readRaw(request: ReadRequest, trailing: RowCounters | undefined, format: string): AsyncIterable<Uint8Array> {
    if (format !== TSV) throw new FerryError('internal', `SQLite cannot read rows as ${format}`);
    this.ensureRefuse();
    if (!this.checksBeside()) return readSqliteTsv(this.db, quoteAnsi, this.quoteTable, request, trailing);
    return checkedBeside(readSqliteTsv(this.db, quoteAnsi, this.quoteTable, request, trailing, false), this.checkBeside(request));
  }

  /** Range hashes are computed here, reading the rows (a SQLite file is local): integer keys' ranges or key hashes. */
  bucketHashes(request: BucketRequest): Promise<BucketHash[]> {
    return bucketHashesInProcess(this, request);
  }

  /** Buckets of a key hash: the connection (and a pass-through's check worker) computes it with a function of dbferry's. */
  keyBucketCondition(columns: Column[], set: BucketSet): string {
    registerKeyHash(this.db);
    return keyBucketCondition(columns, set);
  }

  bucketCondition(key: string, set: BucketSet): string {
    const { lo, levels } = bucketSetParts(set);
    // Integer division of integers truncates: a floor, keys being from lo up.
    return `(${levels.map((l) => `((${this.quoteIdentifier(key)} - ${lo}) / ${l.width}) IN (${l.ids.join(', ')})`).join(' OR ')})`;
  }

  async countRows(table: TableName, where?: string): Promise<number> {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM ${this.quoteTable(table)}${where ? ` WHERE (${where})` : ''}`)
      .get() as { n: number };
    return row.n;
  }

  /** In characters: length() counts UTF-8 characters of text; text decoded from a one-byte "encoding" has as many as bytes. */
  async longestText(table: TableName, column: Column, where?: string): Promise<number | null> {
    const x = quoteAnsi(column.name);
    const len = column.encoding ? `length(CAST(${x} AS BLOB))` : `length(${x})`;
    const row = this.db
      .prepare(`SELECT max(${len}) AS n FROM ${this.quoteTable(table)} WHERE typeof(${x}) = 'text'${where ? ` AND (${where})` : ''}`)
      .get() as { n: number | null };
    return row.n;
  }

  async createTable(def: TableDef): Promise<void> {
    this.run(() => this.db.exec(createTableSql(def, quoteAnsi, this.quoteTable)));
  }

  async dropTable(name: TableName): Promise<void> {
    this.writer.forget(name);
    this.run(() => this.db.exec(`DROP TABLE IF EXISTS ${this.quoteTable(name)}`));
  }

  async createIndex(table: TableName, indexName: string, columns: string[]): Promise<void> {
    this.run(() =>
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${quoteAnsi(indexName)} ON ${this.quoteTable(table)} (${columns.map(quoteAnsi).join(', ')})`),
    );
  }

  async insertRows(table: TableName, columns: Column[], rows: Row[]): Promise<void> {
    this.run(() => this.writer.insert(table, columns, rows));
  }

  async execute(sql: string, params: Value[] = []): Promise<number> {
    return this.run(() => this.db.prepare(sql).run(...params.map(toSqlite)).changes);
  }

  async query(sql: string, params: Value[] = []): Promise<QueryResult> {
    const rows = this.run(() => this.db.prepare(sql).raw(true).safeIntegers(true).all(...params.map(toSqlite)) as SqliteValue[][]);
    const any = readerFor({ kind: 'any' });
    return { rows: rows.map((r) => r.map(any)) };
  }

  /** SQLite transactions are serializable whatever level is asked for. */
  async transaction<T>(fn: () => Promise<T>, _isolation?: TargetIsolation): Promise<T> {
    this.run(() => this.db.exec('BEGIN IMMEDIATE'));
    try {
      const result = await fn();
      this.run(() => this.db.exec('COMMIT'));
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  async beginSnapshot(): Promise<void> {
    beginSqliteSnapshot(this.db);
  }

  /**
   * Several readers of one point in time: with a rollback journal, the shared
   * lock this session's read transaction holds keeps every writer from
   * committing, so sessions that begin theirs meanwhile see the same file. In
   * WAL mode writers commit beside readers: not possible.
   */
  async holdWrites(others: () => Promise<void>): Promise<{ ok: true } | { ok: false; why: string }> {
    if (this.wal) return { ok: false, why: 'the SQLite source is in WAL mode, where readers cannot share one point in time' };
    beginSqliteSnapshot(this.db);
    await others();
    return { ok: true };
  }

  async endSnapshot(): Promise<void> {
    endSqliteSnapshot(this.db);
  }

  async close(): Promise<void> {
    await this.checker?.close();
    if (this.db.open) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.close();
      if (this.createdFile) removeIfNeverWritten(this.path);
    }
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw explainSqliteError(err, this.path);
    }
  }
}

/**
 * The lines of an unchecked read, then the check's verdict: a value that
 * cannot go fails the read as soon as the check knows, and at the latest
 * before the read ends, so the target's bulk load never completes.
 */
function checkedBeside(lines: AsyncGenerator<Uint8Array>, check: Promise<void>): AsyncGenerator<Uint8Array> {
  let refused: unknown;
  // Now, not once the read starts: the check may be over before the target asks for the first bytes.
  check.catch((err: unknown) => (refused = err));
  return (async function* () {
    try {
      for await (const chunk of lines) {
        if (refused) throw refused;
        yield chunk;
      }
      await check;
    } finally {
      await lines.return(undefined);
    }
  })();
}

/** SQLite writes nothing to a new file until its first table: a file still empty holds nothing anyone wrote. */
function removeIfNeverWritten(path: string): void {
  try {
    if (statSync(path).size === 0 && !existsSync(`${path}-journal`) && !existsSync(`${path}-wal`)) unlinkSync(path);
  } catch {
    // Gone already, or not ours to remove: leave it.
  }
}

function unquote(name: string): string {
  const m = /^"(.*)"$/.exec(name);
  return m ? m[1].replaceAll('""', '"') : name;
}
