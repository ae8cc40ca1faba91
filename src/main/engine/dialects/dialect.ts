/**
 * The contract every engine implements: one folder per engine
 * (postgres/, mysql/, sqlite/), one file per role (connect, introspect, read,
 * write, types, snapshot), over the defaults in base.ts. The pipeline speaks
 * only this interface; engine differences are data (Capabilities) or
 * overrides, never `if (engine === ...)` in the pipeline.
 */
import type { SshSpec } from '../../../shared/jobSpec.js';
import type { SshSecrets } from '../ssh/auth.js';
import type { ConnectionInfo, Engine } from '../../../shared/connectionUrl.js';
import type { SchemaSupport } from '../schema/model.js';
import type { Column, LogicalType, Row, TableInfo, TableName, TypeKind, TypeMapping, Value } from '../types.js';

export interface Capabilities {
  /** DDL rolls back with the transaction (PostgreSQL, SQLite). MySQL commits implicitly. */
  transactionalDdl: boolean;
  /** Tables live in schemas (PostgreSQL). */
  schemas: boolean;
  /** Longest identifier the engine accepts (PostgreSQL: bytes of UTF-8; MySQL: characters). */
  maxIdentifierLength: number;
  /** A longer identifier is cut to maxIdentifierLength bytes, not refused (PostgreSQL's NAMEDATALEN). */
  truncatesIdentifiers?: boolean;
  /**
   * A staging table can become a new target in place inside the apply
   * transaction (drop dbferry's columns, add NOT NULL and the key, rename),
   * instead of copying every row again. Needs cheap, transactional ALTER TABLE.
   */
  promoteStaging?: boolean;
  /**
   * A staging table to promote is created in the target's final shape: its
   * key, its NOT NULLs, and none of dbferry's batch and row columns, because
   * ALTER TABLE can neither add a key nor drop a column without rewriting the
   * table (SQLite: dropping the two columns of 1M rows took longer than
   * copying them). Staged rows are then told apart by key (deleteStagedKeys).
   * PostgreSQL: no dbferry columns either (fewer bytes through COPY, nothing to
   * drop), but the key is built once the rows are in (keyAfterLoad).
   */
  stagingInFinalShape?: boolean;
  /** A staging table in final shape gets its key when promoted, in one index build, not row by row while it loads. */
  keyAfterLoad?: boolean;
  /**
   * Promotion can reshape the staging table: drop dbferry's columns and add
   * NOT NULLs and the key (PostgreSQL), or the key was made at staging and
   * dropping the columns is instant (MySQL). Without it (SQLite, where
   * ALTER TABLE can do neither) only a staging table already in its final
   * shape is promoted; any other new target is created and filled from staging.
   */
  promoteReshapes?: boolean;
  /**
   * Key kinds whose staged rows this engine can tell apart by key range in
   * the order every read is in (integers; text in code point order): a new
   * table with such a key is staged in its final shape. Default: integer.
   */
  finalShapeKeys?: readonly TypeKind[];
  /** Several sessions may write (staging tables) at once; SQLite has one writer. */
  concurrentWriters: boolean;
  /**
   * A hash statement runs on one core (MySQL/MariaDB has no parallel query;
   * PostgreSQL plans none for it): a comparison before copying hashes a big
   * table's first level in two halves of the key on two sessions at once
   * where the server has a core to spare (pipeline/compare.ts, run.ts).
   */
  splitHashes?: boolean;
}

export type TargetIsolation = 'serializable' | 'repeatable-read' | 'read-committed';

export interface OpenOptions {
  /** Folder that relative SQLite paths resolve against (the job file's folder). */
  baseDir: string;
  role: 'source' | 'target';
  /** Applied on the server side (statement_timeout, max_execution_time); 0 = none. */
  statementTimeoutMs?: number;
  /** PostgreSQL: schema for unqualified names (default "public"). */
  schema?: string;
  /** Reach the server through an SSH tunnel opened for this session alone (closed with it). */
  ssh?: SshSpec;
  /** Secrets typed in the app for the SSH login (session only; never passed to workers). */
  sshSecrets?: SshSecrets;
  /** The local end of an SSH tunnel the caller keeps open (a run's lanes all go through one), and its label for messages. */
  tunnel?: { host: string; port: number; label?: string };
}

