import type Database from 'better-sqlite3';
import { FerryError } from '../../errors.js';
import type { Column, Row, TableName } from '../../types.js';
import type { TableDef } from '../dialect.js';
import { toSqlite, type SqliteValue } from './values.js';

export function createTableSql(def: TableDef, quote: (n: string) => string, quoteTable: (t: TableName) => string): string {
  const cols = def.columns.map((c) => `${quote(c.name)}${c.nativeType ? ` ${c.nativeType}` : ''}${c.nullable ? '' : ' NOT NULL'}`);
  if (def.primaryKey.length) cols.push(`PRIMARY KEY (${def.primaryKey.map(quote).join(', ')})`);
  return `CREATE TABLE ${quoteTable(def.name)} (\n  ${cols.join(',\n  ')}\n)`;
}

/**
 * Kinds SQLite holds as text. A number bound to them is spelled by JavaScript
 * (shortest exact form, any size) rather than by SQLite, which would round a
 * REAL to 15 digits and refuse an integer beyond 64 bits.
 */
const TEXT_KINDS = new Set(['text', 'enum', 'uuid', 'json', 'decimal', 'date', 'time', 'timestamp']);

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

  insert(table: TableName, columns: Column[], rows: Row[]): void {
    const sqlKey = `${this.quoteTable(table)}|${columns.map((c) => c.name).join('\u0000')}`;
    let statement = this.statements.get(sqlKey);
    if (!statement) {
      statement = this.db.prepare(
        `INSERT INTO ${this.quoteTable(table)} (${columns.map((c) => this.quote(c.name)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      this.statements.set(sqlKey, statement);
    }
    const stmt = statement;
    const width = columns.length;
    const args: SqliteValue[] = new Array(width);
    const asText = columns.map((c) => TEXT_KINDS.has(c.type.kind));
    const insertAll = () => {
      for (const row of rows) {
        for (let i = 0; i < width; i++) {
          const v = row[i];
          args[i] = asText[i] && (typeof v === 'number' || typeof v === 'bigint') ? String(v) : toSqlite(v);
        }
        try {
          stmt.run(args);
        } catch (err) {
          throw explainBindError(err, columns, row);
        }
      }
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
