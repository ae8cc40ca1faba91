/** The connection form's fields, and the URL they make (never with the password in it). */
import { parseConnectionUrl, type Engine } from '../../../../shared/connectionUrl';
import type { ConnectionDto } from '../../../../shared/api';
import type { SshSpec } from '../../../../shared/jobSpec';

/** The SSH tunnel part of the form. Secrets are named (files, environment variables), never typed here. */
export interface SshFields {
  enabled: boolean;
  host: string;
  port: string;
  user: string;
  auth: 'agent' | 'key' | 'password';
  privateKey: string;
  /** Where the key's passphrase, or the password, comes from: a variable, or typed for this session. */
  secretMode: 'env' | 'typed';
  passphraseEnv: string;
  passwordEnv: string;
  /** Typed for this session: sent to the main process, kept in memory there, never saved. */
  secret: string;
  knownHosts: string;
  /** The main process already holds a typed secret for this connection. */
  secretKnown: boolean;
  /** Keep the key's passphrase across restarts (encrypted store or OS keychain, where the app offers one). */
  remember: boolean;
}

export function emptySsh(): SshFields {
  return {
    enabled: false,
    host: '',
    port: '22',
    user: '',
    auth: 'key',
    privateKey: '~/.ssh/id_ed25519',
    secretMode: 'env',
    passphraseEnv: '',
    passwordEnv: '',
    secret: '',
    knownHosts: '',
    secretKnown: false,
    remember: false,
  };
}

function sshFieldsFrom(ssh: SshSpec | undefined, typed: boolean, remembered = false): SshFields {
  if (!ssh) return emptySsh();
  return {
    ...emptySsh(),
    enabled: true,
    secretMode: typed ? 'typed' : 'env',
    secretKnown: typed,
    remember: remembered,
    host: ssh.host,
    port: String(ssh.port),
    user: ssh.user,
    auth: ssh.privateKey ? 'key' : ssh.passwordEnv ? 'password' : 'agent',
    privateKey: ssh.privateKey ?? emptySsh().privateKey,
    passphraseEnv: ssh.passphraseEnv ?? '',
    passwordEnv: ssh.passwordEnv ?? '',
    knownHosts: ssh.knownHosts ?? '',
  };
}

/** An SSH password or passphrase typed in the form, for the session: what the API takes. */
export function sshTyped(f: ConnectionFields): { sshPassword?: string; sshPassphrase?: string } {
  const s = f.ssh;
  if (!s.enabled || s.secretMode !== 'typed' || !s.secret) return {};
  if (s.auth === 'password') return { sshPassword: s.secret };
  if (s.auth === 'key') return { sshPassphrase: s.secret };
  return {};
}

/** Whether the saved connection keeps its key's passphrase ("Remember passphrase"): only a typed one for a key. */
export function sshRemember(f: ConnectionFields): { sshRememberPassphrase?: boolean } {
  const s = f.ssh;
  if (!s.enabled || f.engine === 'sqlite') return {};
  return { sshRememberPassphrase: s.auth === 'key' && s.secretMode === 'typed' && s.remember };
}

/** The job spec's "ssh" block the form makes, or undefined without a tunnel. */
export function sshOf(f: ConnectionFields): SshSpec | undefined {
  const s = f.ssh;
  if (!s.enabled || f.engine === 'sqlite') return undefined;
  const opt = (v: string) => (v.trim() ? v.trim() : undefined);
  return {
    host: s.host.trim(),
    port: Number(s.port) || 22,
    user: s.user.trim(),
    privateKey: s.auth === 'key' ? opt(s.privateKey) : undefined,
    passphraseEnv: s.auth === 'key' && s.secretMode === 'env' ? opt(s.passphraseEnv) : undefined,
    passwordEnv: s.auth === 'password' && s.secretMode === 'env' ? opt(s.passwordEnv) : undefined,
    agent: s.auth === 'agent' ? true : undefined,
    knownHosts: opt(s.knownHosts),
  };
}