/** dbferry's two counters a raw read appends to each row: the batch, and rowBase + the row's number. */
export interface RowCounters {
  batch: number;
  rowBase: number;
}

export interface ReadRequest {
  table: TableName;
  /** Columns to read, in this order; rows come back in this order. */
  columns: Column[];
  /** Rows are returned ordered by these columns (the key); empty = engine order. */
  orderBy: string[];
  /** A filter in the source's own SQL, from the job spec. */
  where?: string;
  /** Exclusive lower bound on `orderBy` (resume point, chunk start). */
  after?: Row;
  /** Inclusive upper bound on `orderBy` (chunk end). */
  through?: Row;
  /** Upper bound on rows per yielded batch. */
  batchRows: number;
  /** Only rows whose `column` is greater than `value` (an incremental table's watermark). */
  since?: { column: string; value: Value };
  /** Yield a batch once its values hold about this many bytes, however few rows (big values stay bounded). */
  batchBytes?: number;
  /** At most this many rows, after skipping `offset` (chunk planning probes the key at an offset). */
  limit?: number;
  offset?: number;
}

export interface Fingerprint {
  rows: number;
  /** Opaque: compared for equality only. */
  hash: string;
}

/**
 * How a column's value is printed before a row is hashed for comparing key
 * ranges across engines (../pipeline/rowHash.ts): the same text for the same
 * value as the target would store it, whichever engine holds it.
 *   int     decimal digits
 *   dec     a decimal without trailing fractional zeros (the target keeps a fixed scale: 1.50 = 1.5)
 *   decx    a decimal as printed (the target keeps the scale it is given: 1.50 ≠ 1.5)
 *   bool    '1' or '0'
 *   text    the characters; textfixed: without trailing spaces (CHAR(n))
 *   uuid    lower case;  bytes  lower-case hex
 *   date    YYYY-MM-DD;  time  HH:MM:SS[.f] and ts  YYYY-MM-DD HH:MM:SS[.f], UTC, no trailing fractional zeros
 *   native  the engine's own text of the value (both sides one engine, one type)
 */
export type HashKind = 'int' | 'dec' | 'decx' | 'bool' | 'text' | 'textfixed' | 'uuid' | 'bytes' | 'date' | 'time' | 'ts' | 'native';

/**
 * Kinds whose text is digits, signs, points, colons, dashes, spaces or hex
 * digits: never '-' alone, never holding a '|'. They are printed bare; every
 * other kind's text is prefixed with its length, so a '|' inside cannot
 * shift a value into the next. (MariaDB prints these as its own text: no
 * cast, no length, each computed once per row.)
 */
export const BARE_HASH_KINDS: ReadonlySet<HashKind> = new Set<HashKind>(['int', 'dec', 'decx', 'bool', 'bytes', 'date', 'time', 'ts']);

/**
 * Rows grouped into buckets of a one-column integer key, floor((key - lo) / width),
 * each bucket's row count and the exact sum of a 60-bit hash (the first 15 hex
 * digits of the SHA-256) of each row's text (../pipeline/rowHash.ts rowText):
 * each column's piece, '|' between them, is '-' for NULL, a bare kind's text
 * (BARE_HASH_KINDS), or another kind's text prefixed with its length in characters and ':'.
 */
/**
 * Where a table's row versions stand on a server now (RowVersions.mark). Two
 * marks of one table are comparable only when `server` and `table` are equal:
 * the same cluster on the same timeline, the same table in the same file.
 */
export interface VersionMark {
  /** The server: system identifier and timeline. */
  server: string;
  /** The table: database, table and file (a TRUNCATE or a rewrite makes a new file). */
  table: string;
  /** Every transaction below this one (a full 64-bit id) had ended when the mark was taken: a row written later has an id at least this. */
  xmin: string;
  /** The next transaction id then: later marks have one at least as high. */
  next: string;
  /** The write-ahead log's position then (bytes): later marks have one at least as high. */
  lsn: string;
  /** The run's own writes after the mark (RowVersions.writtenBy): not changes to look for next time. */
  own?: string[];
}

