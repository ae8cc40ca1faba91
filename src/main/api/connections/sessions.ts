/** Opening short-lived engine sessions for tests and introspection. */
import type { ConnectionInfo } from '../../../shared/connectionUrl.js';
import type { SshSpec } from '../../../shared/jobSpec.js';
import type { SshSecrets } from '../../engine/ssh/auth.js';
import { Tunnel } from '../../engine/ssh/tunnel.js';
import { dialectFor } from '../../engine/dialects/index.js';
import type { Session } from '../../engine/dialects/dialect.js';
import type { ConnectionRecord } from '../../store/connections.js';
import type { ApiContext } from '../context.js';
import { HandlerError } from '../errors.js';
import { parseUrl } from './urls.js';

const CONNECT_TIMEOUT_MS = 15_000;

/** The connection's info with its password filled in from the session, the safe or the environment. */
export function connectionInfo(ctx: ApiContext, record: ConnectionRecord): ConnectionInfo {
  return withPassword(parseUrl(record.url), ctx.secrets.get(record.id));
}

export function withPassword(info: ConnectionInfo, password: string | undefined): ConnectionInfo {
  if (info.engine === 'sqlite') return info;
  // The engine reads passwordEnv before password: a password known here must win.
  if (password !== undefined) return { ...info, password, passwordEnv: undefined };
  if (info.passwordEnv && info.password === undefined) {
    const fromEnv = process.env[info.passwordEnv];
    if (fromEnv === undefined) {
      throw new HandlerError(
        'failed',
        `the environment variable ${info.passwordEnv} that holds this connection's password is not set; set it before starting dbferry, or type the password`,
      );
    }
    return { ...info, password: fromEnv, passwordEnv: undefined };
  }
  return info;
}

export async function openSession(ctx: ApiContext, info: ConnectionInfo): Promise<Session> {
  const dialect = await dialectFor(info.engine);
  const opening = dialect.open(info, { baseDir: ctx.baseDir, role: 'source', statementTimeoutMs: 30_000 });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // close the session if it opens after all
      opening.then((s) => s.close()).catch(() => {});
      reject(new HandlerError('failed', `no answer from the server after ${CONNECT_TIMEOUT_MS / 1000} s; check the host, port and firewall`));
    }, CONNECT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([opening, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function withSession<T>(ctx: ApiContext, info: ConnectionInfo, fn: (s: Session) => Promise<T>, ssh?: SshSpec | null, secrets?: SshSecrets): Promise<T> {
  if (ssh && info.engine !== 'sqlite') return withTunnel(ctx, ssh, info, (via) => withSession(ctx, { ...info, via }, fn), secrets);
  const session = await openSession(ctx, info);
  try {
    return await fn(session);
  } finally {
    await session.close().catch(() => {});
  }
}

/** Run fn with an SSH tunnel to the connection's server open; `via` is where to connect instead. */
export async function withTunnel<T>(
  ctx: ApiContext,
  ssh: SshSpec,
  info: ConnectionInfo & { engine: 'postgres' | 'mysql' },
  fn: (via: { host: string; port: number }) => Promise<T>,
  secrets?: SshSecrets,
): Promise<T> {
  const tunnel = await Tunnel.open(ssh, { host: info.host, port: info.port }, { baseDir: ctx.baseDir, secrets });
  try {
    return await fn(tunnel.address);
  } finally {
    await tunnel.close();
  }
}
