/**
 * Saved connections. The URL column never holds a password: a password is
 * either named by `password_env`, encrypted in `secret` by the desktop app's
 * safeStorage, or (browser mode) kept in memory for the session only.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Engine } from '../../shared/connectionUrl.js';
import type { SshSpec } from '../../shared/jobSpec.js';
import { now } from './store.js';

export interface ConnectionRecord {
  id: string;
  name: string;
  engine: Engine;
  url: string;
  passwordEnv: string | null;
  secret: Buffer | null;
  /** The SSH tunnel it goes through: names of secrets only, never a secret. */
  ssh: SshSpec | null;
  /** A remembered SSH key passphrase, encrypted by the desktop app's safeStorage; never in clear. */
  sshSecret: Buffer | null;
  createdAt: string;
  updatedAt: string;
}

interface ConnectionRow {
  id: string;
  name: string;
  engine: Engine;
  url: string;
  password_env: string | null;
  secret: Buffer | null;
  ssh_json: string | null;
  ssh_secret: Buffer | null;
  created_at: string;
  updated_at: string;
}

function toRecord(r: ConnectionRow): ConnectionRecord {
  return {
    id: r.id,
    name: r.name,
    engine: r.engine,
    url: r.url,
    passwordEnv: r.password_env,
    secret: r.secret,
    ssh: r.ssh_json ? (JSON.parse(r.ssh_json) as SshSpec) : null,
    sshSecret: r.ssh_secret ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface ConnectionFields {
  name: string;
  engine: Engine;
  url: string;
  passwordEnv: string | null;
  ssh?: SshSpec | null;
}

function sshJson(fields: ConnectionFields): string | null {
  return fields.ssh && fields.engine !== 'sqlite' ? JSON.stringify(fields.ssh) : null;
}

export class Connections {
  constructor(private readonly db: Database.Database) {}

  list(): ConnectionRecord[] {
    return (this.db.prepare('SELECT * FROM connections ORDER BY name COLLATE NOCASE, created_at').all() as ConnectionRow[]).map(toRecord);
  }

  get(id: string): ConnectionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM connections WHERE id = ?').get(id) as ConnectionRow | undefined;
    return row && toRecord(row);
  }

  /** The saved connection a job spec's URL refers to. */
  findByUrl(url: string): ConnectionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM connections WHERE url = ? ORDER BY created_at LIMIT 1').get(url) as ConnectionRow | undefined;
    return row && toRecord(row);
  }

  create(fields: ConnectionFields): ConnectionRecord {
    const id = randomUUID();
    const at = now();
    this.db
      .prepare('INSERT INTO connections (id, name, engine, url, password_env, secret, ssh_json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)')
      .run(id, fields.name, fields.engine, fields.url, fields.passwordEnv, sshJson(fields), at, at);
    return this.get(id)!;
  }

  update(id: string, fields: ConnectionFields): ConnectionRecord | undefined {
    this.db
      .prepare('UPDATE connections SET name = ?, engine = ?, url = ?, password_env = ?, ssh_json = ?, updated_at = ? WHERE id = ?')
      .run(fields.name, fields.engine, fields.url, fields.passwordEnv, sshJson(fields), now(), id);
    return this.get(id);
  }

  /** Only ever an encrypted blob (desktop app); NULL clears it. */
  setSecret(id: string, encrypted: Buffer | null): void {
    this.db.prepare('UPDATE connections SET secret = ?, updated_at = ? WHERE id = ?').run(encrypted, now(), id);
  }

  /** Only ever an encrypted blob (desktop app); NULL clears it. */
  setSshSecret(id: string, encrypted: Buffer | null): void {
    this.db.prepare('UPDATE connections SET ssh_secret = ?, updated_at = ? WHERE id = ?').run(encrypted, now(), id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM connections WHERE id = ?').run(id).changes > 0;
  }
}
