/**
 * Secrets from the operating system's keychain, by name (a service and an
 * account), for CLI runs and the browser mode: the Secret Service on Linux
 * (GNOME Keyring, KWallet; through libsecret's `secret-tool`), the login
 * keychain on macOS (`security`). The secret passes from the tool's stdout
 * into memory only; it is never an argument of a command line.
 */
import { execFileSync } from 'node:child_process';
import { FerryError } from '../errors.js';

export interface KeychainEntry {
  service: string;
  account: string;
}

function tool(): { cmd: string; lookup(e: KeychainEntry): string[]; store(e: KeychainEntry, label: string): string[]; clear(e: KeychainEntry): string[] } | undefined {
  if (process.platform === 'linux') {
    return {
      cmd: 'secret-tool',
      lookup: (e) => ['lookup', 'service', e.service, 'account', e.account],
      store: (e, label) => ['store', `--label=${label}`, 'service', e.service, 'account', e.account],
      clear: (e) => ['clear', 'service', e.service, 'account', e.account],
    };
  }
  if (process.platform === 'darwin') {
    return {
      cmd: 'security',
      lookup: (e) => ['find-generic-password', '-s', e.service, '-a', e.account, '-w'],
      // `security` takes the secret only as an argument (-w) or from a prompt: storing is left to the user there.
      store: () => [],
      clear: (e) => ['delete-generic-password', '-s', e.service, '-a', e.account],
    };
  }
  return undefined;
}

function describe(e: KeychainEntry): string {
  return `service "${e.service}", account "${e.account}"`;
}

function storeHint(e: KeychainEntry): string {
  return process.platform === 'darwin'
    ? `add it with: security add-generic-password -s '${e.service}' -a '${e.account}' -w`
    : `store it with: secret-tool store --label='dbferry SSH key passphrase' service '${e.service}' account '${e.account}'`;
}

/** Where no keychain can be reached from here: why, in words; undefined when one can. */
export function keychainUnavailable(): string | undefined {
  const t = tool();
  if (!t) return `reading the OS keychain from dbferry is supported on Linux (Secret Service) and macOS, not on ${process.platform}`;
  try {
    execFileSync(t.cmd, ['--version'], { stdio: 'ignore', timeout: 5000 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return `${t.cmd} is not installed${t.cmd === 'secret-tool' ? ' (Debian/Ubuntu: apt-get install libsecret-tools)' : ''}`;
    }
  }
  if (t.cmd === 'secret-tool' && !process.env.DBUS_SESSION_BUS_ADDRESS) {
    return 'no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service keychain can be reached';
  }
  return undefined;
}

/** The secret stored under this name; throws a FerryError that says what to do when there is none. */
export function keychainLookup(e: KeychainEntry, what: string): string {
  const t = tool();
  const unavailable = keychainUnavailable();
  if (!t || unavailable) {
    throw new FerryError('connection', `the ${what} should come from the OS keychain (${describe(e)}), but ${unavailable}`, {
      hint: 'use "passphraseEnv" (an environment variable) instead, or run where the keychain is available',
    });
  }
  let out: string;
  try {
    out = execFileSync(t.cmd, t.lookup(e), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new FerryError('connection', `the ${what} is not in the OS keychain (${describe(e)})${stderr ? `: ${stderr}` : ''}`, {
      hint: `${storeHint(e)}; or unlock the keychain if it is locked`,
    });
  }
  // secret-tool prints the secret as stored; `security -w` adds a newline.
  const secret = t.cmd === 'security' ? out.replace(/\n$/, '') : out;
  if (secret === '') {
    throw new FerryError('connection', `the ${what} is not in the OS keychain (${describe(e)})`, { hint: storeHint(e) });
  }
  return secret;
}

/** Store a secret (Linux Secret Service only: it reads it from stdin, never from the command line). */
export function keychainStore(e: KeychainEntry, secret: string, label: string): void {
  const t = tool();
  if (!t || t.cmd !== 'secret-tool') throw new Error('storing in the OS keychain needs secret-tool (Linux)');
  execFileSync(t.cmd, t.store(e, label), { input: secret, stdio: ['pipe', 'ignore', 'pipe'], timeout: 30_000 });
}

export function keychainClear(e: KeychainEntry): void {
  const t = tool();
  if (!t) return;
  try {
    execFileSync(t.cmd, t.clear(e), { stdio: 'ignore', timeout: 30_000 });
  } catch {
    // nothing stored under it
  }
}
