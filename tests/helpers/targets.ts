/**
 * A throwaway database of each engine, with what safety tests need: run SQL,
 * read a table's checksum through the native driver (not dbferry's code),
 * and kill the sessions connected to it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createMysqlDatabase } from './mysql.js';
import { createPgDatabase } from './postgres.js';

export type EngineName = 'sqlite' | 'postgres' | 'mysql';
export const ENGINES: EngineName[] = ['sqlite', 'postgres', 'mysql'];

export interface TestDb {
  engine: EngineName;
  url: string;
  rows(sql: string): Promise<unknown[][]>;
  exec(sql: string): Promise<void>;
  tables(): Promise<string[]>;
  /** Rows in key order, values as text (numbers in shortest form); null when the table does not exist. */
  checksum(table: string, orderBy: string): Promise<{ rows: number; sha: string } | null>;
  /** Terminate every other session on this database; how many. */
  killSessions(): Promise<number>;
  drop(): Promise<void>;
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`;
  if (typeof v === 'number' || typeof v === 'bigint') return String(Number(v));
  const s = String(v);
  return /^-?\d+(\.\d+)?$/.test(s) && s.length < 16 ? String(Number(s)) : s;
}

export function digest(rows: unknown[][]): { rows: number; sha: string } {
  const hash = createHash('sha256');
  for (const r of rows) hash.update(JSON.stringify(r.map(text)) + '\n');
  return { rows: rows.length, sha: hash.digest('hex') };
}

export async function createTestDb(engine: EngineName, dir: string): Promise<TestDb> {
  if (engine === 'sqlite') return sqliteDb(join(dir, `target-${Math.random().toString(36).slice(2)}.db`));
  if (engine === 'postgres') return postgresDb();
  return mysqlDb();
}

export function sqliteDb(path: string): TestDb {
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(path);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const db: TestDb = {
    engine: 'sqlite',
    url: `sqlite://${path}`,
    rows: async (sql) => withDb((d) => d.prepare(sql).raw(true).all() as unknown[][]),
    exec: async (sql) => withDb((d) => void d.exec(sql)),
    tables: async () => withDb((d) => d.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]),
    checksum: async (table, orderBy) => ((await db.tables()).includes(table) ? digest(await db.rows(`SELECT * FROM "${table}" ORDER BY ${orderBy}`)) : null),
    killSessions: async () => 0,
    drop: async () => undefined,
  };
  return db;
}

async function postgresDb(): Promise<TestDb> {
  const created = await createPgDatabase('dbferry_safety');
  const client = new pg.Client({ connectionString: created.url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  const db: TestDb = {
    engine: 'postgres',
    url: created.url,
    rows: async (sql) => (await client.query({ text: sql, rowMode: 'array' })).rows as unknown[][],
    exec: async (sql) => void (await client.query(sql)),
    tables: async () => (await db.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).map((r) => r[0] as string),
    checksum: async (table, orderBy) => ((await db.tables()).includes(table) ? digest(await db.rows(`SELECT * FROM "${table}" ORDER BY ${orderBy}`)) : null),
    killSessions: async () =>
      (await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [created.name])).rowCount ?? 0,
    drop: async () => {
      await client.end();
      await created.drop();
    },
  };
  return db;
}

async function mysqlDb(): Promise<TestDb> {
  const created = await createMysqlDatabase('dbferry_safety');
  const admin = created.admin;
  const db: TestDb = {
    engine: 'mysql',
    url: created.url,
    rows: async (sql) => (await admin.query({ sql, rowsAsArray: true, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true }))[0] as unknown[][],
    exec: async (sql) => void (await admin.query(sql)),
    tables: async () => (await db.rows(`SELECT table_name FROM information_schema.tables WHERE table_schema = '${created.name}' ORDER BY table_name`)).map((r) => r[0] as string),
    checksum: async (table, orderBy) => ((await db.tables()).includes(table) ? digest(await db.rows(`SELECT * FROM \`${table}\` ORDER BY ${orderBy}`)) : null),
    killSessions: async () => {
      const ids = (await db.rows(`SELECT id FROM information_schema.processlist WHERE db = '${created.name}' AND id <> CONNECTION_ID()`)).map((r) => r[0]);
      for (const id of ids) await admin.query(`KILL ${Number(id)}`).catch(() => undefined);
      return ids.length;
    },
    drop: () => created.drop(),
  };
  return db;
}
