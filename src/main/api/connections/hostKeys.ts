/**
 * SSH host keys a connection test has just shown, waiting for the user's
 * "trust it": the renderer names one by its fingerprint, and the key itself
 * comes from here, never from the renderer. Only unknown hosts can be trusted
 * this way; a changed key needs the user to remove the old one by hand.
 */
import type { HostKeyDto } from '../../../shared/api.js';
import { KnownHosts } from '../../engine/ssh/knownHosts.js';
import type { UntrustedHostKey } from '../../engine/ssh/tunnel.js';
import { HandlerError } from '../errors.js';

const pending = new Map<string, UntrustedHostKey>();
const keyOf = (host: string, port: number, fingerprint: string) => `${host}:${port} ${fingerprint}`;

export function rememberHostKey(key: UntrustedHostKey): HostKeyDto {
  if (key.status === 'unknown') pending.set(keyOf(key.host, key.port, key.fingerprint), key);
  return { host: key.host, port: key.port, status: key.status, type: key.type, fingerprint: key.fingerprint, knownHosts: key.knownHosts };
}

export function trustHostKey(host: string, port: number, fingerprint: string): { knownHosts: string } {
  const key = pending.get(keyOf(host, port, fingerprint));
  if (!key) throw new HandlerError('invalid-input', `no unknown SSH host key ${fingerprint} of ${host}:${port} was shown by a test; test the connection again`);
  KnownHosts.add(key.knownHosts, host, port, { type: key.type, blob: Buffer.from(key.key, 'base64') });
  pending.delete(keyOf(host, port, fingerprint));
  return { knownHosts: key.knownHosts };
}