/** A set of keys summed up: how many, and the XOR of a 64-bit hash of each (the same hash on every server of the engine). */
export interface KeySet {
  rows: number;
  hash: bigint;
}

export interface RowVersions {
  /** Each table's mark, in one round trip (in the session's snapshot, if one is open); undefined: not a plain table, or the server does not say. */
  marks(tables: TableName[]): Promise<Array<VersionMark | undefined>>;
  /**
   * The keys of the rows written by transactions from `since` on (a mark's
   * xmin), when there are at most `max`; with the key set of all the rows
   * (`where`: of those). One scan, no row read out.
   */
  changedKeys(req: { table: TableName; key: string; where?: string; since: string; except?: string[]; max: number }): Promise<KeySet & { changed?: bigint[]; changedRows: number }>;
  /**
   * An expression of this engine's SQL whose value is a JSON array of the
   * row versions of the rows of `table` whose key is in `from`'s (the rows
   * this transaction just wrote), as text: at most `max`, else none (`[]`).
   * Evaluated in the statement that records them, with the commit.
   */
  writtenBySql(req: { table: TableName; key: string; from: TableName; max: number }): string;
  /** The key set of the rows with these keys (`where`: of those among them). */
  keySetOf(req: { table: TableName; key: string; where?: string; keys: bigint[] }): Promise<KeySet>;
}

export interface BucketRequest extends ReadRequest {
  kinds: HashKind[];
  buckets: {
    lo: bigint;
    width: bigint;
    /** Every key and key - lo fits a signed 64-bit integer: bucket arithmetic in BIGINT, not in decimals (3× faster). */
    narrow?: boolean;
    /** Only rows whose floor((key - lo) / within.width) is one of `ids` (the buckets of the level above that differ). */
    within?: { width: bigint; ids: bigint[] };
    /**
     * Buckets of a hash of the key instead (../pipeline/compareKeys.ts): a row's bucket is
     * keyHash(orderBy columns) mod width (lo unused), `within` likewise.
     */
    keyHash?: KeyHash;
  };
}

/**
 * A key's bucket by hash (../pipeline/compareKeys.ts), for keys that are not one integer
 * column: each key column printed as its hash kind says, joined (one column: its text; more:
 * each as `length:text` or '-'), hashed to a 60-bit integer: 'sha256' the first 15 hex digits of
 * the SHA-256 of its UTF-8 (every engine), 'pg' hashtextextended(text, 0) & (2^60 - 1) (both sides PostgreSQL).
 */
export interface KeyHash {
  kinds: HashKind[];
  fn: 'sha256' | 'pg';
}

/**
 * Buckets of a one-column integer key (BucketRequest's arithmetic), as plain
 * data (decimal strings: it is kept in checkpoints): a key is in the set when
 * floor((key - lo) / width) is among a level's ids, for some level.
 */
export interface BucketSet {
  lo: string;
  narrow: boolean;
  levels: Array<{ width: string; ids: string[] }>;
  /** Buckets of a hash of the key (compareKeys.ts): keyHash mod width, for every key column. */
  keyHash?: KeyHash;
}

export interface BucketHash {
  bucket: bigint;
  rows: number;
  /** The sum as decimal digits. */
  hash: string;
}

export interface ColumnDef {
  name: string;
  nativeType: string;
  nullable: boolean;
  /** Created as a generated column of this expression, in the engine's own SQL (never written to). */
  generated?: { expression: string; stored: boolean };
  /** The column's comment, where the engine keeps it with the column's definition (MySQL). */
  comment?: string;
  /** A text column's collation where it must compare as the target's does (MySQL: a staging table's key). */
  collation?: string;
}

export interface TableDef {
  name: TableName;
  columns: ColumnDef[];
  primaryKey: string[];
  /**
   * A column that generates keys from the start, where making it do so later
   * copies the table (MySQL's AUTO_INCREMENT); engines that add it cheaply later ignore this.
   */
  generatedKey?: string;
  /** The source's key is a SQLite rowid (max + 1, no counter): SQLite declares it INTEGER PRIMARY KEY without AUTOINCREMENT. */
  generatedKeyIsRowid?: boolean;
  /** The table's comment, where the engine keeps it with the table's definition (MySQL). */
  comment?: string;
}

