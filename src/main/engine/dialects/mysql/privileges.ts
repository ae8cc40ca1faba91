/**
 * Preflight privilege check for MySQL/MariaDB: what CURRENT_USER() may not do
 * that a run needs.
 *
 * Grants are read from information_schema (USER_PRIVILEGES: global,
 * SCHEMA_PRIVILEGES: per database, wildcard patterns included,
 * TABLE_PRIVILEGES: per table) for the account itself, and from SHOW GRANTS
 * for what those views leave out: the privileges of the active role (MariaDB
 * shows them in SHOW GRANTS; MySQL 8 with SHOW GRANTS ... USING the enabled
 * roles) and MariaDB's grants TO PUBLIC. A privilege counts when any level
 * grants it.
 *
 * Source: SELECT on each table.
 * Target: SELECT, INSERT, UPDATE, DELETE on each existing table, and on each
 * database written to CREATE, DROP, INDEX, INSERT, SELECT, DELETE at database
 * (or global) level: dbferry creates, indexes, fills and drops a staging table
 * there for every table on every run, and creates the new tables there.
 *
 * Not checked (a grant of these kinds is reported as missing, or a refusal
 * not foreseen): column-level grants; roles granted to roles (MariaDB) and
 * roles that are granted but not enabled; MySQL 8 partial revokes; the
 * first-match rule between several wildcard database grants (any match
 * counts here); proxy users; SHOW GRANTS lines in forms other than
 * `GRANT ... ON *.* | db.* | db.table TO ...`.
 */
import type { Connection } from 'mysql2/promise';
import type { TableName } from '../../types.js';
import { quoteBacktick } from '../base.js';
import type { PrivilegeRequest } from '../dialect.js';
import type { Flavor } from './connect.js';
import { currentDatabase } from './introspect.js';

export interface PrivilegeContext {
  conn: Connection;
  facts: { flavor: Flavor };
  fail(err: unknown): Error;
}

/** Privileges the staging tables need in every database the target writes. */
const STAGING = ['CREATE', 'DROP', 'INDEX', 'INSERT', 'SELECT', 'DELETE'];
const SOURCE_TABLE = ['SELECT'];
const TARGET_TABLE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
const PHRASE: Record<string, string> = { SELECT: 'SELECT from', INSERT: 'INSERT into', UPDATE: 'UPDATE', DELETE: 'DELETE from' };

type Rows = unknown[][];

export interface Grants {
  global: Set<string>;
  databases: { pattern: string; privileges: Set<string> }[];
  tables: { database: string; table: string; privileges: Set<string> }[];
}

async function rows(conn: Connection, sql: string, params: unknown[] = []): Promise<Rows> {
  const [result] = await conn.query({ sql, values: params, rowsAsArray: true });
  return result as Rows;
}

export async function privilegeProblems(ctx: PrivilegeContext, request: PrivilegeRequest): Promise<string[]> {
  const target = request.role === 'target';
  if (request.tables.length === 0 && !(target && request.createIn)) return [];
  try {
    const [[currentUser, lowerCaseNames]] = await rows(ctx.conn, 'SELECT CURRENT_USER(), @@lower_case_table_names');
    const account = splitAccount(String(currentUser));
    const fold = Number(lowerCaseNames) !== 0;
    const needsDefault = request.tables.some((t) => !t.schema) || (target && request.createIn && !request.createIn.schema);
    const defaultDb = needsDefault ? await currentDatabase(ctx.conn) : '';
    const grants = await readGrants(ctx, account);
    const can = (privilege: string, database: string, table?: string) => holds(grants, privilege, database, table, fold);

    const who = `user ${accountLiteral(account)}`;
    const problems: string[] = [];
    const tables = request.tables.map((t): Required<TableName> => ({ schema: t.schema ?? defaultDb, name: t.name }));

    if (target) {
      const createDb = request.createIn ? (request.createIn.schema ?? defaultDb) : undefined;
      const databases: string[] = [];
      for (const db of [...tables.map((t) => t.schema), ...(createDb === undefined ? [] : [createDb])]) {
        if (!databases.includes(db)) databases.push(db);
      }
      for (const db of databases) {
        const missing = STAGING.filter((p) => !can(p, db));
        if (missing.length === 0) continue;
        const list = missing.join(', ');
        const also = db === createDb ? ', and creates the new tables there' : '';
        problems.push(
          `${who} lacks ${list} on database ${db}: dbferry creates, fills and drops a staging table there for every table on every run${also} ` +
            `(GRANT ${list} ON ${quoteBacktick(db)}.* TO ${accountLiteral(account)})`,
        );
      }
    }

    for (const t of tables) {
      for (const privilege of target ? TARGET_TABLE : SOURCE_TABLE) {
        if (can(privilege, t.schema, t.name)) continue;
        problems.push(
          `${who} may not ${PHRASE[privilege]} ${t.schema}.${t.name} ` +
            `(GRANT ${privilege} ON ${quoteBacktick(t.schema)}.${quoteBacktick(t.name)} TO ${accountLiteral(account)})`,
        );
      }
    }
    return problems;
  } catch (err) {
    throw ctx.fail(err);
  }
}

