import type Database from 'better-sqlite3';
import { FerryError } from '../../errors.js';
import type { Column, Row, TableName } from '../../types.js';
import type { TableDef } from '../dialect.js';
import { toSqlite, type SqliteValue } from './values.js';
import { JsonRowsBatcher } from '../jsonRows.js';

export function createTableSql(def: TableDef, quote: (n: string) => string, quoteTable: (t: TableName) => string): string {
  // A generated key is the rowid from the start (INTEGER PRIMARY KEY), so the schema step need not copy the table to make it one.
  const rowidKey = def.generatedKey !== undefined && def.primaryKey.length === 1 && def.primaryKey[0] === def.generatedKey ? def.generatedKey : undefined;
  const cols = def.columns.map((c) =>
    c.name === rowidKey
      ? `${quote(c.name)} INTEGER PRIMARY KEY${def.generatedKeyIsRowid ? '' : ' AUTOINCREMENT'}`
      : `${quote(c.name)}${c.nativeType ? ` ${c.nativeType}` : ''}${c.generated ? ` GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.stored ? 'STORED' : 'VIRTUAL'}` : ''}${c.nullable ? '' : ' NOT NULL'}`,
  );
  if (def.primaryKey.length && !rowidKey) cols.push(`PRIMARY KEY (${def.primaryKey.map(quote).join(', ')})`);
  return `CREATE TABLE ${quoteTable(def.name)} (\n  ${cols.join(',\n  ')}\n)`;
}

/**
 * Kinds SQLite holds as text. A number bound to them is spelled by JavaScript
 * (shortest exact form, any size) rather than by SQLite, which would round a
 * REAL to 15 digits and refuse an integer beyond 64 bits.
 */
const TEXT_KINDS = new Set(['text', 'enum', 'uuid', 'json', 'decimal', 'date', 'time', 'timestamp']);

const ROWS_PER_STATEMENT = 100;
/** SQLite's limit on bound variables in one statement (32766 since 3.32; 999 before). */
const MAX_VARIABLES = 32_000;

/**
 * Prepared INSERT per (table, columns), run over a whole batch inside one
 * transaction: SQLite's fast path. Statements are cached per session.
 */
export class SqliteWriter {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly quote: (n: string) => string,
    private readonly quoteTable: (t: TableName) => string,
  ) {}

  /** INSERT of `count` rows of `columns` into `table`, prepared once per session. */
  private statement(table: TableName, columns: Column[], count: number): Database.Statement {
    const sqlKey = `${this.quoteTable(table)}|${count}|${columns.map((c) => c.name).join('\u0000')}`;
    let statement = this.statements.get(sqlKey);
    if (!statement) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      statement = this.db.prepare(`INSERT INTO ${this.quoteTable(table)} (${columns.map((c) => this.quote(c.name)).join(', ')}) VALUES ${Array(count).fill(tuple).join(', ')}`);
      this.statements.set(sqlKey, statement);
    }
    return statement;
  }

  /**
   * Rows go in statements of up to ROWS_PER_STATEMENT rows: each call into
   * SQLite costs more than binding the values (measured 1.6x faster than one
   * row a statement for 1M 10-column rows). A statement that fails inserted
   * nothing: its rows are tried one by one, so the error names the row.
   */
  insert(table: TableName, columns: Column[], rows: Row[]): void {
    const width = columns.length;
    const per = Math.max(1, Math.min(ROWS_PER_STATEMENT, Math.floor(MAX_VARIABLES / Math.max(1, width))));
    const many = per > 1 && rows.length >= per ? this.statement(table, columns, per) : undefined;
    const one = this.statement(table, columns, 1);
    const asText = columns.map((c) => TEXT_KINDS.has(c.type.kind));
    const bind = (row: Row, into: SqliteValue[], at: number) => {
      for (let i = 0; i < width; i++) {
        const v = row[i];
        into[at + i] = asText[i] && (typeof v === 'number' || typeof v === 'bigint') ? String(v) : toSqlite(v);
      }
    };
    const args: SqliteValue[] = new Array(width * per);
    const single: SqliteValue[] = new Array(width);
    const insertOne = (row: Row) => {
      bind(row, single, 0);
      try {
        one.run(single);
      } catch (err) {
        throw explainBindError(err, columns, row);
      }
    };
    const insertAll = () => {
      let r = 0;
      if (many) {
        for (; r + per <= rows.length; r += per) {
          for (let k = 0; k < per; k++) bind(rows[r + k], args, k * width);
          try {
            many.run(args);
          } catch {
            for (let k = 0; k < per; k++) insertOne(rows[r + k]);
          }
        }
      }
      for (; r < rows.length; r++) insertOne(rows[r]);
    };
    if (this.db.inTransaction) insertAll();
    else this.db.transaction(insertAll)();
  }

  forget(table: TableName): void {
    const prefix = `${this.quoteTable(table)}|`;
    for (const key of this.statements.keys()) if (key.startsWith(prefix)) this.statements.delete(key);
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** better-sqlite3 says only "too big" for an integer beyond 64 bits: name the column and the value. */
function explainBindError(err: unknown, columns: Column[], row: Row): unknown {
  if (!(err instanceof RangeError)) return err;
  const i = row.findIndex((v) => typeof v === 'bigint' && (v < INT64_MIN || v > INT64_MAX));
  if (i < 0) return err;
  return new FerryError('data', `column "${columns[i].name}": ${String(row[i])} does not fit SQLite's signed 64-bit INTEGER`, {
    hint: `keep it exactly as text with "types": {"${columns[i].name}": "text"}`,
    cause: err,
  });
}

/** A statement's share of a 'json-rows' stream: measured as fast as bigger ones, and a few of them fit in any heap. */
const JSON_BATCH_BYTES = 256 * 1024;

/**
 * 'json-rows' (../jsonRows.ts) into `columns` of `table`, in one transaction:
 * SQLite parses each batch of rows and stores their values itself. Returns
 * the rows written. A failure rolls the whole stream back.
 */
export async function writeJsonRows(db: Database.Database, target: string, columns: string[], chunks: AsyncIterable<Uint8Array>, quote: (n: string) => string): Promise<number> {
  const values = columns.map((_, i) => `value->>${i}`).join(', ');
  const insert = db.prepare(`INSERT INTO ${target} (${columns.map(quote).join(', ')}) SELECT ${values} FROM jsonb_each(jsonb(CAST(? AS TEXT)))`);
  const batcher = new JsonRowsBatcher(JSON_BATCH_BYTES);
  return inTransaction(db, async () => {
    let rows = 0;
    for await (const chunk of chunks) for (const array of batcher.push(chunk)) rows += insert.run(array).changes;
    const last = batcher.finish();
    if (last) rows += insert.run(last).changes;
    return rows;
  });
}

/**
 * `fn` in a transaction of its own, committed once it has settled (it may
 * wait for rows, or for a check beside it), rolled back if it throws; inside
 * one already begun, it is part of that one. better-sqlite3's transaction()
 * cannot wait for anything.
 */
export async function inTransaction<T>(db: Database.Database, fn: () => Promise<T>): Promise<T> {
  const own = !db.inTransaction;
  if (own) db.exec('BEGIN');
  try {
    const result = await fn();
    if (own) db.exec('COMMIT');
    return result;
  } catch (err) {
    if (own && db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
