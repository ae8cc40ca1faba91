/**
 * Replace by swap, SQLite. Renaming a table rewrites what names it in other
 * tables, views and triggers to the new name, so those would follow the old
 * table; and a table created from dbferry's column list has none of the
 * CREATE TABLE's extras. Anything of the kind keeps replace in place.
 */
import type { SwapCheck } from '../dialect.js';
import type { Value } from '../../types.js';

type Query = (sql: string, params?: Value[]) => Promise<{ rows: Value[][] }>;

/** Words of a CREATE TABLE that carry more than columns, types, NOT NULL and the key. */
const EXTRAS = /\b(CHECK|DEFAULT|COLLATE|GENERATED|REFERENCES|AUTOINCREMENT|UNIQUE|WITHOUT\s+ROWID|STRICT|AS\s*\()/i;

export async function swapCheck(query: Query, table: string): Promise<SwapCheck> {
  const blockers: string[] = [];
  const found = async (what: string, sql: string, params: Value[]) => {
    const names = (await query(sql, params)).rows.map((r) => String(r[0]));
    if (names.length) blockers.push(`${what} (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`);
  };
  await found('it has indexes or triggers', "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? COLLATE NOCASE AND sql IS NOT NULL", [table]);
  await found('views may depend on it', "SELECT name FROM sqlite_master WHERE type = 'view' AND instr(lower(sql), lower(?)) > 0", [table]);
  await found(
    'foreign keys reference it, or it has some',
    `SELECT m.name FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' AND (f."table" = ? COLLATE NOCASE OR m.name = ? COLLATE NOCASE)`,
    [table, table],
  );
  const sql = (await query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", [table])).rows[0]?.[0];
  const extra = typeof sql === 'string' ? EXTRAS.exec(sql) : null;
  if (extra) blockers.push(`its CREATE TABLE has more than columns and a key (${extra[1].toUpperCase()})`);
  return { blockers };
}
