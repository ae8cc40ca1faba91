/**
 * Connection URLs: postgres://, mysql:// (mariadb://), sqlite:path.
 * Pure parsing; resolving `passwordEnv` and files happens in the engine.
 */
export type Engine = 'postgres' | 'mysql' | 'sqlite';

export interface ServerConnection {
  engine: 'postgres' | 'mysql';
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** Name of an environment variable holding the password. */
  passwordEnv?: string;
  database?: string;
  /** Remaining query parameters (sslmode, sslrootcert, ...). */
  params: Record<string, string>;
  /**
   * Where the driver dials instead: the local end of an SSH tunnel. `host` and
   * `port` stay the server's as the SSH host sees it, for messages.
   */
  via?: { host: string; port: number };
}

export interface SqliteConnection {
  engine: 'sqlite';
  /** The path as written; relative paths resolve against the job file's folder. */
  path: string;
  readonly?: boolean;
}

export type ConnectionInfo = ServerConnection | SqliteConnection;

export class ConnectionUrlError extends Error {}

export function parseConnectionUrl(url: string): ConnectionInfo {
  const scheme = /^([a-z]+):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') return parseSqlite(url);
  if (scheme === 'postgres' || scheme === 'postgresql') return parseServer(url, 'postgres', 5432);
  if (scheme === 'mysql' || scheme === 'mariadb') return parseServer(url, 'mysql', 3306);
  throw new ConnectionUrlError(
    `unsupported connection URL scheme "${scheme ?? url}": use postgres://, mysql://, mariadb:// or sqlite:`,
  );
}

function parseSqlite(url: string): SqliteConnection {
  // sqlite:relative/path.db, sqlite:///abs/path.db, sqlite://relative.db, with optional ?mode=ro
  let rest = url.slice('sqlite:'.length);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (rest.startsWith('///')) rest = rest.slice(2);
  else if (rest.startsWith('//')) rest = rest.slice(2);
  const path = decodeURIComponent(rest);
  if (!path) throw new ConnectionUrlError('the sqlite: URL has no file path (e.g. sqlite:data/shop.db)');
  const params = new URLSearchParams(query);
  return { engine: 'sqlite', path, readonly: params.get('mode') === 'ro' };
}

function parseServer(url: string, engine: 'postgres' | 'mysql', defaultPort: number): ServerConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConnectionUrlError(`"${redactUrl(url)}" is not a valid ${engine} URL (expected ${engine}://user@host:port/database)`);
  }
  const params: Record<string, string> = {};
  let passwordEnv: string | undefined;
  for (const [k, v] of parsed.searchParams) {
    if (k === 'passwordEnv') passwordEnv = v;
    else params[k] = v;
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined;
  return {
    engine,
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : defaultPort,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    passwordEnv,
    database,
    params,
  };
}

/** The URL with any password replaced: safe for logs, events and the UI. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@?#]*):([^@/?#]*)@/i, '$1:••••@');
}

/** A short label for a connection: engine, host and database, never a secret. */
export function describeConnection(info: ConnectionInfo): string {
  if (info.engine === 'sqlite') return `sqlite:${info.path}`;
  return `${info.engine}://${info.user ? `${info.user}@` : ''}${info.host}:${info.port}/${info.database ?? ''}`;
}
