/**
 * Job specs as the UI sends them refer to saved connections by URL and never
 * carry a password. Before planning or running, each endpoint's password (a
 * session password, a safeStorage one, or one written in an imported URL) is
 * handed to the engine through a process environment variable named in the
 * URL's `passwordEnv`: the spec the runner records holds only that name.
 */
import { createHash } from 'node:crypto';
import type { JobSpec } from '../../shared/jobSpec.js';
import type { ApiContext } from './context.js';
import { sshSecretsOf } from './connections/sshSecrets.js';

type Endpoint = JobSpec['source'];

function isServerUrl(url: string): boolean {
  return /^(postgres|postgresql|mysql|mariadb):\/\//i.test(url);
}

/** The URL without a password, and the password that was in it. */
export function splitPassword(url: string): { url: string; password?: string } {
  if (!isServerUrl(url)) return { url };
  const u = new URL(url);
  if (!u.password) return { url };
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), password };
}

/** A spec safe to store: no endpoint URL holds a password. */
export function withoutPasswords(spec: JobSpec): JobSpec {
  return {
    ...spec,
    source: { ...spec.source, url: splitPassword(spec.source.url).url },
    target: { ...spec.target, url: splitPassword(spec.target.url).url },
  };
}

export function resolveSpec(ctx: ApiContext, spec: JobSpec): JobSpec {
  return { ...spec, source: resolveEndpoint(ctx, spec.source), target: resolveEndpoint(ctx, spec.target) };
}

const ENV_PREFIX = 'DBFERRY_PASSWORD_';
const SSH_PASSPHRASE_PREFIX = 'DBFERRY_SSH_PASSPHRASE_';

/**
 * Before resuming a run recorded by this app: its stored spec names
 * DBFERRY_PASSWORD_… (and DBFERRY_SSH_PASSPHRASE_…) variables; fill them
 * again from the saved connections and remembered passphrases (the process
 * may have restarted since).
 */
export function provideStoredPasswords(ctx: ApiContext, specJson: string): void {
  let spec: { source?: { url?: unknown; ssh?: { passphraseEnv?: unknown } }; target?: { url?: unknown; ssh?: { passphraseEnv?: unknown } } };
  try {
    spec = JSON.parse(specJson) as typeof spec;
  } catch {
    return;
  }
  for (const ep of [spec.source, spec.target]) {
    if (typeof ep?.url !== 'string' || !isServerUrl(ep.url)) continue;
    const u = new URL(ep.url);
    const ours = u.searchParams.get('passwordEnv')?.startsWith(ENV_PREFIX);
    if (ours) u.searchParams.delete('passwordEnv');
    provideSshPassphrase(ctx, u.toString(), ep.ssh?.passphraseEnv);
    if (ours) resolveEndpoint(ctx, { url: u.toString() });
  }
}

/** A remembered SSH key passphrase, into the variable a recorded run names (DBFERRY_SSH_PASSPHRASE_…), when the process no longer has it. */
function provideSshPassphrase(ctx: ApiContext, url: string, envName: unknown): void {
  if (typeof envName !== 'string' || !envName.startsWith(SSH_PASSPHRASE_PREFIX) || process.env[envName] !== undefined) return;
  const connection = ctx.connections.findByUrl(url);
  const passphrase = connection ? sshSecretsOf(ctx, connection.id)?.passphrase : undefined;
  if (passphrase !== undefined) process.env[envName] = passphrase;
}

function resolveEndpoint(ctx: ApiContext, endpoint: Endpoint): Endpoint {
  if (!isServerUrl(endpoint.url)) return endpoint;
  const { url, password: written } = splitPassword(endpoint.url);
  const connection = ctx.connections.findByUrl(url);
  const password = written ?? (connection ? ctx.secrets.get(connection.id) : undefined);
  // A saved connection's SSH tunnel goes with it into every job that names it.
  const ssh = withTypedSshSecrets(endpoint.ssh ?? connection?.ssh ?? undefined, connection ? sshSecretsOf(ctx, connection.id) : undefined, url);
  if (password === undefined) return { ...endpoint, url, ssh };
  const u = new URL(url);
  const envName = `${ENV_PREFIX}${createHash('sha256').update(url).digest('hex').slice(0, 12).toUpperCase()}`;
  process.env[envName] = password;
  u.searchParams.set('passwordEnv', envName);
  return { ...endpoint, url: u.toString(), ssh };
}

/** SSH secrets typed in the app reach the engine as environment variables named in the spec, as passwords do. */
function withTypedSshSecrets(ssh: Endpoint['ssh'], typed: { password?: string; passphrase?: string } | undefined, url: string): Endpoint['ssh'] {
  if (!ssh || !typed) return ssh;
  const tag = createHash('sha256').update(`${url} ${ssh.user}@${ssh.host}:${ssh.port}`).digest('hex').slice(0, 12).toUpperCase();
  const out = { ...ssh };
  if (typed.password !== undefined) {
    process.env[`DBFERRY_SSH_PASSWORD_${tag}`] = typed.password;
    out.passwordEnv = `DBFERRY_SSH_PASSWORD_${tag}`;
  }
  if (typed.passphrase !== undefined && ssh.privateKey) {
    process.env[`${SSH_PASSPHRASE_PREFIX}${tag}`] = typed.passphrase;
    out.passphraseEnv = `${SSH_PASSPHRASE_PREFIX}${tag}`;
  }
  return out;
}

/**
 * Why a spec cannot be queued (dbferry ui --queue): a queued run gets its
 * passwords on the worker, so an endpoint whose password this app holds (a
 * saved connection's, or one written in the URL) would reach the worker
 * without it, and a password must never be written to Redis.
 */
export function queueingProblems(ctx: ApiContext, spec: JobSpec): string[] {
  const problems: string[] = [];
  for (const role of ['source', 'target'] as const) {
    const url = spec[role].url;
    if (!isServerUrl(url)) continue;
    const { url: bare, password: written } = splitPassword(url);
    const connection = ctx.connections.findByUrl(bare);
    const ssh = spec[role].ssh ?? connection?.ssh ?? undefined;
    const sshHeld = connection && ssh ? sshSecretsOf(ctx, connection.id) : undefined;
    // A passphrase the spec names (a variable, a keychain entry) is the worker's to find; one only this app holds is not.
    if (sshHeld?.passphrase !== undefined && ssh?.privateKey && !ssh.passphraseEnv && !ssh.passphraseKeychain) {
      problems.push(
        `the ${role}'s SSH key passphrase (connection "${connection!.name}") is kept only by this app; queued runs get secrets on the worker: ` +
          'name an environment variable that holds it ("passphraseEnv") or its OS keychain entry ("passphraseKeychain") in the job\'s "ssh" settings, set on every worker',
      );
    }
    if (sshHeld?.password !== undefined && !ssh?.passwordEnv) {
      problems.push(
        `the ${role}'s SSH password (connection "${connection!.name}") is kept only by this app for this session; queued runs get secrets on the worker: ` +
          'name an environment variable that holds it ("passwordEnv") in the job\'s "ssh" settings, set on every worker',
      );
    }
    const held = written ?? (connection ? ctx.secrets.get(connection.id) : undefined);
    if (held === undefined) continue;
    problems.push(
      `the ${role}'s password ${written ? 'is written in its URL' : `of the connection "${connection!.name}" is kept only by this app`}; ` +
        'queued runs get passwords on the worker: add ?passwordEnv=NAME to the connection URL (without the password) and set NAME in every worker\'s environment',
    );
  }
  return problems;
}
