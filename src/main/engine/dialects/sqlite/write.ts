import type Database from 'better-sqlite3';
import type { Column, Row, TableName } from '../../types.js';
import type { TableDef } from '../dialect.js';
import { toSqlite, type SqliteValue } from './values.js';

export function createTableSql(def: TableDef, quote: (n: string) => string, quoteTable: (t: TableName) => string): string {
  const cols = def.columns.map((c) => `${quote(c.name)}${c.nativeType ? ` ${c.nativeType}` : ''}${c.nullable ? '' : ' NOT NULL'}`);
  if (def.primaryKey.length) cols.push(`PRIMARY KEY (${def.primaryKey.map(quote).join(', ')})`);
  return `CREATE TABLE ${quoteTable(def.name)} (\n  ${cols.join(',\n  ')}\n)`;
}

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
    const insertAll = () => {
      for (const row of rows) {
        for (let i = 0; i < width; i++) args[i] = toSqlite(row[i]);
        stmt.run(args);
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
