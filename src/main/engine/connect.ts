import { parseConnectionUrl, redactUrl, type ConnectionInfo } from '../../shared/connectionUrl.js';
import { ConnectionUrlError } from '../../shared/connectionUrl.js';
import type { OpenOptions, Session } from './dialects/dialect.js';
import { dialectFor } from './dialects/index.js';
import { FerryError, isTransient } from './errors.js';
import { Tunnel } from './ssh/tunnel.js';

/** Open a session for a job endpoint URL. */
export async function openEndpoint(url: string, options: OpenOptions): Promise<Session> {
  let info: ConnectionInfo;
  try {
    info = parseConnectionUrl(url);
  } catch (err) {
    if (err instanceof ConnectionUrlError) throw new FerryError('spec', `${options.role}.url: ${err.message}`);
    throw err;
  }
  if (options.ssh && !options.tunnel && info.engine !== 'sqlite') return openThroughOwnTunnel(url, info, options);
  if (options.tunnel && info.engine !== 'sqlite') info = { ...info, via: options.tunnel };
  const dialect = await dialectFor(info.engine);
  try {
    return await dialect.open(info, options);
  } catch (err) {
    if (options.tunnel) throw throughTunnel(err, Tunnel.at(options.tunnel.port), options.tunnel.label);
    if (err instanceof FerryError) throw err;
    throw new FerryError('connection', `cannot connect to the ${options.role} ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
}

/** A session with an SSH tunnel of its own (a plan, a test, a verify): closing the session closes the tunnel. */
async function openThroughOwnTunnel(url: string, info: ConnectionInfo & { engine: 'postgres' | 'mysql' }, options: OpenOptions): Promise<Session> {
  const tunnel = await Tunnel.open(options.ssh!, { host: info.host, port: info.port }, { baseDir: options.baseDir, secrets: options.sshSecrets });
  try {
    const session = await openEndpoint(url, { ...options, ssh: undefined, sshSecrets: undefined, tunnel: { ...tunnel.address, label: tunnel.label } });
    const close = session.close.bind(session);
    session.close = async () => {
      try {
        await close();
      } finally {
        await tunnel.close();
      }
    };
    return session;
  } catch (err) {
    await tunnel.close();
    throw throughTunnel(err, tunnel);
  }
}

/**
 * A database hop through a tunnel says so, and why the SSH side failed when
 * this thread holds the tunnel (lanes in worker threads know only its label).
 */
export function throughTunnel(err: unknown, tunnel?: Tunnel, label = tunnel?.label): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (tunnel?.lastError) {
    return new FerryError('connection', `${message} (through ${tunnel.label}: ${tunnel.lastError.message})`, {
      hint: tunnel.lastError.hint,
      transient: tunnel.lastError.transient,
      cause: err,
    });
  }
  if (!label || (err instanceof FerryError && err.kind !== 'connection')) return err;
  return new FerryError('connection', `${message} (through the SSH tunnel ${label})`, {
    hint: err instanceof FerryError && err.hint ? err.hint : `check that ${label.replace(/^SSH /, '')} is up; dbferry logs in to it again on the next retry`,
    transient: isTransient(err),
    cause: err,
  });
}