/**
 * SQL the apply step runs inside the target transaction. Names are quoted by
 * the dialect. The staging table is always aliased `s`; `filter` is an extra
 * condition on it (e.g. a range of staged row numbers) built by the pipeline.
 */
export interface ApplySql {
  deleteAll(target: TableName): string;
  insertFromStaging(target: TableName, staging: TableName, columns: string[], filter?: string): string;
  /** Update target rows whose key is in staging to the staged values. */
  updateFromStaging(target: TableName, staging: TableName, columns: string[], key: string[], filter?: string): string;
  /**
   * Update only the target rows whose key is in staging and whose values
   * differ from the staged ones (null-safe, exactly: case, trailing zeros,
   * fractions), so an unchanged row costs no write. '' when nothing can differ.
   */
  updateChangedFromStaging(target: TableName, staging: TableName, columns: Column[], key: string[], filter?: string): string;
  /**
   * New table with the staged rows the target does not hold as they are (new
   * keys, or values that differ): all an upsert or mirror writes, found in
   * one pass over both tables, so that backups and writes touch only those.
   */
  copyDiffering(target: TableName, staging: TableName, to: TableName, columns: Column[], key: string[]): string[];
  /**
   * New table with the target rows whose key is in `rows` (pre-images before
   * upsert; `rows` is the delta, so these are the rows it overwrites). An
   * uncorrelated IN: every engine looks the few keys up, none scans `rows`
   * once per target row.
   */
  copyMatching(target: TableName, rows: TableName, to: TableName, key: string[]): string;
  /** Add to a backup table the target rows whose key is absent from staging (what a mirror deletes). */
  /** New table with the keys of the target rows absent from staging: what a mirror deletes, found once for its backup and its delete. */
  copyAbsentKeys(target: TableName, staging: TableName, to: TableName, key: string[]): string[];
  /**
   * Add to `to` the keys of the target rows within the key buckets `set` that
   * staging lacks (a delta mirror's deletes), each bucket read through the key
   * index; undefined where the engine cannot (the caller merges the keys itself).
   */
  copyAbsentKeysInBuckets?(target: TableName, staging: TableName, to: TableName, key: string, set: BucketSet): string[] | undefined;
  /** Add to the table `to` the target rows whose key is in `keys` (a table of unique keys). */
  copyRowsOfKeys(target: TableName, keys: TableName, to: TableName, key: string[]): string;
  /** Delete the target rows whose key is in `keys` (a table of unique keys). */
  deleteRowsOfKeys(target: TableName, keys: TableName, key: string[]): string;
  /**
   * Statements run first in an apply transaction whose staged rows are few
   * against their tables (a delta run): the server then looks each staged key
   * up in the target's key index instead of reading the whole target to join
   * it (PostgreSQL picks a merge join that scans every target row, even for
   * ten thousand keys among a million). Scoped to the transaction.
   */
  lookUpStagedKeys?(): string[];
  /** Insert staged rows whose key is not in the target. */
  insertMissingFromStaging(target: TableName, staging: TableName, columns: string[], key: string[], filter?: string): string;
  /** A condition on `s`: staged row numbers from `from` to `to`, inclusive. */
  rowRange(column: string, from: number, to: number): string;
  /**
   * Statements that turn a staging table into the new target table (capabilities.promoteStaging).
   * `keyIndex`: a unique index on `key` built on the staging table already, which becomes the primary key.
   */
  promoteStaging?(staging: TableName, target: TableName, drop: string[], notNull: string[], key: string[], keyIndex?: string): string[];
  /**
   * Replace by swap: the old table becomes `backup` and the staged one takes
   * its place (promoteStaging's arguments); `primaryKeyName` as SwapCheck's.
   */
  swapStaging?(staging: TableName, target: TableName, backup: TableName, drop: string[], notNull: string[], key: string[], primaryKeyName?: string, keyIndex?: string): string[];
  /**
   * Undo a swap: the table in place goes and `backup` (the table a swap
   * replaced) takes its name again, its key constraint named as before.
   */
  swapBack?(target: TableName, backup: TableName, primaryKeyName?: string): string[];
  savepoint(name: string): string;
  rollbackToSavepoint(name: string): string;
  releaseSavepoint(name: string): string;
  /** Delete target rows whose key is not in staging (mirror). */
  deleteAbsentFromStaging(target: TableName, staging: TableName, key: string[]): string;
  /** Delete target rows whose key is in `keys` (a table holding key columns). */
  deleteMatching(target: TableName, keys: TableName, key: string[]): string;
  /** Copy a whole table into a new one (a backup before replace/mirror). */
  copyTable(from: TableName, to: TableName): string;
  /** New table with the staged keys absent from the target (rows an upsert/append will insert). */
  copyNewKeys(target: TableName, staging: TableName, to: TableName, key: string[]): string;
  /** Delete staged rows of batches after `after` up to `through` (a resumed chunk's tail, or one retried batch). */
  deleteStagedBatches(staging: TableName, after: number, through: number, batchColumn: string): string;
  /**
   * Staging in final shape (capabilities.stagingInFinalShape): delete staged
   * rows whose `key` is past one bound and up to another, in the order reads
   * are in; the statement's parameters are the lower bound's values, then the
   * upper's. No bound: every row.
   */
  deleteStagedKeys?(staging: TableName, key: string[], after: boolean, through: boolean): string;
}

