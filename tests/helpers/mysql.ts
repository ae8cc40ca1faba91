/**
 * Throwaway MySQL/MariaDB databases for integration tests: each call creates a
 * uniquely named database on the server from DBFERRY_TEST_MYSQL_URL (default
 * mysql://root@127.0.0.1:3306/test; the path's database need not exist) and
 * `drop()` removes it.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

export const MYSQL_TEST_URL = process.env.DBFERRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export interface MysqlTestDatabase {
  /** Connection URL of the new database (same server, user and parameters). */
  url: string;
  name: string;
  /** A root-level connection to the server, for setup statements; closed by drop(). */
  admin: mysql.Connection;
  drop(): Promise<void>;
}

export function mysqlServerOptions(url = MYSQL_TEST_URL): mysql.ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    charset: 'UTF8MB4_UNICODE_CI',
  };
}

export async function createMysqlDatabase(prefix = 'dbferry_test'): Promise<MysqlTestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ ...mysqlServerOptions(), multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.query(`USE \`${name}\``);
  const u = new URL(MYSQL_TEST_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    admin,
    async drop() {
      try {
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await admin.end();
      }
    },
  };
}
