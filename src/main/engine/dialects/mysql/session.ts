/**
 * One open MySQL/MariaDB connection as a dbferry Session: wires the role
 * files (introspect, read, write, snapshot) to one mysql2 connection.
 */
import type { Connection, FieldPacket } from 'mysql2/promise';
import type { ServerConnection } from '../../../../shared/connectionUrl.js';
import type { Column, LogicalType, Row, TableInfo, TableName, TypeMapping, Value } from '../../types.js';
import { quoteBacktick, tableQuoter } from '../base.js';
import type { ApplySql, BucketHash, BucketRequest, BucketSet, Dialect, PrivilegeRequest, QueryResult, ReadRequest, RowCounters, Session, SwapCheck, TableDef, TargetIsolation } from '../dialect.js';
import { keyBucketCondition } from './keyHash.js';
import { MysqlApplySql } from './apply.js';
import { swapCheck } from './swap.js';
import type { Link, ServerFacts } from './connect.js';
import { mysqlError } from './errors.js';
import * as introspect from './introspect.js';
import { missingOnTable, privilegeProblems } from './privileges.js';
import * as read from './read.js';
import type { NativeRowHash } from './read.js';
import * as snapshot from './snapshot.js';
import * as types from './types.js';
import { integerFromString, toParam } from './values.js';
import * as write from './write.js';
import { TSV } from '../tsv.js';
import { JSON_ROWS } from '../jsonRows.js';
import type { BulkPath } from './write.js';

/** mysql2's column type code for BIGINT, which arrives as a string. */
const LONGLONG = 8;

export class MysqlSession implements Session {
  readonly serverVersion: string;
  readonly nativeRowHash: NativeRowHash;
  readonly applySql: ApplySql = new MysqlApplySql();
  readonly quoteTable = tableQuoter(quoteBacktick);
  readonly maxAllowedPacket: number;
  readonly conn: Connection;
  readonly core: Link['core'];
  readonly facts: ServerFacts;
  /** LOAD DATA LOCAL where the server takes it, until it refuses it once; else INSERT. */
  bulkPath: BulkPath;
  inTransaction = false;

  constructor(
    readonly dialect: Dialect,
    link: Link,
    private readonly info: ServerConnection,
  ) {
    ({ conn: this.conn, core: this.core, facts: this.facts } = link);
    const facts = link.facts;
    this.serverVersion = facts.version;
    this.nativeRowHash = read.nativeRowHashOf(facts);
    this.maxAllowedPacket = facts.maxAllowedPacket;
    const localInfile = info.params.localInfile;
    // Asked of the server, not tried: a refused LOAD DATA LOCAL costs a round trip and makes the driver print "packets out of order".
    this.bulkPath = localInfile === '0' || localInfile === 'false' || !facts.localInfile ? 'insert' : 'load-data';
  }

  readonly fail = (err: unknown): Error =>
    mysqlError(err, `${this.info.host}:${this.info.port}/${this.info.database ?? ''}`, this.info.user ?? 'root');

  quoteIdentifier(name: string): string {
    return quoteBacktick(name);
  }

  tableName(spec: string): TableName {
    return introspect.parseTableSpec(spec);
  }

  async listTables(): Promise<TableName[]> {
    return this.guard(() => introspect.listTables(this.conn));
  }

  async describeTable(name: TableName): Promise<TableInfo | undefined> {
    return this.guard(() => introspect.describeTable(this.conn, name));
  }

  privilegeProblems(request: PrivilegeRequest): Promise<string[]> {
    return privilegeProblems(this, request);
  }

  /** Besides what pins the table: RENAME TABLE needs ALTER and DROP on it, which the run's preflight does not ask for. */
  async swapCheck(table: TableName): Promise<SwapCheck> {
    const check = await swapCheck((sql, params) => this.query(sql, params), table.schema, table.name);
    const missing = await missingOnTable(this, table, ['ALTER', 'DROP']).catch(() => ['ALTER', 'DROP']);
    if (missing.length) check.blockers.push(`the account lacks ${missing.join(' and ')} on it, which RENAME TABLE needs`);
    return check;
  }

