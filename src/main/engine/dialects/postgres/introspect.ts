/** Tables, columns, keys and estimates from pg_catalog. Names are case-sensitive as given. */
import type pg from 'pg';
import { FerryError } from '../../errors.js';
import type { Column, ForeignKey, TableInfo, TableName } from '../../types.js';
import { logicalFromNative } from './types.js';

/**
 * The schema's tables, each once: a declarative partition or an inheritance
 * child is not listed, its parent is (a SELECT on the parent reads its rows).
 */
export async function listTables(client: pg.Client, schema: string): Promise<TableName[]> {
  const r = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid)
      ORDER BY c.relname`,
    [schema],
  );
  return r.rows.map((row) => ({ schema, name: row.name }));
}

interface ColumnRow {
  name: string;
  native: string;
  nullable: boolean;
  typtype: string;
  labels: string | null;
  generated: string | null;
}

interface KeyRow {
  kind: 'p' | 'u' | 'f';
  columns: string;
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string | null;
}

/** The relations describeTable describes (tables, partitioned tables, views, materialized views, foreign tables). */
const DESCRIBED = `n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`;

/** Whether describeTable finds the table, in one round trip. */
export async function tableExists(client: pg.Client, name: TableName): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ${DESCRIBED}`, [name.schema, name.name]);
  return r.rows.length > 0;
}

/** Which of the tables exist (as tableExists finds each), in one query. */
export async function tablesExist(client: pg.Client, names: TableName[]): Promise<boolean[]> {
  if (names.length === 0) return [];
  const r = await client.query<{ ord: string; found: string }>(
    `SELECT t.ord::text AS ord, EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = t.schema AND c.relname = t.name AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))::text AS found
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(schema, name, ord)`,
    [names.map((n) => n.schema), names.map((n) => n.name)],
  );
  const found = new Map(r.rows.map((row) => [Number(row.ord), row.found === 'true']));
  return names.map((_, i) => found.get(i + 1) === true);
}

export async function describeTable(client: pg.Client, name: TableName): Promise<TableInfo | undefined> {
  const rel = await client.query<{ oid: string; reltuples: number; bytes: string; kind: string; subclass: boolean; parent: string | null; columns: string | null; keys: string | null }>(
    `SELECT c.oid::text AS oid, c.reltuples, pg_catalog.pg_table_size(c.oid)::text AS bytes, c.relkind::text AS kind, c.relhassubclass AS subclass,
            (SELECT CASE WHEN pn.nspname = n.nspname THEN p.relname ELSE pn.nspname || '.' || p.relname END
               FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
              WHERE i.inhrelid = c.oid ORDER BY i.inhseqno LIMIT 1) AS parent,
            (SELECT json_agg(x ORDER BY x.num) FROM (${columnsSql('c.oid')}) x)::text AS columns,
            (SELECT json_agg(x) FROM (${keysSql('c.oid')}) x)::text AS keys
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE ${DESCRIBED}`,
    [name.schema, name.name],
  );
  if (rel.rows.length === 0) return undefined;
  const { oid, reltuples, kind, subclass, parent } = rel.rows[0];
  // Its columns and keys came with it: one round trip (over a remote link, a network turn) where three were.
  const columns = (JSON.parse(rel.rows[0].columns ?? '[]') as ColumnRow[]).map(toColumn);
  const keys = JSON.parse(rel.rows[0].keys ?? '[]') as KeyRow[];
  // A parent's own figures leave its partitions or children out (a partitioned table has no rows of its own: reltuples -1, size 0).
  const tree = kind === 'p' || subclass ? await readTree(client, oid, name.schema) : undefined;
  const col = (names: string) => JSON.parse(names) as string[];
  const primary = keys.find((k) => k.kind === 'p');
  return {
    name,
    columns,
    primaryKey: primary ? col(primary.columns) : [],
    uniqueKeys: keys.filter((k) => k.kind === 'u').map((k) => col(k.columns)),
    foreignKeys: keys
      .filter((k) => k.kind === 'f')
      .map(
        (k): ForeignKey => ({
          columns: col(k.columns),
          references: { schema: k.ref_schema ?? undefined, name: k.ref_table ?? '' },
          referencedColumns: col(k.ref_columns ?? '[]'),
        }),
      ),
    // -1 (PostgreSQL 14+) means never vacuumed or analyzed: no estimate.
    rowEstimate: tree ? tree.rows : reltuples >= 0 ? Math.round(reltuples) : undefined,
    byteEstimate: (tree ? tree.bytes : Number(rel.rows[0].bytes)) || undefined,
    ...(tree?.tables.length ? { partitions: { kind: kind === 'p' ? ('partitioned' as const) : ('inheritance' as const), tables: tree.tables } } : {}),
    ...(parent ? { partitionOf: parent } : {}),
  };
}