export interface PrivilegeRequest {
  role: 'source' | 'target';
  /** Tables the run reads (source) or writes (target) that exist. */
  tables: TableName[];
  /** Target only: the run will create tables (in this schema, where the engine has schemas). */
  createIn?: { schema?: string };
}

export interface SwapCheck {
  blockers: string[];
  /** The old table's primary key constraint, renamed with it so the new table's can take the name. */
  primaryKeyName?: string;
}

export interface QueryResult {
  rows: Value[][];
}

/** One open connection to a database. Not shared between concurrent tasks. */
export interface Session {
  readonly dialect: Dialect;
  /** e.g. "PostgreSQL 15.19", "MariaDB 10.11.19", "SQLite 3.50.4". */
  readonly serverVersion: string;
  /** The database's file, for an engine whose database is one (SQLite): absolute. */
  readonly path?: string;

  // -- identifiers ---------------------------------------------------------
  quoteIdentifier(name: string): string;
  quoteTable(name: TableName): string;
  /** Resolve a name from a job spec ("orders", "public.orders") to a TableName. */
  tableName(spec: string): TableName;

  // -- introspect ------------------------------------------------------------
  listTables(): Promise<TableName[]>;
  /** undefined when the table does not exist. */
  describeTable(name: TableName): Promise<TableInfo | undefined>;
  /**
   * Whether describeTable would find the table: one round trip where
   * describeTable takes several (over a remote link, each is a network round
   * trip). Without it, callers ask describeTable (tableExists in ownTable.ts).
   */
  tableExists?(name: TableName): Promise<boolean>;
  /** Which of the tables exist, in one round trip (tableExists for several). */
  tablesExist?(names: TableName[]): Promise<boolean[]>;
  /** The server's id of this connection (PostgreSQL's backend pid), known since it connected: no round trip to ask it. */
  readonly backendId?: number;

  /**
   * Preflight: what this connection may not do that the run needs, one line a
   * problem, each naming the table and the privilege (empty: all fine).
   * Source: read each table. Target: create tables (when some must be created),
   * and insert, update, delete on each existing table.
   */
  privilegeProblems?(request: PrivilegeRequest): Promise<string[]>;

  /**
   * Replace by swap: what would pin the old table, or be lost, if a staged
   * table took its place by rename (views, foreign keys, triggers, grants,
   * policies, indexes, defaults…), one line each; none: it can be swapped.
   * Absent: this engine does not swap (replace runs in place).
   */
  swapCheck?(table: TableName): Promise<SwapCheck>;

  // -- types -----------------------------------------------------------------
  /** The native type this engine uses to hold a logical type, and what it loses. */
  mapType(type: LogicalType): TypeMapping;
  /** Parse a native type (from a user's `types` override) into a logical type. */
  parseNativeType(nativeType: string): LogicalType;