  mapType(type: LogicalType): TypeMapping {
    return types.mapType(type, this.facts.flavor);
  }

  parseNativeType(nativeType: string): LogicalType {
    return types.parseNativeType(nativeType);
  }

  readRows(request: ReadRequest): AsyncIterable<Row[]> {
    return read.readRows(this, request);
  }

  countRows(table: TableName, where?: string): Promise<number> {
    return read.countRows(this, table, where);
  }

  longestText(table: TableName, column: Column, where?: string): Promise<number | null> {
    return read.longestText(this, table, column.name, where);
  }

  bucketHashes(request: BucketRequest): Promise<BucketHash[]> {
    return read.bucketHashes(this, request);
  }

  keyBucketCondition(columns: Column[], set: BucketSet): string {
    return keyBucketCondition(columns, set);
  }

  printsAlike(a: Column, b: Column): boolean {
    return read.printsAlike(a, b);
  }

  keyIdentities(columns: Column[], keys: Value[][]): Promise<string[]> {
    return read.keyIdentities(this, columns, keys);
  }

  bucketCondition(key: string, set: BucketSet): string {
    return read.bucketSetCondition(key, set);
  }

  createTable(def: TableDef): Promise<void> {
    return write.createTable(this, def);
  }

  dropTable(name: TableName): Promise<void> {
    return write.dropTable(this, name);
  }

  createIndex(table: TableName, indexName: string, columns: string[]): Promise<void> {
    return write.createIndex(this, table, indexName, columns);
  }

  insertRows(table: TableName, columns: Column[], rows: Row[]): Promise<void> {
    return write.insertRows(this, table, columns, rows);
  }

  /** Rows are read as 'tsv' from the text protocol, undecoded, or as 'json-rows' the server builds (for SQLite). */
  readonly rawReads = [TSV, JSON_ROWS];

  /** A source's 'tsv' goes straight into LOAD DATA, where LOAD DATA LOCAL is allowed. */
  get rawWrites(): string[] {
    return this.bulkPath === 'load-data' ? [TSV] : [];
  }

  rawReadable(column: Column, format: string): boolean {
    return format === TSV ? read.tsvReadable(column) : format === JSON_ROWS && read.jsonRowsReadable(column);
  }

  readRaw(request: ReadRequest, trailing: RowCounters | undefined, format: string): AsyncIterable<Uint8Array> {
    return read.readRaw(this, request, trailing, format);
  }

  rawCompatible(source: Column, target: Column, format: string): boolean {
    return format === TSV && write.rawCompatible(source, target);
  }

  writeRaw(table: TableName, columns: string[], chunks: AsyncIterable<Uint8Array>): Promise<number> {
    return write.writeRaw(this, table, columns, chunks);
  }

  async execute(sql: string, params: Value[] = []): Promise<number> {
    const [result] = await this.guard(() => this.conn.query({ sql, values: params.map((p) => toParam(p)) }));
    return (result as { affectedRows?: number }).affectedRows ?? 0;
  }

  async query(sql: string, params: Value[] = []): Promise<QueryResult> {
    const [result, fields] = await this.guard(() => this.conn.query({ sql, values: params.map((p) => toParam(p)), rowsAsArray: true }));
    if (!Array.isArray(result)) return { rows: [] };
    const bigints = (fields as FieldPacket[]).map((f) => f.columnType === LONGLONG);
    const rows = (result as Value[][]).map((row) => row.map((v, i) => (bigints[i] && typeof v === 'string' ? integerFromString(v) : v)));
    return { rows };
  }

  transaction<T>(fn: () => Promise<T>, isolation?: TargetIsolation): Promise<T> {
    return snapshot.transaction(this, fn, isolation);
  }

  beginSnapshot(): Promise<void> {
    return snapshot.beginSnapshot(this);
  }

  endSnapshot(): Promise<void> {
    return snapshot.endSnapshot(this);
  }

  holdWrites(others: () => Promise<void>): Promise<{ ok: true } | { ok: false; why: string }> {
    return snapshot.holdWrites(this, others);
  }

  async close(): Promise<void> {
    try {
      await this.conn.end();
    } catch {
      this.conn.destroy();
    }
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.fail(err);
    }
  }
}
