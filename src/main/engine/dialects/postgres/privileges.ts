/**
 * Preflight privilege check: what the connected role may not do that a run
 * needs, from has_schema_privilege / has_table_privilege (which count role
 * membership, PUBLIC grants, ownership and superuser).
 *
 * Source: USAGE on each table's schema and SELECT on each table.
 * Target: USAGE and CREATE on each table's schema (dbferry creates and drops a
 * staging table next to every table it writes, on every run, and any new
 * tables), and SELECT, INSERT, UPDATE, DELETE on each existing table (SELECT:
 * the apply step matches keys against the target and verification reads it).
 *
 * Not checked: column-level grants (a table reachable only through grants on
 * every column is reported), row-level security policies (they filter rows,
 * they do not refuse the statement), and triggers or rules on the target that
 * touch other tables.
 */
import type pg from 'pg';
import type { TableName } from '../../types.js';
import type { PrivilegeRequest } from '../dialect.js';

export interface PrivilegeContext {
  client: pg.Client;
  fail(err: unknown, what: string): Error;
}

interface SchemaRow {
  ord: string;
  schema_q: string;
  found: boolean;
  usage: boolean | null;
  can_create: boolean | null;
}

interface TableRow {
  ord: string;
  display: string;
  found: boolean;
  sel: boolean | null;
  ins: boolean | null;
  upd: boolean | null;
  del: boolean | null;
}

const TABLE_VERBS = [
  { key: 'sel', privilege: 'SELECT', phrase: 'SELECT from' },
  { key: 'ins', privilege: 'INSERT', phrase: 'INSERT into' },
  { key: 'upd', privilege: 'UPDATE', phrase: 'UPDATE' },
  { key: 'del', privilege: 'DELETE', phrase: 'DELETE from' },
] as const;

export async function privilegeProblems(ctx: PrivilegeContext, defaultSchema: string, request: PrivilegeRequest): Promise<string[]> {
  const tables: Required<TableName>[] = request.tables.map((t) => ({ schema: t.schema ?? defaultSchema, name: t.name }));
  const target = request.role === 'target';
  const createSchema = target && request.createIn ? (request.createIn.schema ?? defaultSchema) : undefined;

  // Schemas in first-seen order: those of the tables, then the one new tables go to.
  const schemas: string[] = [];
  for (const s of [...tables.map((t) => t.schema), ...(createSchema === undefined ? [] : [createSchema])]) {
    if (!schemas.includes(s)) schemas.push(s);
  }
  if (schemas.length === 0) return [];

  let user: { name: string; quoted: string };
  let schemaRows: SchemaRow[];
  let tableRows: TableRow[];
  try {
    // The schemas' rows and the tables' in one round trip, each as JSON (the user comes with them).
    const r = await ctx.client.query<{ user_name: string; user_quoted: string; schemas: string | null; tables: string | null }>(
      `SELECT current_user AS user_name, quote_ident(current_user) AS user_quoted,
              (SELECT json_agg(json_build_object('ord', s.ord::text, 'schema_q', quote_ident(s.name), 'found', n.oid IS NOT NULL,
                                                 'usage', has_schema_privilege(current_user, n.oid, 'USAGE'),
                                                 'can_create', has_schema_privilege(current_user, n.oid, 'CREATE')) ORDER BY s.ord)
                 FROM unnest($1::text[]) WITH ORDINALITY AS s(name, ord)
                 LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.name)::text AS schemas,
              (SELECT json_agg(json_build_object('ord', t.ord::text, 'display', quote_ident(t.schema) || '.' || quote_ident(t.name), 'found', c.oid IS NOT NULL,
                                                 'sel', has_table_privilege(current_user, c.oid, 'SELECT'),
                                                 'ins', has_table_privilege(current_user, c.oid, 'INSERT'),
                                                 'upd', has_table_privilege(current_user, c.oid, 'UPDATE'),
                                                 'del', has_table_privilege(current_user, c.oid, 'DELETE')) ORDER BY t.ord)
                 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(schema, name, ord)
                 LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema
                 LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.name AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))::text AS tables`,
      [schemas, tables.map((t) => t.schema), tables.map((t) => t.name)],
    );
    const row = r.rows[0];
    user = { name: row.user_name, quoted: row.user_quoted };
    schemaRows = row.schemas ? (JSON.parse(row.schemas) as SchemaRow[]) : [];
    tableRows = row.tables ? (JSON.parse(row.tables) as TableRow[]) : [];
  } catch (err) {
    throw ctx.fail(err, `checking the privileges of the ${request.role} user`);
  }

  const problems: string[] = [];
  const who = `user "${user.name}"`;
  const grantee = user.quoted;

  schemaRows.forEach((row, i) => {
    const schema = schemas[i];
    if (!row.found) return; // a missing schema is the plan's business, not a privilege
    const inSchema = tables.filter((t) => t.schema === schema);
    const held = tableRows.filter((r, j) => r.found && tables[j].schema === schema).map((r) => r.display);
    if (!row.usage) {
      const needed = held.length ? `, which holds ${held.join(', ')}` : '';
      problems.push(`${who} may not use schema ${row.schema_q} (USAGE)${needed} (GRANT USAGE ON SCHEMA ${row.schema_q} TO ${grantee})`);
    }
    if (target && !row.can_create && (inSchema.length > 0 || schema === createSchema)) {
      const why =
        schema === createSchema
          ? 'where dbferry creates the new tables and a staging table for every table on every run'
          : 'where dbferry creates and drops a staging table for every table it writes, on every run';
      problems.push(`${who} may not CREATE tables in schema ${row.schema_q}, ${why} (GRANT CREATE ON SCHEMA ${row.schema_q} TO ${grantee})`);
    }
  });

  for (const row of tableRows) {
    if (!row.found) continue; // tables that do not exist (yet) are created, not written
    for (const verb of target ? TABLE_VERBS : TABLE_VERBS.slice(0, 1)) {
      if (row[verb.key]) continue;
      problems.push(`${who} may not ${verb.phrase} ${row.display} (GRANT ${verb.privilege} ON ${row.display} TO ${grantee})`);
    }
  }
  return problems;
}