export interface ConnectionFields {
  engine: Engine;
  name: string;
  host: string;
  port: string;
  database: string;
  user: string;
  password: string;
  passwordMode: 'typed' | 'env' | 'none';
  passwordEnv: string;
  sslmode: string;
  sslrootcert: string;
  path: string;
  readonly: boolean;
  ssh: SshFields;
}

export const DEFAULT_PORT: Record<Engine, string> = { postgres: '5432', mysql: '3306', sqlite: '' };

export function emptyFields(engine: Engine = 'postgres'): ConnectionFields {
  return {
    engine,
    name: '',
    host: '127.0.0.1',
    port: DEFAULT_PORT[engine],
    database: '',
    user: engine === 'postgres' ? 'postgres' : engine === 'mysql' ? 'root' : '',
    password: '',
    passwordMode: 'typed',
    passwordEnv: '',
    sslmode: engine === 'postgres' ? 'prefer' : '',
    sslrootcert: '',
    path: '',
    readonly: false,
    ssh: emptySsh(),
  };
}

export function fieldsFrom(c: ConnectionDto): ConnectionFields {
  const f = emptyFields(c.engine);
  return {
    ...f,
    name: c.name,
    host: c.host ?? f.host,
    port: c.port ? String(c.port) : f.port,
    database: c.database ?? '',
    user: c.user ?? '',
    passwordMode: c.passwordSource === 'env' ? 'env' : c.passwordSource === 'none' ? 'none' : 'typed',
    passwordEnv: c.passwordEnv ?? '',
    sslmode: c.params.sslmode ?? (c.engine === 'postgres' ? 'prefer' : ''),
    sslrootcert: c.params.sslrootcert ?? '',
    path: c.path ?? '',
    readonly: c.params.mode === 'ro',
    ssh: sshFieldsFrom(c.ssh, Boolean(c.sshSecretTyped), Boolean(c.sshPassphraseRemembered)),
  };
}

/** Fill the form from a pasted URL; a password in it lands in the password field. */
export function fieldsFromUrl(url: string, current: ConnectionFields): ConnectionFields {
  const info = parseConnectionUrl(url.trim());
  if (info.engine === 'sqlite') return { ...current, engine: 'sqlite', path: info.path, readonly: Boolean(info.readonly) };
  return {
    ...current,
    engine: info.engine,
    host: info.host,
    port: String(info.port),
    database: info.database ?? '',
    user: info.user ?? '',
    password: info.password ?? current.password,
    passwordMode: info.passwordEnv ? 'env' : info.password ? 'typed' : current.passwordMode,
    passwordEnv: info.passwordEnv ?? current.passwordEnv,
    sslmode: info.params.sslmode ?? current.sslmode,
    sslrootcert: info.params.sslrootcert ?? current.sslrootcert,
  };
}

export function urlOf(f: ConnectionFields): string {
  if (f.engine === 'sqlite') {
    const p = f.path.trim();
    const url = p.startsWith('/') ? `sqlite://${p}` : `sqlite:${p}`;
    return f.readonly ? `${url}?mode=ro` : url;
  }
  const params = new URLSearchParams();
  if (f.sslmode && !(f.engine === 'postgres' && f.sslmode === 'prefer')) params.set('sslmode', f.sslmode);
  if (f.sslrootcert.trim() && f.sslmode.startsWith('verify')) params.set('sslrootcert', f.sslrootcert.trim());
  const user = f.user.trim() ? `${encodeURIComponent(f.user.trim())}@` : '';
  const host = f.host.trim().includes(':') ? `[${f.host.trim()}]` : f.host.trim() || '127.0.0.1';
  const port = f.port.trim() || DEFAULT_PORT[f.engine];
  const q = params.toString();
  return `${f.engine}://${user}${host}:${port}/${encodeURIComponent(f.database.trim())}${q ? `?${q}` : ''}`;
}

export function suggestName(f: ConnectionFields): string {
  if (f.engine === 'sqlite') return f.path.split(/[\\/]/).pop()?.replace(/\.(db|sqlite3?)$/i, '') ?? '';
  return f.database ? `${f.database} on ${f.host}` : f.host;
}
