/**
 * SSH passwords and key passphrases typed in the app: kept in memory for this
 * session only (never on disk, never sent back to the renderer). Runs get them
 * through process environment variables, as database passwords (specs.ts).
 */
import type { SshSecrets } from '../../engine/ssh/auth.js';
import type { ApiContext } from '../context.js';

const byConnection = new Map<string, SshSecrets>();

export const sshSessionSecrets = {
  get(connectionId: string): SshSecrets | undefined {
    return byConnection.get(connectionId);
  },
  set(connectionId: string, secrets: SshSecrets): void {
    const merged = { ...byConnection.get(connectionId), ...secrets };
    if (merged.password === undefined && merged.passphrase === undefined) byConnection.delete(connectionId);
    else byConnection.set(connectionId, merged);
  },
  delete(connectionId: string): void {
    byConnection.delete(connectionId);
  },
  /** Every one known, so that messages can be scrubbed of them. */
  known(): string[] {
    return [...byConnection.values()].flatMap((s) => [s.password, s.passphrase].filter((v): v is string => v !== undefined));
  },
};

/** The SSH secrets the app holds for a saved connection: typed this session, else a remembered passphrase. */
export function sshSecretsOf(ctx: ApiContext, connectionId: string): SshSecrets | undefined {
  const typed = sshSessionSecrets.get(connectionId);
  if (typed?.passphrase !== undefined) return typed;
  const ssh = ctx.connections.get(connectionId)?.ssh;
  const remembered = ssh?.privateKey ? ctx.sshVault.get(connectionId) : undefined;
  if (remembered === undefined) return typed;
  return { ...typed, passphrase: remembered };
}
