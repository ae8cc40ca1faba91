/**
 * Replace by swap, MySQL/MariaDB. Views and grants name tables, so they
 * follow the name to the new table; what follows the renamed old table
 * instead (foreign keys, triggers), or lives on it and would not come with a
 * table created from dbferry's column list (indexes, checks, defaults,
 * auto-increment, collations, partitions), keeps replace in place.
 */
import type { SwapCheck } from '../dialect.js';
import type { Value } from '../../types.js';

type Query = (sql: string, params?: Value[]) => Promise<{ rows: Value[][] }>;

/** Each query lists what it finds as text; the parameters are the database (null: the connection's) and the table name. */
const CHECKS: Array<[string, string]> = [
  ['foreign keys reference it', 'SELECT CONCAT(constraint_name, \' on \', table_name) FROM information_schema.referential_constraints WHERE unique_constraint_schema = COALESCE(?, DATABASE()) AND referenced_table_name = ?'],
  ['it has foreign keys', 'SELECT constraint_name FROM information_schema.referential_constraints WHERE constraint_schema = COALESCE(?, DATABASE()) AND table_name = ?'],
  ['it has triggers', 'SELECT trigger_name FROM information_schema.triggers WHERE event_object_schema = COALESCE(?, DATABASE()) AND event_object_table = ?'],
  ['it has indexes besides its primary key', "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND index_name <> 'PRIMARY'"],
  ['it has check constraints', 'SELECT constraint_name FROM information_schema.table_constraints WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND constraint_type = \'CHECK\''],
  [
    'columns have defaults, auto-increment or generation',
    "SELECT column_name FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND ((column_default IS NOT NULL AND column_default <> 'NULL') OR extra <> '')",
  ],
  // dbferry creates tables in utf8mb4_bin.
  ['columns have another collation than utf8mb4_bin', "SELECT column_name FROM information_schema.columns WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND collation_name IS NOT NULL AND collation_name <> 'utf8mb4_bin'"],
  ['it is partitioned or not InnoDB', "SELECT table_name FROM information_schema.tables WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? AND (create_options LIKE '%partitioned%' OR engine <> 'InnoDB')"],
];

export async function swapCheck(query: Query, schema: string | undefined, table: string): Promise<SwapCheck> {
  const blockers: string[] = [];
  for (const [what, sql] of CHECKS) {
    const found = (await query(sql, [schema ?? null, table])).rows.map((r) => String(r[0]));
    if (found.length) blockers.push(`${what} (${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''})`);
  }
  return { blockers };
}
