/**
 * Opening a MySQL/MariaDB connection: options from the parsed URL, the session
 * settings every read and write relies on, and driver errors turned into
 * messages a user can act on. The only file that knows mysql2's connect API.
 */
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { Connection as CoreConnection } from 'mysql2';
import type { Connection, ConnectionOptions } from 'mysql2/promise';
import type { ServerConnection } from '../../../../shared/connectionUrl.js';
import { FerryError } from '../../errors.js';
import type { OpenOptions } from '../dialect.js';

export type Flavor = 'mariadb' | 'mysql';

export interface ServerFacts {
  flavor: Flavor;
  /** e.g. "MariaDB 10.11.19", "MySQL 8.0.36". */
  version: string;
  maxAllowedPacket: number;
  /** The server takes LOAD DATA LOCAL (@@local_infile: on by default in MariaDB, off in MySQL 8). */
  localInfile: boolean;
}

/**
 * Zero dates stay readable and writable (no NO_ZERO_DATE / NO_ZERO_IN_DATE),
 * every other bad value is an error, and an explicit 0 in an AUTO_INCREMENT
 * column is kept as 0 instead of drawing a new id.
 */
export const SESSION_SQL_MODE = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_VALUE_ON_ZERO';

/** Seconds the server waits on a paused reader or a slow LOAD DATA stream. */
const NET_TIMEOUT_S = 3600;

export interface Link {
  /** The promise API, for ordinary statements. */
  conn: Connection;
  /** The callback API under it, for streaming reads (query().stream()). */
  core: CoreConnection;
  facts: ServerFacts;
}

export async function connect(info: ServerConnection, options: OpenOptions): Promise<Link> {
  const where = `${info.host}:${info.port}${info.database ? `/${info.database}` : ''}`;
  const config: ConnectionOptions = {
    host: info.via?.host ?? info.host,
    port: info.via?.port ?? info.port,
    user: info.user ?? 'root',
    password: resolvePassword(info, where),
    database: info.database,
    charset: 'UTF8MB4_UNICODE_CI',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    decimalNumbers: false,
    // JSON stays the text the server sent; MariaDB's JSON is LONGTEXT anyway.
    jsonStrings: true,
    timezone: 'Z',
    connectTimeout: 10_000,
    multipleStatements: false,
    ssl: sslOptions(info.params),
    // `?localInfile=0` in the URL: never offer LOAD DATA LOCAL (the INSERT path is used).
    flags: info.params.localInfile === '0' || info.params.localInfile === 'false' ? ['-LOCAL_FILES'] : [],
  };
  let conn: Connection;
  try {
    conn = await mysql.createConnection(config);
  } catch (err) {
    throw connectionError(err, where, info.user ?? 'root');
  }
  // An idle connection the server closes must not crash the process: the
  // next command on it fails with the error instead.
  // mysql2 documents `.connection` on a promise connection; its typings omit it.
  const core = (conn as unknown as { connection: CoreConnection }).connection;
  core.on('error', () => {});
  try {
    const facts = await setUpSession(conn, options);
    return { conn, core, facts };
  } catch (err) {
    conn.destroy();
    throw connectionError(err, where, info.user ?? 'root');
  }
}

function resolvePassword(info: ServerConnection, where: string): string | undefined {
  if (!info.passwordEnv) return info.password;
  const value = process.env[info.passwordEnv];
  if (value === undefined) {
    throw new FerryError('connection', `the password for ${where} comes from the environment variable ${info.passwordEnv}, which is not set`, {
      hint: `Set ${info.passwordEnv} before running, or remove passwordEnv from the URL`,
    });
  }
  return value;
}

