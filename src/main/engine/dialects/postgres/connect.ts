/**
 * Opening a connection: credentials, SSL, session settings that make every
 * value come back as exact text (UTC, ISO dates, hex bytea, round-trip floats).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import type { ServerConnection } from '../../../../shared/connectionUrl.js';
import { FerryError } from '../../errors.js';
import type { OpenOptions } from '../dialect.js';
import { connectError, type ServerLabel } from './errors.js';
import { decoderForOid } from './types.js';

export interface PgConnection {
  client: pg.Client;
  label: ServerLabel;
  serverVersion: string;
  /** The database's encoding (server_encoding): 'UTF8' lets read.ts take a row text's bytes as they are (textsend). */
  serverEncoding: string;
  /** The server process of this connection (pg_backend_pid()), asked with the settings: no round trip of its own later. */
  backendPid: number;
}

/** Every type arrives as text; decoders by OID turn the ones with a canonical non-string form. */
const textTypes = { getTypeParser: (oid: number) => decoderForOid(oid) } as unknown as pg.CustomTypesConfig;

export async function connect(info: ServerConnection, options: OpenOptions): Promise<PgConnection> {
  const label: ServerLabel = {
    host: info.host,
    port: info.port,
    database: info.database ?? info.user ?? 'postgres',
    user: info.user ?? process.env.USER ?? 'postgres',
    via: info.via,
  };
  const client = new pg.Client({
    host: info.via?.host ?? info.host,
    port: info.via?.port ?? info.port,
    user: label.user,
    database: label.database,
    password: resolvePassword(info),
    ssl: sslOptions(info),
    application_name: 'dbferry',
    connectionTimeoutMillis: connectTimeoutMs(info),
    keepAlive: true,
    types: textTypes,
  });
  // Without a listener an error on an idle connection (server restart) would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    void client.end().catch(() => {});
    throw connectError(err, label);
  }
  try {
    const timeout = Math.max(0, Math.floor(options.statementTimeoutMs ?? 0));
    const results = (await client.query(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; " +
        "SET extra_float_digits = 3; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'; " +
        `SET statement_timeout = ${timeout}; SELECT current_setting('server_version') AS v, current_setting('server_encoding') AS e, pg_backend_pid() AS p`,
    )) as unknown as pg.QueryResult[];
    const facts = results[results.length - 1].rows[0];
    const version = String(facts.v).split(' ')[0];
    return { client, label, serverVersion: `PostgreSQL ${version}`, serverEncoding: String(facts.e), backendPid: Number(facts.p) };
  } catch (err) {
    await client.end().catch(() => {});
    throw connectError(err, label);
  }
}

function resolvePassword(info: ServerConnection): string | undefined {
  if (!info.passwordEnv) return info.password;
  const value = process.env[info.passwordEnv];
  if (value === undefined) {
    throw new FerryError(
      'connection',
      `the password for PostgreSQL at ${info.host}:${info.port} should come from the environment variable ${info.passwordEnv}, which is not set`,
      { hint: `set ${info.passwordEnv} before running, or remove passwordEnv from the connection URL` },
    );
  }
  return value;
}

function connectTimeoutMs(info: ServerConnection): number {
  const seconds = Number(info.params.connect_timeout);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 15_000;
}

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new FerryError('connection', `cannot read the ${what} file "${path}" named in the connection URL`, { cause: err });
  }
}

/** libpq's sslmode, minus "prefer"/"allow" fallback, which node-postgres cannot do: those mean no SSL. */
export function sslOptions(info: ServerConnection): false | import('node:tls').ConnectionOptions {
  const mode = info.params.sslmode ?? (info.params.ssl === 'true' ? 'require' : 'disable');
  const ca = readPem(info.params.sslrootcert, 'sslrootcert');
  const cert = readPem(info.params.sslcert, 'sslcert');
  const key = readPem(info.params.sslkey, 'sslkey');
  switch (mode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'require':
      // libpq: with a root certificate, require behaves like verify-ca.
      return ca ? { ca, cert, key, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { cert, key, rejectUnauthorized: false };
    case 'verify-ca':
      return { ca, cert, key, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ca, cert, key, rejectUnauthorized: true };
    default:
      throw new FerryError('connection', `unknown sslmode "${mode}" in the PostgreSQL connection URL`, {
        hint: 'use sslmode=disable, require, verify-ca or verify-full',
      });
  }
}

/**
 * Cancel the statement running on `client` (protocol CancelRequest on a new
 * socket). Resolves once the server has taken the request and closed that
 * socket, so a later statement is not hit by a late cancel.
 */
export function cancelRunning(client: pg.Client, label: ServerLabel): Promise<void> {
  const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
  // Through an SSH tunnel the cancel request takes the tunnel too.
  const { host, port } = label.via ?? label;
  return new Promise((resolve) => {
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('connect', () => {
      const msg = Buffer.alloc(16);
      msg.writeInt32BE(16, 0);
      msg.writeInt32BE(80877102, 4);
      msg.writeInt32BE(processID, 8);
      msg.writeInt32BE(secretKey, 12);
      socket.end(msg);
    });
  });
}
