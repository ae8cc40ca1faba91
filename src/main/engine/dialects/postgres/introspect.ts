/** Tables, columns, keys and estimates from pg_catalog. Names are case-sensitive as given. */
import type pg from 'pg';
import { FerryError } from '../../errors.js';
import type { Column, ForeignKey, TableInfo, TableName } from '../../types.js';
import { logicalFromNative } from './types.js';

export async function listTables(client: pg.Client, schema: string): Promise<TableName[]> {
  const r = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
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
}

interface KeyRow {
  kind: 'p' | 'u' | 'f';
  columns: string;
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string | null;
}

export async function describeTable(client: pg.Client, name: TableName): Promise<TableInfo | undefined> {
  const rel = await client.query<{ oid: string; reltuples: number; bytes: string }>(
    `SELECT c.oid::text AS oid, c.reltuples, pg_catalog.pg_table_size(c.oid)::text AS bytes FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [name.schema, name.name],
  );
  if (rel.rows.length === 0) return undefined;
  const oid = rel.rows[0].oid;
  const reltuples = rel.rows[0].reltuples;
  // One after another: a pg client runs one query at a time, and queuing them at once is deprecated.
  const columns = await readColumns(client, oid);
  const keys = await readKeys(client, oid);
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
    rowEstimate: reltuples >= 0 ? Math.round(reltuples) : undefined,
    byteEstimate: Number(rel.rows[0].bytes) || undefined,
  };
}

async function readColumns(client: pg.Client, oid: string): Promise<Column[]> {
  // Domains are described by their base type; enums bring their labels in order.
  const r = await client.query<ColumnRow>(
    `SELECT a.attname AS name,
            CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE format_type(a.atttypid, a.atttypmod) END AS native,
            NOT a.attnotnull AS nullable,
            CASE WHEN t.typtype = 'd' THEN bt.typtype ELSE t.typtype END AS typtype,
            (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e
              WHERE e.enumtypid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END)::text AS labels
       FROM pg_catalog.pg_attribute a
       JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  return r.rows.map((c) => {
    const enumLabels = c.labels ? (JSON.parse(c.labels) as string[]) : undefined;
    return {
      name: c.name,
      nativeType: c.native,
      type: logicalFromNative(c.native, { typtype: c.typtype, enumLabels }),
      nullable: c.nullable,
    };
  });
}

async function readKeys(client: pg.Client, oid: string): Promise<KeyRow[]> {
  // Unique keys come from unique indexes (constraint or not), minus partial and expression ones.
  const r = await client.query<KeyRow>(
    `SELECT CASE WHEN i.indisprimary THEN 'p' ELSE 'u' END AS kind,
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts)::text AS columns,
            NULL AS ref_schema, NULL AS ref_table, NULL AS ref_columns
       FROM pg_catalog.pg_index i
      WHERE i.indrelid = $1::oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
     UNION ALL
     SELECT 'f',
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)::text,
            rn.nspname, rc.relname,
            (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)::text
       FROM pg_catalog.pg_constraint c
       JOIN pg_catalog.pg_class rc ON rc.oid = c.confrelid
       JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE c.conrelid = $1::oid AND c.contype = 'f'`,
    [oid],
  );
  return r.rows;
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
