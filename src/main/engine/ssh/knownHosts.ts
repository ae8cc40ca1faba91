/**
 * Host keys checked against an OpenSSH known_hosts file, as `ssh` does with
 * StrictHostKeyChecking=yes: plain and hashed host names, `[host]:port` for a
 * port other than 22, wildcards and negations, @revoked markers.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';

export interface HostKey {
  /** As written in known_hosts: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa… */
  type: string;
  /** The raw public key blob (what the server sends). */
  blob: Buffer;
}

export type HostKeyStatus = { status: 'known' } | { status: 'unknown' } | { status: 'changed'; line: number } | { status: 'revoked'; line: number };

interface Entry {
  line: number;
  marker?: string;
  patterns: string[];
  type: string;
  blob: Buffer;
}

export function defaultKnownHostsPath(): string {
  return `${homedir()}/.ssh/known_hosts`;
}

/** `host` on port 22, `[host]:port` otherwise: how known_hosts names a host. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** SHA256:… as `ssh-keygen -l` and `ssh` print it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside the blob (the first SSH string). */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** ED25519, ECDSA, RSA: how `ssh` names key types in its messages. */
export function typeLabel(type: string): string {
  if (type.includes('ed25519')) return 'ED25519';
  if (type.startsWith('ecdsa')) return 'ECDSA';
  if (type.includes('rsa')) return 'RSA';
  return type;
}

/** The -t argument of ssh-keyscan for this key type. */
export function keyscanType(type: string): string {
  if (type.includes('ed25519')) return 'ed25519';
  if (type.startsWith('ecdsa')) return 'ecdsa';
  if (type.includes('rsa')) return 'rsa';
  return type;
}

function parse(text: string): Entry[] {
  const out: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    if (fields.length < 3) return;
    const [hosts, type, key] = fields;
    out.push({ line: i + 1, marker, patterns: hosts.split(','), type, blob: Buffer.from(key, 'base64') });
  });
  return out;
}

function wildcard(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

function hashedMatch(pattern: string, name: string): boolean {
  // |1|salt|hash: HMAC-SHA1 of the name keyed by the salt (HashKnownHosts yes).
  const [, , salt, hash] = pattern.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

function entryMatches(e: Entry, name: string): boolean {
  let matched = false;
  for (const p of e.patterns) {
    if (p.startsWith('|1|')) {
      if (hashedMatch(p, name)) matched = true;
    } else if (p.startsWith('!')) {
      if (wildcard(p.slice(1), name)) return false;
    } else if (wildcard(p, name)) matched = true;
  }
  return matched;
}

export class KnownHosts {
  private constructor(
    readonly path: string,
    private readonly entries: Entry[],
  ) {}

  /** A missing file is an empty one: every host is then unknown. */
  static load(path: string): KnownHosts {
    return new KnownHosts(path, existsSync(path) ? parse(readFileSync(path, 'utf8')) : []);
  }

  private forHost(host: string, port: number): Entry[] {
    const name = hostPattern(host, port);
    return this.entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e, name));
  }

  /** Key types known for this host: offered first, so the server shows the key known here. */
  typesFor(host: string, port: number): string[] {
    return [...new Set(this.forHost(host, port).filter((e) => !e.marker).map((e) => e.type))];
  }

  check(host: string, port: number, key: HostKey): HostKeyStatus {
    const entries = this.forHost(host, port);
    const revoked = entries.find((e) => e.marker === '@revoked' && e.blob.equals(key.blob));
    if (revoked) return { status: 'revoked', line: revoked.line };
    const plain = entries.filter((e) => !e.marker);
    if (plain.some((e) => e.blob.equals(key.blob))) return { status: 'known' };
    if (plain.length) return { status: 'changed', line: plain[0].line };
    return { status: 'unknown' };
  }

  /** Trust a key from now on, as `ssh` does when its user answers "yes". */
  static add(path: string, host: string, port: number, key: HostKey): void {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const prefix = existsSync(path) && !readFileSync(path, 'utf8').endsWith('\n') && readFileSync(path, 'utf8').length ? '\n' : '';
    appendFileSync(path, `${prefix}${hostPattern(host, port)} ${key.type} ${key.blob.toString('base64')}\n`, { mode: 0o600 });
  }
}