function sslOptions(params: Record<string, string>): ConnectionOptions['ssl'] {
  const mode = params.sslmode ?? params['ssl-mode']?.toLowerCase();
  if (!mode || mode === 'disable' || mode === 'disabled' || mode === 'prefer' || mode === 'preferred') return undefined;
  const read = (p?: string) => (p ? readFileSync(p, 'utf8') : undefined);
  return {
    ca: read(params.sslrootcert),
    cert: read(params.sslcert),
    key: read(params.sslkey),
    rejectUnauthorized: mode === 'verify-ca' || mode === 'verify-full' || mode === 'verify_ca' || mode === 'verify_identity',
  };
}

async function setUpSession(conn: Connection, options: OpenOptions): Promise<ServerFacts> {
  const [rows] = await conn.query({ sql: 'SELECT VERSION(), @@max_allowed_packet, @@local_infile', rowsAsArray: true });
  const [rawVersion, maxPacket, localInfile] = (rows as unknown[][])[0] as [string, string | number, string | number];
  const flavor: Flavor = /mariadb/i.test(rawVersion) ? 'mariadb' : 'mysql';
  const number = /^[\d.]+/.exec(rawVersion)?.[0] ?? rawVersion;
  const settings = [
    `time_zone = '+00:00'`,
    `sql_mode = '${SESSION_SQL_MODE}'`,
    `net_write_timeout = ${NET_TIMEOUT_S}`,
    `net_read_timeout = ${NET_TIMEOUT_S}`,
  ];
  const timeoutMs = options.statementTimeoutMs ?? 0;
  if (timeoutMs > 0) {
    settings.push(flavor === 'mariadb' ? `max_statement_time = ${timeoutMs / 1000}` : `max_execution_time = ${Math.ceil(timeoutMs)}`);
  }
  await conn.query(`SET SESSION ${settings.join(', ')}`);
  return {
    flavor,
    version: `${flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${number}`,
    maxAllowedPacket: Number(maxPacket),
    localInfile: Number(localInfile) === 1,
  };
}

interface DriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
}

/** A failure to reach or log in to the server, said so the user can fix it. */
export function connectionError(err: unknown, where: string, user: string): Error {
  if (err instanceof FerryError) return err;
  const e = (err ?? {}) as DriverError;
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED') {
    return new FerryError('connection', `cannot connect to MySQL/MariaDB at ${where}: connection refused`, {
      hint: 'Check that the server is running and listening on that host and port',
      transient: true,
      cause: err,
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new FerryError('connection', `cannot connect to MySQL/MariaDB at ${where}: the host name does not resolve`, {
      hint: 'Check the host in the connection URL',
      cause: err,
    });
  }
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new FerryError('connection', `cannot connect to MySQL/MariaDB at ${where}: the server did not answer (${code})`, {
      hint: 'Check the host, the port and any firewall or VPN between here and the server',
      transient: true,
      cause: err,
    });
  }
  if (e.errno === 1045) {
    return new FerryError('connection', `MySQL/MariaDB at ${where} refused the login of user "${user}" (access denied)`, {
      hint: 'Check the user name and password (or the passwordEnv variable) in the connection URL',
      cause: err,
    });
  }
  if (e.errno === 1049) {
    return new FerryError('connection', `MySQL/MariaDB at ${where}: the database does not exist`, {
      hint: 'Check the database name in the URL, or create it first (CREATE DATABASE ...)',
      cause: err,
    });
  }
  if (e.errno === 1044 || e.errno === 1142 || e.errno === 1227) {
    return privilegeError(err, where, user);
  }
  return new FerryError('connection', `cannot connect to MySQL/MariaDB at ${where}: ${e.sqlMessage ?? e.message ?? String(err)}`, {
    cause: err,
  });
}

export function privilegeError(err: unknown, where: string, user: string): FerryError {
  const e = (err ?? {}) as DriverError;
  return new FerryError('connection', `user "${user}" lacks a privilege on MySQL/MariaDB at ${where}: ${e.sqlMessage ?? e.message}`, {
    hint: 'Ask the database administrator to GRANT the missing privilege to this user, or connect as another user',
    cause: err,
  });
}
