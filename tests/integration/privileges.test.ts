/**
 * Preflight privilege checks (Session.privilegeProblems) against real servers:
 * a limited PostgreSQL role / MariaDB user that may only SELECT gets one exact
 * line per missing privilege; the owner / root gets none. SQLite: read-only
 * mode, and file-system refusals through an injected access check (tests run
 * as root, where file permissions do not bite).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import type { PrivilegeRequest, Session } from '../../src/main/engine/dialects/dialect.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import { mysqlDialect } from '../../src/main/engine/dialects/mysql/index.js';
import { addShowGrantsLine, databaseMatches, type Grants } from '../../src/main/engine/dialects/mysql/privileges.js';
import { sqliteDialect } from '../../src/main/engine/dialects/sqlite/index.js';
import { privilegeProblems as sqliteProblems } from '../../src/main/engine/dialects/sqlite/privileges.js';
import { createPgDatabase, pgExec, PG_ADMIN_URL, type PgTestDatabase } from '../helpers/postgres.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';

async function check(
  dialect: typeof postgresDialect,
  url: string,
  request: PrivilegeRequest,
): Promise<string[]> {
  const session: Session = await dialect.open(parseConnectionUrl(url), { baseDir: '/tmp', role: request.role });
  try {
    expect(session.privilegeProblems).toBeTypeOf('function');
    return await session.privilegeProblems!(request);
  } finally {
    await session.close();
  }
}

function withUser(url: string, user: string, password = ''): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

describe('PostgreSQL privilegeProblems', () => {
  let db: PgTestDatabase;
  const suffix = randomBytes(5).toString('hex');
  const role = `dbf_priv_${suffix}`;
  const group = `dbf_privgrp_${suffix}`;
  let limitedUrl: string;

  beforeAll(async () => {
    db = await createPgDatabase('dbferry_priv');
    await pgExec(
      db.url,
      `CREATE TABLE orders (id integer PRIMARY KEY);
       CREATE SCHEMA sales;
       CREATE TABLE sales."Order Items" (id integer PRIMARY KEY);
       CREATE ROLE ${role} LOGIN;
       CREATE ROLE ${group} NOLOGIN;
       GRANT SELECT ON orders TO ${role};`,
    );
    limitedUrl = withUser(db.url, role);
  });

  afterAll(async () => {
    await db?.drop();
    await pgExec(PG_ADMIN_URL, `DROP ROLE IF EXISTS ${role}; DROP ROLE IF EXISTS ${group};`);
  });

  const orders = { schema: 'public', name: 'orders' };
  const items = { schema: 'sales', name: 'Order Items' };

  it('finds nothing missing for the owner (superuser), as source and as target', async () => {
    expect(await check(postgresDialect, db.url, { role: 'source', tables: [orders, items] })).toEqual([]);
    expect(await check(postgresDialect, db.url, { role: 'target', tables: [orders, items], createIn: { schema: 'sales' } })).toEqual([]);
  });

  it('lets a role that may SELECT read, and names the schema and table it may not read', async () => {
    expect(await check(postgresDialect, limitedUrl, { role: 'source', tables: [{ name: 'orders' }] })).toEqual([]);
    expect(await check(postgresDialect, limitedUrl, { role: 'source', tables: [orders, items] })).toEqual([
      `user "${role}" may not use schema sales (USAGE), which holds sales."Order Items" (GRANT USAGE ON SCHEMA sales TO ${role})`,
      `user "${role}" may not SELECT from sales."Order Items" (GRANT SELECT ON sales."Order Items" TO ${role})`,
    ]);
  });

  it('names every write privilege a SELECT-only role lacks as a target, and CREATE on the schema', async () => {
    expect(await check(postgresDialect, limitedUrl, { role: 'target', tables: [orders], createIn: {} })).toEqual([
      `user "${role}" may not CREATE tables in schema public, where dbferry creates the new tables and a staging table for every table on every run (GRANT CREATE ON SCHEMA public TO ${role})`,
      `user "${role}" may not INSERT into public.orders (GRANT INSERT ON public.orders TO ${role})`,
      `user "${role}" may not UPDATE public.orders (GRANT UPDATE ON public.orders TO ${role})`,
      `user "${role}" may not DELETE from public.orders (GRANT DELETE ON public.orders TO ${role})`,
    ]);
    // Without tables to create, the staging tables still need CREATE in the schema.
    expect(await check(postgresDialect, limitedUrl, { role: 'target', tables: [orders] })).toContain(
      `user "${role}" may not CREATE tables in schema public, where dbferry creates and drops a staging table for every table it writes, on every run (GRANT CREATE ON SCHEMA public TO ${role})`,
    );
  });

  it('counts privileges held through role membership, and skips tables that do not exist', async () => {
    await pgExec(
      db.url,
      `GRANT INSERT, UPDATE, DELETE ON orders TO ${group};
       GRANT ${group} TO ${role};
       GRANT CREATE ON SCHEMA public TO ${group};`,
    );
    expect(
      await check(postgresDialect, limitedUrl, { role: 'target', tables: [orders, { schema: 'public', name: 'not_there' }], createIn: {} }),
    ).toEqual([]);
  });
});

describe('MySQL/MariaDB privilegeProblems', () => {
  let db: MysqlTestDatabase;
  const suffix = randomBytes(5).toString('hex');
  const user = `dbf_priv_${suffix}`;
  const roleName = `dbf_privrole_${suffix}`;
  let limitedUrl: string;
  let mariadb = false;

  beforeAll(async () => {
    db = await createMysqlDatabase('dbferry_priv');
    await db.admin.query('CREATE TABLE orders (id int PRIMARY KEY)');
    await db.admin.query(`CREATE USER ?@'%' IDENTIFIED BY 'pw'`, [user]);
    await db.admin.query(`GRANT SELECT ON \`${db.name}\`.\`orders\` TO ?@'%'`, [user]);
    const [version] = await db.admin.query('SELECT VERSION() AS v');
    mariadb = /mariadb/i.test(String((version as { v: string }[])[0].v));
    limitedUrl = withUser(db.url, user, 'pw');
  });

  afterAll(async () => {
    if (!db) return;
    await db.admin.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    await db.admin.query(`DROP ROLE IF EXISTS ${roleName}`).catch(() => undefined);
    await db.drop();
  });

  it('finds nothing missing for root, as source and as target', async () => {
    expect(await check(mysqlDialect, db.url, { role: 'source', tables: [{ name: 'orders' }] })).toEqual([]);
    expect(await check(mysqlDialect, db.url, { role: 'target', tables: [{ name: 'orders' }], createIn: {} })).toEqual([]);
  });

  it('lets a user that may SELECT read, and names what it may not read', async () => {
    expect(await check(mysqlDialect, limitedUrl, { role: 'source', tables: [{ name: 'orders' }] })).toEqual([]);
    expect(await check(mysqlDialect, limitedUrl, { role: 'source', tables: [{ schema: 'mysql', name: 'user' }] })).toEqual([
      `user '${user}'@'%' may not SELECT from mysql.user (GRANT SELECT ON \`mysql\`.\`user\` TO '${user}'@'%')`,
    ]);
  });

  it('names the staging privileges on the database and each write privilege on the table', async () => {
    expect(await check(mysqlDialect, limitedUrl, { role: 'target', tables: [{ name: 'orders' }], createIn: {} })).toEqual([
      `user '${user}'@'%' lacks CREATE, DROP, INDEX, INSERT, SELECT, DELETE on database ${db.name}: dbferry creates, fills and drops a staging table there for every table on every run, and creates the new tables there (GRANT CREATE, DROP, INDEX, INSERT, SELECT, DELETE ON \`${db.name}\`.* TO '${user}'@'%')`,
      `user '${user}'@'%' may not INSERT into ${db.name}.orders (GRANT INSERT ON \`${db.name}\`.\`orders\` TO '${user}'@'%')`,
      `user '${user}'@'%' may not UPDATE ${db.name}.orders (GRANT UPDATE ON \`${db.name}\`.\`orders\` TO '${user}'@'%')`,
      `user '${user}'@'%' may not DELETE from ${db.name}.orders (GRANT DELETE ON \`${db.name}\`.\`orders\` TO '${user}'@'%')`,
    ]);
  });

  it('counts wildcard database grants and (MariaDB) the default role', async () => {
    // A database-level grant by pattern: the name minus its last two characters, then %.
    const pattern = `${db.name.slice(0, -2).replaceAll('_', '\\_')}%`;
    await db.admin.query(`GRANT CREATE, DROP, INDEX, INSERT, SELECT ON \`${pattern}\`.* TO ?@'%'`, [user]);
    expect(await check(mysqlDialect, limitedUrl, { role: 'target', tables: [{ name: 'orders' }] })).toEqual([
      `user '${user}'@'%' lacks DELETE on database ${db.name}: dbferry creates, fills and drops a staging table there for every table on every run (GRANT DELETE ON \`${db.name}\`.* TO '${user}'@'%')`,
      `user '${user}'@'%' may not UPDATE ${db.name}.orders (GRANT UPDATE ON \`${db.name}\`.\`orders\` TO '${user}'@'%')`,
      `user '${user}'@'%' may not DELETE from ${db.name}.orders (GRANT DELETE ON \`${db.name}\`.\`orders\` TO '${user}'@'%')`,
    ]);
    if (!mariadb) return;
    await db.admin.query(`CREATE ROLE ${roleName}`);
    await db.admin.query(`GRANT UPDATE, DELETE ON \`${db.name}\`.* TO ${roleName}`);
    await db.admin.query(`GRANT ${roleName} TO ?@'%'`, [user]);
    await db.admin.query(`SET DEFAULT ROLE ${roleName} FOR ?@'%'`, [user]);
    expect(await check(mysqlDialect, limitedUrl, { role: 'target', tables: [{ name: 'orders' }], createIn: {} })).toEqual([]);
  });

  it('a replace swaps only where the account may ALTER and DROP the table (RENAME TABLE needs both)', async () => {
    const blockers = async () => {
      const session = await mysqlDialect.open(parseConnectionUrl(limitedUrl), { baseDir: '/tmp', role: 'target' });
      try {
        return (await session.swapCheck!({ name: 'orders' })).blockers;
      } finally {
        await session.close();
      }
    };
    expect((await blockers()).join('; ')).toMatch(/the account lacks ALTER( and DROP)? on it, which RENAME TABLE needs/);
    await db.admin.query(`GRANT ALTER, DROP ON \`${db.name}\`.\`orders\` TO ?@'%'`, [user]);
    expect((await blockers()).join('; ')).not.toMatch(/lacks/);
  });

  it('reads SHOW GRANTS lines and database patterns', () => {
    const grants: Grants = { global: new Set(), databases: [], tables: [] };
    addShowGrantsLine(grants, 'GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD \'*X\'');
    addShowGrantsLine(grants, 'GRANT SELECT, UPDATE (`a`, `b`), INSERT ON `shop`.`or``ders` TO `r`');
    addShowGrantsLine(grants, 'GRANT ALL PRIVILEGES ON `sh\\_p%`.* TO PUBLIC');
    addShowGrantsLine(grants, 'GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u`@`%`');
    addShowGrantsLine(grants, 'GRANT `r` TO `u`@`%`');
    expect(grants.global).toEqual(new Set(['USAGE']));
    expect(grants.tables).toEqual([{ database: 'shop', table: 'or`ders', privileges: new Set(['SELECT', 'INSERT']) }]);
    expect(grants.databases).toEqual([{ pattern: 'sh\\_p%', privileges: new Set(['ALL']) }]);
    expect(databaseMatches('sh\\_p%', 'sh_p_live')).toBe(true);
    expect(databaseMatches('sh\\_p%', 'shxp')).toBe(false);
    expect(databaseMatches('s_op', 'shop')).toBe(true);
    expect(databaseMatches('Shop', 'shop')).toBe(false);
    expect(databaseMatches('Shop', 'shop', true)).toBe(true);
  });
});

describe('SQLite privilegeProblems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-priv-'));
  const file = join(dir, 'shop.db');
  const root = process.getuid?.() === 0;

  beforeAll(async () => {
    // Opening as a target creates the file.
    const s = await sqliteDialect.open(parseConnectionUrl(`sqlite:${file}`), { baseDir: '/tmp', role: 'target' });
    await s.execute('CREATE TABLE orders (id integer PRIMARY KEY)');
    await s.close();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const orders = [{ name: 'orders' }];

  it('finds nothing missing for a readable, writable file', async () => {
    expect(await check(sqliteDialect, `sqlite:${file}`, { role: 'source', tables: orders })).toEqual([]);
    expect(await check(sqliteDialect, `sqlite:${file}`, { role: 'target', tables: orders, createIn: {} })).toEqual([]);
  });

  it('reports a target opened read-only with ?mode=ro', async () => {
    expect(await check(sqliteDialect, `sqlite:${file}?mode=ro`, { role: 'target', tables: orders })).toEqual([
      `the SQLite target ${file} is opened read-only (?mode=ro in its URL), so nothing can be written (remove ?mode=ro from the target URL)`,
    ]);
  });

  it('reports files and folders the process may not read or write (injected access check)', async () => {
    const denied = (paths: string[], missing: string[] = []) => async (path: string) => {
      if (missing.includes(path)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      if (paths.includes(path)) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    };
    expect(await sqliteProblems({ path: '/data/shop.db', readonly: true }, { role: 'source', tables: orders }, denied(['/data/shop.db']), 'app')).toEqual([
      'user "app" may not read the SQLite file /data/shop.db (make it readable by this user, e.g. chmod a+r, or run dbferry as its owner)',
    ]);
    expect(await sqliteProblems({ path: '/data/shop.db', readonly: false }, { role: 'target', tables: orders }, denied(['/data/shop.db', '/data']), 'app')).toEqual([
      'user "app" may not write the SQLite file /data/shop.db (make it writable by this user, e.g. chmod u+w, or run dbferry as its owner)',
      'user "app" may not create files in the folder /data, where SQLite creates the journal of /data/shop.db on every write (make the folder writable by this user)',
    ]);
    expect(
      await sqliteProblems({ path: '/data/new.db', readonly: false }, { role: 'target', tables: [], createIn: {} }, denied(['/data'], ['/data/new.db']), 'app'),
    ).toEqual([
      'user "app" may not create files in the folder /data, where the database file /data/new.db is to be created (make the folder writable by this user)',
    ]);
  });

  it.skipIf(root)('reports a real file this (non-root) process may not write', async () => {
    chmodSync(file, 0o444);
    try {
      const problems = await check(sqliteDialect, `sqlite:${file}`, { role: 'source', tables: orders });
      expect(problems).toEqual([]);
      expect(await sqliteProblems({ path: file, readonly: false }, { role: 'target', tables: orders })).toEqual([
        expect.stringMatching(/^user ".+" may not write the SQLite file /),
      ]);
    } finally {
      chmodSync(file, 0o644);
    }
  });
});
