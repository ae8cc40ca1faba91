/**
 * Saved passwords in the desktop app: encrypted with Electron safeStorage
 * (Keychain, DPAPI, libsecret) into connections.secret; decrypted only in the
 * main process, on demand, and kept in memory after that.
 */
import { safeStorage } from 'electron';
import type { SecretKeeper } from '../api/secrets.js';
import type { Connections } from '../store/connections.js';

export class SafeStorageSecrets implements SecretKeeper {
  private readonly cache = new Map<string, string>();

  constructor(private readonly connections: Connections) {}

  /** Without OS encryption (e.g. no keyring on Linux) passwords are kept for the session only. */
  get persistent(): boolean {
    return safeStorage.isEncryptionAvailable();
  }

  get(connectionId: string): string | undefined {
    const cached = this.cache.get(connectionId);
    if (cached !== undefined) return cached;
    const blob = this.connections.get(connectionId)?.secret;
    if (!blob || !this.persistent) return undefined;
    try {
      const password = safeStorage.decryptString(blob);
      this.cache.set(connectionId, password);
      return password;
    } catch {
      return undefined; // encrypted by another user or machine: ask again
    }
  }

  set(connectionId: string, password: string): void {
    this.cache.set(connectionId, password);
    if (this.persistent) this.connections.setSecret(connectionId, safeStorage.encryptString(password));
  }

  delete(connectionId: string): void {
    this.cache.delete(connectionId);
    if (this.connections.get(connectionId)) this.connections.setSecret(connectionId, null);
  }

  known(): Iterable<string> {
    return this.cache.values();
  }
}
