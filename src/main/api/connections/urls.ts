/**
 * Connection URLs as the store keeps them: absolute SQLite paths, no password,
 * `passwordEnv` as a query parameter when the password comes from the environment.
 */
import { isAbsolute, resolve } from 'node:path';
import { ConnectionUrlError, parseConnectionUrl, type ConnectionInfo } from '../../../shared/connectionUrl.js';
import type { ConnectionDto, PasswordSource } from '../../../shared/api.js';
import type { ConnectionRecord } from '../../store/connections.js';
import { HandlerError } from '../errors.js';

export interface StorableUrl {
  url: string;
  info: ConnectionInfo;
  /** A password that was written inside the URL, taken out. */
  password?: string;
}

export function parseUrl(url: string): ConnectionInfo {
  try {
    return parseConnectionUrl(url);
  } catch (err) {
    if (err instanceof ConnectionUrlError) throw new HandlerError('invalid-input', `url: ${err.message}`);
    throw err;
  }
}

export function storableUrl(url: string, passwordEnv: string | undefined, baseDir: string): StorableUrl {
  const info = parseUrl(url);
  if (info.engine === 'sqlite') {
    const path = isAbsolute(info.path) ? info.path : resolve(baseDir, info.path);
    const clean = `sqlite://${encodeURI(path)}${info.readonly ? '?mode=ro' : ''}`;
    return { url: clean, info: { ...info, path } };
  }
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = '';
  if (passwordEnv) u.searchParams.set('passwordEnv', passwordEnv);
  else u.searchParams.delete('passwordEnv');
  const clean = u.toString();
  return { url: clean, info: parseConnectionUrl(clean), password };
}

export function passwordSource(record: ConnectionRecord, hasSecret: boolean, persistent: boolean): PasswordSource {
  if (hasSecret) return persistent ? 'saved' : 'session';
  return record.passwordEnv ? 'env' : 'none';
}

export function toConnectionDto(record: ConnectionRecord, source: PasswordSource): ConnectionDto {
  const info = parseConnectionUrl(record.url);
  const base = {
    id: record.id,
    name: record.name,
    engine: record.engine,
    url: record.url,
    passwordSource: source,
    passwordEnv: record.passwordEnv ?? undefined,
    ssh: record.ssh ?? undefined,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
  if (info.engine === 'sqlite') return { ...base, path: info.path, params: info.readonly ? { mode: 'ro' } : {} };
  return { ...base, host: info.host, port: info.port, user: info.user, database: info.database, params: info.params };
}