/**
 * A parent's partitions or inheritance children, nested ones too, and the rows
 * and bytes of every table in the tree that holds rows: a SELECT on the parent
 * reads them all. Tables never analyzed (reltuples -1) count for nothing; none
 * analyzed: no estimate.
 */
async function readTree(client: pg.Client, oid: string, schema: string | undefined): Promise<{ tables: string[]; rows?: number; bytes: number }> {
  const r = await client.query<{ name: string; nsp: string; depth: number; kind: string; reltuples: number; bytes: string }>(
    `WITH RECURSIVE tree(oid, depth) AS (
       SELECT $1::oid, 0
       UNION ALL
       SELECT i.inhrelid, t.depth + 1 FROM pg_catalog.pg_inherits i JOIN tree t ON i.inhparent = t.oid WHERE t.depth < 32)
     SELECT c.relname AS name, n.nspname AS nsp, t.depth, c.relkind::text AS kind, c.reltuples, pg_catalog.pg_table_size(c.oid)::text AS bytes
       FROM tree t JOIN pg_catalog.pg_class c ON c.oid = t.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      ORDER BY t.depth, n.nspname, c.relname`,
    [oid],
  );
  const heaps = r.rows.filter((x) => x.kind !== 'p');
  const known = heaps.filter((x) => x.reltuples >= 0);
  return {
    tables: r.rows.filter((x) => x.depth > 0).map((x) => (x.nsp === schema ? x.name : `${x.nsp}.${x.name}`)),
    rows: known.length ? Math.round(known.reduce((a, x) => a + x.reltuples, 0)) : undefined,
    bytes: heaps.reduce((a, x) => a + Number(x.bytes), 0),
  };
}

/** Its columns, in order (domains described by their base type; enums bring their labels in order); `oid` an SQL expression (the outer query's pg_class is `c`: no alias here shadows it). */
const columnsSql = (oid: string) => `SELECT a.attnum AS num, a.attname AS name,
            CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(a.atttypid, a.atttypmod) END AS native,
            NOT a.attnotnull AS nullable,
            CASE WHEN t.typtype = 'd' THEN bt.typtype ELSE t.typtype END AS typtype,
            (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e
              WHERE e.enumtypid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::text AS labels,
            CASE WHEN a.attgenerated <> '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS generated
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
      WHERE a.attrelid = ${oid} AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`;

/** Unique keys come from unique indexes (constraint or not), minus partial and expression ones; and foreign keys. */
const keysSql = (oid: string) => `SELECT CASE WHEN i.indisprimary THEN 'p' ELSE 'u' END AS kind,
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts)::text AS columns,
            NULL AS ref_schema, NULL AS ref_table, NULL AS ref_columns
       FROM pg_catalog.pg_index i
      WHERE i.indrelid = ${oid} AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
     UNION ALL
     SELECT 'f',
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(fk.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.attnum)::text,
            rn.nspname, rc.relname,
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(fk.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = fk.confrelid AND a.attnum = k.attnum)::text
       FROM pg_catalog.pg_constraint fk
       JOIN pg_catalog.pg_class rc ON rc.oid = fk.confrelid
       JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE fk.conrelid = ${oid} AND fk.contype = 'f'`;

function toColumn(c: ColumnRow): Column {
  const enumLabels = c.labels ? (JSON.parse(c.labels) as string[]) : undefined;
  return {
    name: c.name,
    nativeType: c.native,
    type: logicalFromNative(c.native, { typtype: c.typtype, enumLabels }),
    nullable: c.nullable,
    // PostgreSQL before 18 has stored generated columns only.
    ...(c.generated !== null ? { generated: { expression: c.generated, stored: true } } : {}),
  };
}

/**
 * "orders" -> session schema; "sales.orders"; '"Mixed.Case"'; '"My Schema"."T"'.
 * Unquoted parts are taken as written (not lower-cased).
 */
export function parseTableSpec(spec: string, sessionSchema: string): TableName {
  const parts: string[] = [];
  let i = 0;
  while (i <= spec.length) {
    if (spec[i] === '"') {
      let name = '';
      i++;
      for (;;) {
        if (i >= spec.length) throw new FerryError('spec', `unterminated quoted name in table "${spec}"`);
        if (spec[i] === '"' && spec[i + 1] === '"') {
          name += '"';
          i += 2;
        } else if (spec[i] === '"') {
          i++;
          break;
        } else name += spec[i++];
      }
      parts.push(name);
    } else {
      const dot = spec.indexOf('.', i);
      const end = dot < 0 ? spec.length : dot;
      parts.push(spec.slice(i, end).trim());
      i = end;
    }
    if (i >= spec.length) break;
    if (spec[i] !== '.') throw new FerryError('spec', `unexpected "${spec[i]}" in table name "${spec}"`);
    i++;
  }
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new FerryError('spec', `"${spec}" is not a table name: use table, schema.table, or "Quoted"."Names"`);
  }
  return parts.length === 2 ? { schema: parts[0], name: parts[1] } : { schema: sessionSchema, name: parts[0] };
}