/** The privileges among `wanted` that the account lacks on one table (a grant at any level counts). */
export async function missingOnTable(ctx: PrivilegeContext, table: TableName, wanted: string[]): Promise<string[]> {
  try {
    const [[currentUser, lowerCaseNames]] = await rows(ctx.conn, 'SELECT CURRENT_USER(), @@lower_case_table_names');
    const grants = await readGrants(ctx, splitAccount(String(currentUser)));
    const database = table.schema ?? (await currentDatabase(ctx.conn));
    return wanted.filter((p) => !holds(grants, p, database, table.name, Number(lowerCaseNames) !== 0));
  } catch (err) {
    throw ctx.fail(err);
  }
}

interface Account {
  user: string;
  host: string;
}

/** CURRENT_USER() is "user@host"; the host is after the last "@". */
function splitAccount(current: string): Account {
  const at = current.lastIndexOf('@');
  return at < 0 ? { user: current, host: '%' } : { user: current.slice(0, at), host: current.slice(at + 1) };
}

function accountLiteral(a: Account): string {
  const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
  return `${lit(a.user)}@${lit(a.host)}`;
}

async function readGrants(ctx: PrivilegeContext, account: Account): Promise<Grants> {
  const grantee = accountLiteral(account);
  const grants: Grants = { global: new Set(), databases: [], tables: [] };
  for (const [privilege] of await rows(ctx.conn, 'SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?', [grantee])) {
    grants.global.add(String(privilege).toUpperCase());
  }
  for (const [pattern, privilege] of await rows(
    ctx.conn,
    'SELECT TABLE_SCHEMA, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?',
    [grantee],
  )) {
    grants.databases.push({ pattern: String(pattern), privileges: new Set([String(privilege).toUpperCase()]) });
  }
  for (const [database, table, privilege] of await rows(
    ctx.conn,
    'SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?',
    [grantee],
  )) {
    grants.tables.push({ database: String(database), table: String(table), privileges: new Set([String(privilege).toUpperCase()]) });
  }
  for (const line of await showGrants(ctx)) addShowGrantsLine(grants, line);
  return grants;
}

/**
 * SHOW GRANTS for the current user. MariaDB includes the active role's grants
 * and grants TO PUBLIC; MySQL 8 needs the enabled roles named in USING.
 */
async function showGrants(ctx: PrivilegeContext): Promise<string[]> {
  let result: Rows;
  try {
    const roles = ctx.facts.flavor === 'mysql' ? await enabledMysqlRoles(ctx.conn) : [];
    if (roles.length === 0) {
      result = await rows(ctx.conn, 'SHOW GRANTS');
    } else {
      const using = roles.map(() => '?@?').join(', ');
      result = await rows(ctx.conn, `SHOW GRANTS FOR CURRENT_USER() USING ${using}`, roles.flatMap((r) => [r.user, r.host]));
    }
  } catch {
    return []; // the information_schema grants stand alone
  }
  return result.map(([line]) => String(line));
}

async function enabledMysqlRoles(conn: Connection): Promise<Account[]> {
  try {
    return (await rows(conn, 'SELECT ROLE_NAME, ROLE_HOST FROM information_schema.ENABLED_ROLES')).map(([user, host]) => ({
      user: String(user),
      host: String(host),
    }));
  } catch {
    return []; // before MySQL 8.0.19: no roles view
  }
}

const IDENT = '(\\*|`(?:[^`]|``)*`)';
const GRANT_LINE = new RegExp(`^GRANT (.+?) ON (?:TABLE )?${IDENT}\\.${IDENT} TO `, 'i');

/** Adds one `GRANT privileges ON target TO grantee` line; other forms are ignored. */
export function addShowGrantsLine(grants: Grants, line: string): void {
  const m = GRANT_LINE.exec(line);
  if (!m) return;
  const privileges = new Set(splitPrivileges(m[1]));
  if (privileges.size === 0) return;
  const unquote = (s: string) => s.slice(1, -1).replaceAll('``', '`');
  const [, , db, table] = m;
  if (db === '*' && table === '*') {
    for (const p of privileges) grants.global.add(p);
  } else if (db === '*') {
    return; // "ON *.table" is not valid; "ON *" (current database) never shows in SHOW GRANTS
  } else if (table === '*') {
    grants.databases.push({ pattern: unquote(db), privileges });
  } else {
    grants.tables.push({ database: unquote(db), table: unquote(table), privileges });
  }
}

/** "SELECT, INSERT, UPDATE (`a`, `b`)" -> SELECT, INSERT (column grants left out); ALL PRIVILEGES -> ALL. */
function splitPrivileges(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      items.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  items.push(current);
  return items
    .map((s) => s.trim())
    .filter((s) => s && !s.includes('('))
    .map((s) => (/^ALL( PRIVILEGES)?$/i.test(s) ? 'ALL' : s.toUpperCase()));
}

function holds(grants: Grants, privilege: string, database: string, table: string | undefined, fold: boolean): boolean {
  const has = (set: Set<string>) => set.has(privilege) || set.has('ALL');
  const same = (a: string, b: string) => (fold ? a.toLowerCase() === b.toLowerCase() : a === b);
  if (has(grants.global)) return true;
  if (grants.databases.some((g) => has(g.privileges) && databaseMatches(g.pattern, database, fold))) return true;
  if (table === undefined) return false;
  return grants.tables.some((g) => has(g.privileges) && same(g.database, database) && same(g.table, table));
}

/** A database grant's name is a LIKE pattern: % and _ are wildcards, \ escapes them. */
export function databaseMatches(pattern: string, database: string, fold = false): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]);
    else if (ch === '%') source += '.*';
    else if (ch === '_') source += '.';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, fold ? 'is' : 's').test(database);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