  // -- read ------------------------------------------------------------------
  /** Stream rows in bounded batches; never buffers the table. */
  readRows(request: ReadRequest): AsyncIterable<Row[]>;
  countRows(table: TableName, where?: string): Promise<number>;
  /** The most characters a text value of `column` holds (a scan: the plan asks it of small tables only); null without any. */
  longestText?(table: TableName, column: Column, where?: string): Promise<number | null>;
  /**
   * About evenly spaced values of a one-column integer key, from the engine's
   * statistics (no scan): chunk boundaries for free. Undefined when the engine
   * has none for it; planning then probes the key.
   */
  keyQuantiles?(table: TableName, key: Column, count: number): Promise<Value[] | undefined>;
  /**
   * The request's rows (order aside) summed up by the server: their count and
   * a hash of each row's text, added. Two tables of one engine and the same
   * column types hold the same rows when theirs match (verify.ts).
   */
  fingerprint?(request: ReadRequest): Promise<Fingerprint>;

  /**
   * The request's rows hashed per bucket by the server (BucketRequest); absent:
   * rowHash.ts reads the rows and hashes them in process (SQLite, local).
   */
  bucketHashes?(request: BucketRequest): Promise<BucketHash[]>;
  /**
   * The hash bucketHashes gives a row whose columns are all of kind 'native'
   * (absent: the SHA-256 of BucketRequest). Two sessions of one engine compare
   * native rows only when they name the same one (rowHash.ts hashKinds): a
   * MariaDB that has CRC32C hashes with it, at half md5's CPU.
   */
  readonly nativeRowHash?: string;
  /**
   * The engine prints every value of column `a` as it prints the same value
   * in column `b` (MySQL: TEXT and MEDIUMTEXT, INT(11) and INT of one
   * collation), so rows of both are compared by their native text.
   */
  printsAlike?(a: Column, b: Column): boolean;
  /**
   * Each key as this engine's key equality sees it, as text: equal texts for keys the table's
   * unique key calls equal (MySQL: a text key column of a case-insensitive or PAD SPACE
   * collation, where 'Red' = 'red' = 'red '). Absent: keys are equal by their values.
   */
  keyIdentities?(columns: Column[], keys: Value[][]): Promise<string[]>;
  /**
   * Row versions (PostgreSQL: every inserted or updated row carries the id of
   * the transaction that wrote it, xmin): which rows changed since a point a
   * later run can check (../pipeline/syncState.ts). Absent: the engine keeps none a client can read.
   */
  readonly rowVersions?: RowVersions;
  /** A condition in this engine's SQL: the integer column `key` is in `set` (a delta run reads only its differing buckets). */
  bucketCondition?(key: string, set: BucketSet): string;
  /** A condition in this engine's SQL: the key `columns` are in `set`, a set of key-hash buckets (set.keyHash). */
  keyBucketCondition?(columns: Column[], set: BucketSet): string;

  // -- write -----------------------------------------------------------------
  createTable(def: TableDef): Promise<void>;
  dropTable(name: TableName): Promise<void>;
  /**
   * dropTable(def.name), createTable(def) and createIndex(def.name, index…),
   * in one round trip (PostgreSQL). Absent: callers make the calls.
   */
  recreateTable?(def: TableDef, index?: { name: string; columns: string[] }): Promise<void>;
  createIndex(table: TableName, indexName: string, columns: string[]): Promise<void>;
  /** The engine's bulk path (COPY, LOAD DATA, prepared statements in one transaction). */
  insertRows(table: TableName, columns: Column[], rows: Row[]): Promise<void>;

