/**
 * Replace by swap, PostgreSQL: what pins a table by its oid (so a renamed
 * old table would keep it), or lives on the table and would not come with a
 * new one. Anything found keeps replace in place, named in the plan.
 */
import type { SwapCheck } from '../dialect.js';
import type { Value } from '../../types.js';

type Query = (sql: string, params?: Value[]) => Promise<{ rows: Value[][] }>;

/** Each query lists what it finds as text; $1 is the table's oid. */
const CHECKS: Array<[string, string]> = [
  ['not a plain table (partitioned, a partition, inherited or inheriting)', `SELECT c.relname FROM pg_class c WHERE c.oid = $1 AND (c.relkind <> 'r' OR c.relispartition) UNION ALL SELECT 'inherits' FROM pg_inherits WHERE inhrelid = $1 OR inhparent = $1`],
  ['views or rules depend on it', `SELECT DISTINCT v.oid::regclass::text FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = $1 AND v.oid <> $1`],
  ['foreign keys reference it', `SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint WHERE confrelid = $1 AND contype = 'f'`],
  ['it has constraints besides its primary key', `SELECT conname FROM pg_constraint WHERE conrelid = $1 AND contype NOT IN ('p', 'n')`],
  ['it has indexes besides its primary key', `SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = $1 AND NOT indisprimary`],
  ['it has triggers', `SELECT tgname FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal`],
  ['it has grants', `SELECT relname FROM pg_class WHERE oid = $1 AND relacl IS NOT NULL`],
  ['it has row-level security', `SELECT relname FROM pg_class WHERE oid = $1 AND (relrowsecurity OR relforcerowsecurity) UNION ALL SELECT polname FROM pg_policy WHERE polrelid = $1`],
  ['columns have defaults, identity, generation or sequences', `SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND (atthasdef OR attidentity <> '' OR attgenerated <> '') UNION ALL SELECT objid::regclass::text FROM pg_depend WHERE refobjid = $1 AND classid = 'pg_class'::regclass AND deptype IN ('a', 'i') AND objid IN (SELECT oid FROM pg_class WHERE relkind = 'S')`],
  ['columns have their own collation', `SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attcollation <> 0 AND a.attcollation <> t.typcollation`],
  ['publications list it', `SELECT p.pubname FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = $1`],
  ['it has storage options, a replica identity or comments', `SELECT relname FROM pg_class WHERE oid = $1 AND (reloptions IS NOT NULL OR relreplident <> 'd') UNION ALL SELECT 'comment' FROM pg_description WHERE objoid = $1 AND classoid = 'pg_class'::regclass`],
  ['another role owns it', `SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = $1 AND relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)`],
];

export async function swapCheck(query: Query, quotedTable: string): Promise<SwapCheck> {
  const oid = (await query('SELECT to_regclass($1)::oid', [quotedTable])).rows[0]?.[0];
  if (oid === null || oid === undefined) return { blockers: ['the table was not found'] };
  const blockers: string[] = [];
  for (const [what, sql] of CHECKS) {
    const found = (await query(sql, [oid])).rows.map((r) => String(r[0]));
    if (found.length) blockers.push(`${what} (${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''})`);
  }
  const pk = (await query(`SELECT conname FROM pg_constraint WHERE conrelid = $1 AND contype = 'p'`, [oid])).rows[0]?.[0];
  return { blockers, primaryKeyName: pk === undefined || pk === null ? undefined : String(pk) };
}
