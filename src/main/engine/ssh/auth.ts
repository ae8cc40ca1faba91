/**
 * How dbferry logs in to an SSH host: a private key (its passphrase from the
 * environment, the OS keychain, or typed for the session), a password from the environment (or
 * typed), or the running ssh-agent. Secrets are read here, at connect time,
 * and live only in the ssh2 client's config.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { SshSpec } from '../../../shared/jobSpec.js';
import { FerryError } from '../errors.js';
import { keychainLookup } from './keychain.js';

/** Secrets typed in the app for this session: never in a job spec or the store. */
export interface SshSecrets {
  password?: string;
  passphrase?: string;
}

export interface SshLogin {
  username: string;
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
  agent?: string;
  /** In words, for messages: "key ~/.ssh/id_ed25519", "password", "ssh-agent". */
  method: string;
}

export function resolvePath(path: string, baseDir: string): string {
  if (path === '~' || path.startsWith('~/')) return `${homedir()}${path.slice(1)}`;
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function fromEnv(name: string, what: string, at: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new FerryError('connection', `the ${what} for SSH ${at} should come from the environment variable ${name}, which is not set`, {
      hint: `set ${name} before running, or remove it from the "ssh" settings`,
    });
  }
  return value;
}

export function sshLogin(ssh: SshSpec, baseDir: string, secrets: SshSecrets = {}): SshLogin {
  const at = `${ssh.user}@${ssh.host}:${ssh.port}`;
  const login: SshLogin = { username: ssh.user, method: '' };
  const methods: string[] = [];
  if (ssh.privateKey) {
    const path = resolvePath(ssh.privateKey, baseDir);
    try {
      login.privateKey = readFileSync(path);
    } catch (err) {
      throw new FerryError('connection', `cannot read the SSH private key "${ssh.privateKey}" for ${at}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'check the "privateKey" path (relative paths are read from the job file\'s folder)',
        cause: err,
      });
    }
    login.passphrase =
      secrets.passphrase ??
      (ssh.passphraseEnv
        ? fromEnv(ssh.passphraseEnv, 'private key passphrase', at)
        : ssh.passphraseKeychain
          ? keychainLookup(ssh.passphraseKeychain, `passphrase of the SSH private key "${ssh.privateKey}" for ${at}`)
          : undefined);
    methods.push(`key ${ssh.privateKey}`);
  }
  if (ssh.passwordEnv || secrets.password !== undefined) {
    login.password = secrets.password ?? fromEnv(ssh.passwordEnv!, 'password', at);
    methods.push('password');
  }
  const wantAgent = ssh.agent ?? methods.length === 0;
  if (wantAgent) {
    const sock = process.env.SSH_AUTH_SOCK;
    if (sock) {
      login.agent = sock;
      methods.push('ssh-agent');
    } else if (ssh.agent || methods.length === 0) {
      throw new FerryError('connection', `no way to log in to SSH ${at}: no private key or password is set, and no ssh-agent is running (SSH_AUTH_SOCK is not set)`, {
        hint: 'give "privateKey" (with "passphraseEnv" if it is encrypted) or "passwordEnv" in the "ssh" settings, or start ssh-agent and add your key',
      });
    }
  }
  login.method = methods.join(', ');
  return login;
}
