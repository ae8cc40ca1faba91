/**
 * Throwaway PostgreSQL databases for integration tests, on the server named by
 * DBFERRY_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.DBFERRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface PgTestDatabase {
  /** Connection URL of the new database (same server, user and password as the admin URL). */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Run fn with a connection to the admin database of the test server. */
export async function withPgAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named dbferry_test_<random>; drop() removes it (closing leftover sessions). */
export async function createPgDatabase(prefix = 'dbferry_test'): Promise<PgTestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withPgAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withPgAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** Runs SQL (several statements allowed) against a test database URL. */
export async function pgExec(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
