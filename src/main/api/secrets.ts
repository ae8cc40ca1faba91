/**
 * Where connection passwords live while dbferry runs. The browser mode keeps
 * them in memory only (never on disk); the desktop app backs them with
 * Electron safeStorage (src/main/ipc/safeStorageSecrets.ts).
 */
export interface SecretKeeper {
  /** True when a password set here survives a restart (encrypted on disk). */
  readonly persistent: boolean;
  get(connectionId: string): string | undefined;
  set(connectionId: string, password: string): void;
  delete(connectionId: string): void;
  /** Every password known, so that error messages can be scrubbed of them. */
  known(): Iterable<string>;
}

export class MemorySecrets implements SecretKeeper {
  readonly persistent = false;
  private readonly byId = new Map<string, string>();

  get(connectionId: string): string | undefined {
    return this.byId.get(connectionId);
  }

  set(connectionId: string, password: string): void {
    this.byId.set(connectionId, password);
  }

  delete(connectionId: string): void {
    this.byId.delete(connectionId);
  }

  known(): Iterable<string> {
    return this.byId.values();
  }
}

/** Replace every occurrence of a known password (and its URL-encoded form) with ••••. */
export function scrubSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 3) continue; // too short to scrub without mangling unrelated text
    out = out.split(s).join('••••');
    const encoded = encodeURIComponent(s);
    if (encoded !== s) out = out.split(encoded).join('••••');
  }
  return out;
}
