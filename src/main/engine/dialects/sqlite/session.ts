import type Database from 'better-sqlite3';
import type { SqliteConnection } from '../../../../shared/connectionUrl.js';
import type { Column, LogicalType, Row, TableInfo, TableName, TypeMapping, Value } from '../../types.js';
import { StandardApplySql, quoteAnsi, tableQuoter } from '../base.js';
import type { ApplySql, Dialect, OpenOptions, PrivilegeRequest, QueryResult, ReadRequest, Session, TableDef, TargetIsolation } from '../dialect.js';
import { explainSqliteError, openSqlite, resolveSqlitePath } from './connect.js';
import { describeSqliteTable, listSqliteTables } from './introspect.js';
import { privilegeProblems } from './privileges.js';
import { keysetBounds, readSqliteRows, readSqliteTsv } from './read.js';
import { beginSqliteSnapshot, endSqliteSnapshot } from './snapshot.js';
import { parseSqliteType, sqliteTypeFor } from './types.js';
import { registerRefuse, sqliteTsvReadable } from './tsv.js';
import { readerFor, toSqlite, type SqliteValue } from './values.js';
import { TSV } from '../tsv.js';
import { SqliteWriter, createTableSql } from './write.js';

/**
 * UPDATE ... FROM is supported since 3.33. A new target's staging table is
 * already in its final shape (capabilities.stagingInFinalShape): promoting it
 * is a rename, transactional like all of SQLite's DDL.
 */
class SqliteApplySql extends StandardApplySql {
  override promoteStaging(staging: TableName, target: TableName): string[] {
    return [`ALTER TABLE ${this.table(staging)} RENAME TO ${this.quote(target.name)}`];
  }

  deleteStagedKeys(staging: TableName, key: string[], after: boolean, through: boolean): string {
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

  constructor(
    readonly dialect: Dialect,
    info: SqliteConnection,
    options: OpenOptions,
  ) {
    this.path = resolveSqlitePath(info, options.baseDir);
    this.db = openSqlite(info, options);
    this.quoteTable = tableQuoter(quoteAnsi);
    const version = (this.db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    this.serverVersion = `SQLite ${version}`;
    this.applySql = new SqliteApplySql(quoteAnsi, this.quoteTable);
    this.writer = new SqliteWriter(this.db, quoteAnsi, this.quoteTable);
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

  mapType(type: LogicalType): TypeMapping {
    return sqliteTypeFor(type);
  }

  parseNativeType(nativeType: string): LogicalType {
    return parseSqliteType(nativeType);
  }

  readRows(request: ReadRequest): AsyncIterable<Row[]> {
    return readSqliteRows(this.db, quoteAnsi, this.quoteTable, request);
  }

  /** Rows can be read as 'tsv', each line built by SQLite (./tsv.ts); SQLite has no bulk load to write it. */
  readonly rawReads = [TSV];

  rawReadable(column: Column, format: string): boolean {
    return format === TSV && sqliteTsvReadable(column);
  }

  readRaw(request: ReadRequest, trailing: { batch: number; rowBase: number }): AsyncIterable<Uint8Array> {
    if (!this.refuseRegistered) {
      registerRefuse(this.db);
      this.refuseRegistered = true;
    }
    return readSqliteTsv(this.db, quoteAnsi, this.quoteTable, request, trailing);
  }

  async countRows(table: TableName, where?: string): Promise<number> {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM ${this.quoteTable(table)}${where ? ` WHERE (${where})` : ''}`)
      .get() as { n: number };
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

  async endSnapshot(): Promise<void> {
    endSqliteSnapshot(this.db);
  }

  async close(): Promise<void> {
    if (this.db.open) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.db.close();
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

function unquote(name: string): string {
  const m = /^"(.*)"$/.exec(name);
  return m ? m[1].replaceAll('""', '"') : name;
}