  // -- pass-through (optional) -------------------------------------------------
  /**
   * Rows can stream from a source to a target as bytes, never decoded into
   * values, in a format the source reads and the target writes, tried in the
   * source's order: 'postgres-binary' (binary COPY, same types on both sides)
   * and 'tsv' (tsv.ts: text forms that COPY text and LOAD DATA both read).
   * Only for columns whose every value the target takes exactly as it comes.
   */
  readonly rawReads?: readonly string[];
  readonly rawWrites?: readonly string[];
  /** Can this source column be read in `format` (in the text form the format promises)? */
  rawReadable?(column: Column, format: string): boolean;
  /** The rows of `request` in `format`, each followed by two int8 fields: `batch`, and rowBase + its number (none without `trailing`: staging in final shape). */
  readRaw?(request: ReadRequest, trailing: RowCounters | undefined, format: string): AsyncIterable<Uint8Array>;
  /**
   * Formats this target reads from the source session itself (pullRaw) rather
   * than as bytes from readRaw: SQLite attaching a SQLite source file.
   */
  readonly rawPulls?: readonly string[];
  /**
   * Copy `request`'s rows from `source` into `table` in one statement: each
   * source column into the column beside it in `into` (the staging columns,
   * ending with the batch and row columns where there are `trailing`
   * counters, as readRaw); returns the rows written and about how many bytes they take.
   */
  pullRaw?(source: Session, request: ReadRequest, trailing: RowCounters | undefined, table: TableName, into: Column[], format: string): Promise<{ rows: number; bytes: number }>;
  /** Can every value of the source column go into this target column in `format`, exactly? */
  rawCompatible?(source: Column, target: Column, format: string): boolean;
  /**
   * Write `format` bytes into `columns` of `table` in one statement; returns the rows written.
   * `alone`: the table is empty and nothing else writes it meanwhile (a staging table's only
   * chunk), so the engine may load it as only an empty table allows (PostgreSQL: frozen rows).
   */
  writeRaw?(table: TableName, columns: string[], chunks: AsyncIterable<Uint8Array>, format: string, opts?: { alone?: boolean }): Promise<number>;
  readonly applySql: ApplySql;
  /** Run one statement; returns affected rows where the engine reports them. */
  execute(sql: string, params?: Value[]): Promise<number>;
  /**
   * Statements without parameters (identifiers quoted, no values spliced in),
   * in order, in one round trip: PostgreSQL's simple query protocol stops at
   * the first error; outside a transaction the statements form one implicit
   * transaction (so never for what cannot run in one: VACUUM, CONCURRENTLY).
   * Engines without it run them one by one (StatementBatch in pipeline/batch.ts).
   * Returns each statement's affected rows, as execute() does.
   */
  executeAll?(statements: string[]): Promise<number[]>;
  query(sql: string, params?: Value[]): Promise<QueryResult>;
  /** Run fn in one transaction at the given isolation; rolls back if fn throws. */
  transaction<T>(fn: () => Promise<T>, isolation?: TargetIsolation): Promise<T>;
  /**
   * transaction(), with statements without parameters sent in the round trip
   * of its BEGIN (`first`, before fn) and of its COMMIT (`last()`, asked once
   * fn is done, run before the COMMIT): PostgreSQL's simple query stops at the
   * first error, which then rolls the whole transaction back. Absent: callers
   * run them inside transaction() (withStatements in pipeline/batch.ts).
   */
  transactionWith?<T>(fn: () => Promise<T>, isolation: TargetIsolation | undefined, statements: { first?: string[]; last?: () => string[] }): Promise<T>;

  // -- snapshot --------------------------------------------------------------
  /** Start a consistent read-only snapshot for all later reads on this session. */
  beginSnapshot(): Promise<void>;
  endSnapshot(): Promise<void>;
  /** Share this session's snapshot: an id that joinSnapshot takes (PostgreSQL). */
  exportSnapshot?(): Promise<string>;
  /** Start this session's snapshot at an exported one, so parallel readers see one point in time. */
  joinSnapshot?(id: string): Promise<void>;
  /**
   * Where snapshots cannot be exported (MySQL/MariaDB): hold every commit back,
   * start this session's snapshot, run `others` (other sessions start theirs),
   * then let commits go: all of them read one point in time. Not ok (nothing
   * begun) when the server or the user's privileges do not allow holding writes.
   */
  holdWrites?(others: () => Promise<void>): Promise<{ ok: true } | { ok: false; why: string }>;

  close(): Promise<void>;
}

export interface Dialect {
  readonly engine: Engine;
  readonly capabilities: Capabilities;
  /** Reads and builds indexes, foreign keys, defaults and generated keys (schema/); absent: only tables are carried. */
  readonly schema?: SchemaSupport;
  open(info: ConnectionInfo, options: OpenOptions): Promise<Session>;
}
