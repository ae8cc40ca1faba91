/**
 * "Remember passphrase": where the app keeps an SSH private key's passphrase
 * across restarts, for a saved connection.
 * - The desktop app: encrypted with Electron safeStorage (Keychain, DPAPI,
 *   libsecret) into connections.ssh_secret; the cipher is handed in by the
 *   host (src/main/index.ts), so nothing here imports electron.
 * - The browser mode on Linux: the Secret Service keychain (GNOME Keyring,
 *   KWallet) through secret-tool, under service "dbferry", account
 *   "ssh-passphrase:<connection id>".
 * - Elsewhere: not offered; the passphrase is typed for the session or named
 *   by an environment variable or a keychain entry in the "ssh" settings.
 * A remembered passphrase is decrypted only in the main process, reaches runs
 * as the typed ones do (an environment variable of this process, named in the
 * spec), and is scrubbed from messages.
 */
import type { Connections } from '../../store/connections.js';
import { keychainClear, keychainLookup, keychainStore, keychainUnavailable } from '../../engine/ssh/keychain.js';

/** What Electron's safeStorage offers (the desktop host passes safeStorage itself). */
export interface StringCipher {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export interface SshPassphraseVault {
  /** Where a remembered passphrase goes, in words for the form; null when it cannot be remembered here. */
  readonly where: string | null;
  get(connectionId: string): string | undefined;
  set(connectionId: string, passphrase: string): void;
  delete(connectionId: string): void;
  /** Every one known, so that messages can be scrubbed of them. */
  known(): Iterable<string>;
}

export const noVault: SshPassphraseVault = {
  where: null,
  get: () => undefined,
  set: () => {
    throw new Error('no place to remember an SSH passphrase here');
  },
  delete: () => undefined,
  known: () => [],
};

/** The desktop app: safeStorage-encrypted, in the store. */
export class EncryptedStoreVault implements SshPassphraseVault {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly connections: Connections,
    private readonly cipher: StringCipher,
  ) {}

  get where(): string | null {
    return this.cipher.isEncryptionAvailable() ? "the app's encrypted store" : null;
  }

  get(connectionId: string): string | undefined {
    const cached = this.cache.get(connectionId);
    if (cached !== undefined) return cached;
    const blob = this.connections.get(connectionId)?.sshSecret;
    if (!blob || !this.cipher.isEncryptionAvailable()) return undefined;
    try {
      const passphrase = this.cipher.decryptString(blob);
      this.cache.set(connectionId, passphrase);
      return passphrase;
    } catch {
      return undefined; // encrypted by another user or machine: ask again
    }
  }

  set(connectionId: string, passphrase: string): void {
    if (!this.cipher.isEncryptionAvailable()) throw new Error('the OS offers no encryption here (no keyring): the passphrase cannot be remembered');
    this.connections.setSshSecret(connectionId, this.cipher.encryptString(passphrase));
    this.cache.set(connectionId, passphrase);
  }

  delete(connectionId: string): void {
    this.cache.delete(connectionId);
    if (this.connections.get(connectionId)?.sshSecret) this.connections.setSshSecret(connectionId, null);
  }

  known(): Iterable<string> {
    return this.cache.values();
  }
}

export const KEYCHAIN_SERVICE = 'dbferry';

/** The browser mode on Linux: the Secret Service, through secret-tool. */
export class SecretServiceVault implements SshPassphraseVault {
  readonly where = 'the Secret Service keychain';
  /** Looked up once per connection (a process per lookup); null: none stored. */
  private readonly cache = new Map<string, string | null>();

  static available(): boolean {
    return process.platform === 'linux' && keychainUnavailable() === undefined;
  }

  entry(connectionId: string) {
    return { service: KEYCHAIN_SERVICE, account: `ssh-passphrase:${connectionId}` };
  }

  get(connectionId: string): string | undefined {
    const cached = this.cache.get(connectionId);
    if (cached !== undefined) return cached ?? undefined;
    let found: string | null;
    try {
      found = keychainLookup(this.entry(connectionId), 'SSH key passphrase');
    } catch {
      found = null;
    }
    this.cache.set(connectionId, found);
    return found ?? undefined;
  }

  set(connectionId: string, passphrase: string): void {
    keychainStore(this.entry(connectionId), passphrase, `dbferry: SSH key passphrase for connection ${connectionId}`);
    this.cache.set(connectionId, passphrase);
  }

  delete(connectionId: string): void {
    if (this.cache.get(connectionId) === null) return;
    keychainClear(this.entry(connectionId));
    this.cache.set(connectionId, null);
  }

  known(): Iterable<string> {
    return [...this.cache.values()].filter((v): v is string => v !== null);
  }
}

/** The browser mode's vault: the Secret Service where it can be reached, else none. */
export function browserVault(): SshPassphraseVault {
  return SecretServiceVault.available() ? new SecretServiceVault() : noVault;
}
