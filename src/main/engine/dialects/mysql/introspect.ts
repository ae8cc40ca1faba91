/**
 * Tables and their shape from information_schema. A TableName's `schema`, when
 * set, is another database on the same server ("db.orders"); otherwise the
 * connection's database.
 */
import type { Connection } from 'mysql2/promise';
import { FerryError } from '../../errors.js';
import type { Column, ForeignKey, TableInfo, TableName } from '../../types.js';
import { parseMysqlType } from './types.js';

type Rows = unknown[][];

async function rows(conn: Connection, sql: string, params: unknown[]): Promise<Rows> {
  const [result] = await conn.query({ sql, values: params, rowsAsArray: true });
  return result as Rows;
}

/** "orders" -> {name}; "shop.orders" -> {schema: "shop", name}; backticks quote a part. */
export function parseTableSpec(spec: string): TableName {
  const parts: string[] = [];
  const re = /\s*(?:`((?:[^`]|``)*)`|([^.`]+))\s*(\.|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < spec.length && (m = re.exec(spec))) {
    parts.push(m[1] !== undefined ? m[1].replace(/``/g, '`') : m[2].trim());
    if (m[3] === '') break;
  }
  if (parts.length === 1 && parts[0]) return { name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { schema: parts[0], name: parts[1] };
  throw new FerryError('spec', `"${spec}" is not a MySQL table name (expected "table" or "database.table")`);
}

/** Each connection's database, asked once: dbferry never runs USE, and a new connection is a new key. */
const databases = new WeakMap<Connection, string>();

export async function currentDatabase(conn: Connection): Promise<string> {
  const known = databases.get(conn);
  if (known !== undefined) return known;
  const [[db]] = await rows(conn, 'SELECT DATABASE()', []);
  if (typeof db !== 'string') {
    throw new FerryError('spec', 'the MySQL/MariaDB connection URL names no database', {
      hint: 'Add the database to the URL: mysql://user@host:3306/DATABASE',
    });
  }
  databases.set(conn, db);
  return db;
}

export async function listTables(conn: Connection): Promise<TableName[]> {
  const db = await currentDatabase(conn);
  const result = await rows(
    conn,
    `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
    [db],
  );
  return result.map(([name]) => ({ name: String(name) }));
}

export async function describeTable(conn: Connection, table: TableName): Promise<TableInfo | undefined> {
  const db = table.schema ?? (await currentDatabase(conn));
  const found = await rows(conn, `SELECT TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, [db, table.name]);
  if (found.length === 0) return undefined;
  const [columns, jsonColumns, keys, foreignKeys] = await Promise.all([
    rows(
      conn,
      `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLLATION_NAME, EXTRA, GENERATION_EXPRESSION FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [db, table.name],
    ),
    jsonCheckedColumns(conn, db, table.name),
    rows(
      conn,
      `SELECT c.CONSTRAINT_NAME, c.CONSTRAINT_TYPE, k.COLUMN_NAME
       FROM information_schema.TABLE_CONSTRAINTS c
       JOIN information_schema.KEY_COLUMN_USAGE k
         ON k.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME AND k.CONSTRAINT_NAME = c.CONSTRAINT_NAME
       WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ? AND c.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE')
       ORDER BY c.CONSTRAINT_TYPE, c.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
      [db, table.name],
    ),
    rows(
      conn,
      `SELECT CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
       FROM information_schema.KEY_COLUMN_USAGE
       WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL
       ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION`,
      [db, table.name],
    ),
  ]);
  const primaryKey: string[] = [];
  const uniques = new Map<string, string[]>();
  for (const [name, type, column] of keys) {
    if (type === 'PRIMARY KEY') primaryKey.push(String(column));
    else uniques.set(String(name), [...(uniques.get(String(name)) ?? []), String(column)]);
  }
  const estimate = found[0][0];
  return {
    name: table,
    columns: columns.map(([name, nativeType, nullable, collation, extra, expression]) => ({
      ...toColumn(String(name), String(nativeType), nullable === 'YES', jsonColumns),
      ...(collation ? { collation: String(collation) } : {}),
      ...generatedOf(extra, expression),
    })),
    primaryKey,
    uniqueKeys: [...uniques.values()],
    foreignKeys: groupForeignKeys(foreignKeys, db),
    rowEstimate: estimate === null || estimate === undefined ? undefined : Number(estimate),
    byteEstimate: Number(found[0][1]) || undefined,
  };
}

/** MySQL's VIRTUAL/STORED GENERATED, MariaDB's VIRTUAL/PERSISTENT/STORED GENERATED in EXTRA; the expression as the server prints it. */
function generatedOf(extra: unknown, expression: unknown): Pick<Column, 'generated'> {
  const kind = /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.exec(String(extra ?? ''));
  if (!kind || expression === null || expression === undefined || String(expression) === '') return {};
  return { generated: { expression: String(expression), stored: kind[1].toUpperCase() !== 'VIRTUAL' } };
}

function toColumn(name: string, nativeType: string, nullable: boolean, jsonColumns: Set<string>): Column {
  const type = jsonColumns.has(name) && /^longtext$/i.test(nativeType) ? { kind: 'json' as const } : (parseMysqlType(nativeType) ?? { kind: 'any' as const });
  // An enum whose labels information_schema garbled (see types.ts) cannot be recreated
  // from this spelling (staging tables are): hold its values as text instead.
  if (/^enum\(/i.test(nativeType) && type.kind === 'text') return { name, nativeType: 'longtext', type, nullable };
  return { name, nativeType, type, nullable };
}

/** MariaDB's JSON is LONGTEXT plus a column CHECK (json_valid(`col`)). */
async function jsonCheckedColumns(conn: Connection, db: string, table: string): Promise<Set<string>> {
  try {
    const checks = await rows(
      conn,
      `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
      [db, table],
    );
    const names = new Set<string>();
    for (const [clause] of checks) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(clause).trim());
      if (m) names.add(m[1].replace(/``/g, '`'));
    }
    return names;
  } catch {
    // MySQL before 8.0.16 has no CHECK_CONSTRAINTS; its JSON columns are typed JSON anyway.
    return new Set();
  }
}

function groupForeignKeys(result: Rows, db: string): ForeignKey[] {
  const byName = new Map<string, ForeignKey>();
  for (const [name, column, refSchema, refTable, refColumn] of result) {
    let fk = byName.get(String(name));
    if (!fk) {
      const references: TableName = refSchema === db ? { name: String(refTable) } : { schema: String(refSchema), name: String(refTable) };
      fk = { columns: [], references, referencedColumns: [] };
      byName.set(String(name), fk);
    }
    fk.columns.push(String(column));
    fk.referencedColumns.push(String(refColumn));
  }
  return [...byName.values()];
}
