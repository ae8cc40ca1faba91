import type Database from 'better-sqlite3';
import type { Column, ForeignKey, TableInfo, TableName } from '../../types.js';
import { quoteAnsi } from '../base.js';
import { parseSqliteType } from './types.js';
import { sqliteGeneratedColumns } from '../../schema/expressions.js';

export function listSqliteTables(db: Database.Database): TableName[] {
  const rows = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
    .all() as { name: string }[];
  return rows.map((r) => ({ name: r.name }));
}

interface PragmaColumn {
  name: string;
  type: string;
  notnull: number;
  pk: number;
  hidden: number;
}

export function describeSqliteTable(db: Database.Database, name: TableName): TableInfo | undefined {
  const exists = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(name.name) as { sql: string | null } | undefined;
  if (!exists) return undefined;
  // table_xinfo lists generated columns too (hidden 2: VIRTUAL, 3: STORED), which table_info leaves out.
  const cols = db.prepare('SELECT name, type, "notnull", pk, hidden FROM pragma_table_xinfo(?) WHERE hidden IN (0, 2, 3)').all(name.name) as PragmaColumn[];
  const generated = cols.some((c) => c.hidden !== 0) ? sqliteGeneratedColumns(exists.sql ?? '') : new Map<string, { expression: string; stored: boolean }>();
  const columns: Column[] = cols.map((c) => {
    const g = c.hidden !== 0 ? (generated.get(c.name) ?? [...generated].find(([n]) => n.toLowerCase() === c.name.toLowerCase())?.[1]) : undefined;
    return {
      name: c.name,
      nativeType: c.type,
      type: parseSqliteType(c.type),
      nullable: c.notnull === 0 && c.pk === 0,
      // An expression the table's text did not yield is left empty: the column is then copied as a plain one.
      ...(c.hidden !== 0 ? { generated: g ?? { expression: '', stored: c.hidden === 3 } } : {}),
    };
  });
  const primaryKey = cols
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  const indexes = db.prepare('SELECT name, "unique" FROM pragma_index_list(?)').all(name.name) as { name: string; unique: number }[];
  const uniqueKeys = indexes
    .filter((i) => i.unique)
    .map((i) => (db.prepare('SELECT name FROM pragma_index_info(?) ORDER BY seqno').all(i.name) as { name: string }[]).map((r) => r.name));
  const fkRows = db.prepare('SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq').all(name.name) as {
    id: number;
    table: string;
    from: string;
    to: string | null;
  }[];
  const byId = new Map<number, ForeignKey>();
  for (const r of fkRows) {
    const fk = byId.get(r.id) ?? { columns: [], references: { name: r.table }, referencedColumns: [] };
    fk.columns.push(r.from);
    if (r.to) fk.referencedColumns.push(r.to);
    byId.set(r.id, fk);
  }
  const stat = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").get()
    ? (db.prepare('SELECT stat FROM sqlite_stat1 WHERE tbl = ? AND idx IS NULL').get(name.name) as { stat: string } | undefined)
    : undefined;
  return {
    name: { name: name.name },
    columns,
    primaryKey,
    uniqueKeys,
    foreignKeys: [...byId.values()],
    rowEstimate: stat ? Number(stat.stat.split(' ')[0]) : rowidSpan(db, name.name),
  };
}

/**
 * Without ANALYZE's statistics, the span of rowids is a good estimate for a
 * progress bar, read from the ends of the B-tree (no scan). WITHOUT ROWID
 * tables have none.
 */
function rowidSpan(db: Database.Database, table: string): number | undefined {
  try {
    const r = db.prepare(`SELECT min(_rowid_) AS lo, max(_rowid_) AS hi FROM ${quoteAnsi(table)}`).get() as { lo: number | null; hi: number | null };
    return r.lo === null || r.hi === null ? 0 : r.hi - r.lo + 1;
  } catch {
    return undefined;
  }
}
