/** Real databases for end-to-end tests: a throwaway PostgreSQL database and SQLite files. */
import Database from 'better-sqlite3';
import pg from 'pg';
import { PG_ADMIN_URL, withPgAdmin as admin } from '../../helpers/postgres.js';

export { PG_ADMIN_URL };

export function pgUrl(database: string): URL {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${database}`;
  return u;
}

export async function createPgDatabase(name: string): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  });
}

export async function dropPgDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).catch(() => {});
}

/** Create a login role with a password (for the no-secret-leaks checks). */
export async function createPgRole(role: string, password: string, database: string): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await c.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password.replaceAll("'", "''")}'`);
    await c.query(`GRANT ALL ON DATABASE "${database}" TO "${role}"`);
    await c.query(`ALTER DATABASE "${database}" OWNER TO "${role}"`);
  });
}

export async function dropPgRole(role: string): Promise<void> {
  await admin((c) => c.query(`DROP ROLE IF EXISTS "${role}"`)).catch(() => {});
}

export async function pgQuery<T extends pg.QueryResultRow>(database: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: pgUrl(database).toString() });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A small shop: customers, products, orders (with keys), plus an audit log the job leaves out. */
export function makeShopSqlite(path: string, orders = 1500): void {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, country TEXT);
    CREATE TABLE products (sku TEXT PRIMARY KEY, title TEXT NOT NULL, price NUMERIC(10,2) NOT NULL, active BOOLEAN NOT NULL DEFAULT 1);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), sku TEXT NOT NULL, qty INTEGER NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE audit_log (at TEXT, message TEXT);
  `);
  const countries = ['FR', 'DE', 'US', 'JP', 'BR'];
  db.transaction(() => {
    const c = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?)');
    for (let i = 1; i <= 200; i++) c.run(i, `Customer ${i} ${i % 7 === 0 ? 'Müller' : 'Smith'}`, i % 5 === 0 ? null : `c${i}@example.com`, countries[i % 5]);
    const p = db.prepare('INSERT INTO products VALUES (?, ?, ?, ?)');
    for (let i = 1; i <= 40; i++) p.run(`SKU-${String(i).padStart(4, '0')}`, `Product ${i}`, (i * 3.75).toFixed(2), i % 9 === 0 ? 0 : 1);
    const o = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?)');
    for (let i = 1; i <= orders; i++) {
      o.run(i, (i % 200) + 1, `SKU-${String((i % 40) + 1).padStart(4, '0')}`, (i % 12) + 1, `2024-0${(i % 9) + 1}-1${i % 10} 10:${String(i % 60).padStart(2, '0')}:00`);
    }
    db.prepare('INSERT INTO audit_log VALUES (?, ?)').run('2024-01-01', 'created');
  })();
  db.close();
}
