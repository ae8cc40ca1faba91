/**
 * Which connections of a job a run would log in to without a password
 * dbferry has, and which have one that will not outlive this session. The
 * scheduler runs jobs while nobody is there to type one.
 */
import { redactUrl } from '../../../shared/connectionUrl.js';
import type { JobSpec } from '../../../shared/jobSpec.js';
import type { ApiContext } from '../context.js';
import { splitPassword } from '../specs.js';

interface EndpointPassword {
  /** The saved connection's name, or the URL without secrets. */
  label: string;
  source: 'url' | 'env' | 'saved' | 'session' | 'none';
}

function isServerUrl(url: string): boolean {
  return /^(postgres|postgresql|mysql|mariadb):\/\//i.test(url);
}

function endpointPasswords(ctx: ApiContext, spec: JobSpec): EndpointPassword[] {
  const out: EndpointPassword[] = [];
  for (const endpoint of [spec.source, spec.target]) {
    if (!isServerUrl(endpoint.url)) continue;
    const { url, password } = splitPassword(endpoint.url);
    const connection = ctx.connections.findByUrl(url);
    const label = connection?.name ?? redactUrl(url);
    if (password !== undefined) out.push({ label, source: 'url' });
    else if (connection && ctx.secrets.get(connection.id) !== undefined) out.push({ label, source: ctx.secrets.persistent ? 'saved' : 'session' });
    else if (new URL(url).searchParams.get('passwordEnv')) out.push({ label, source: 'env' });
    else out.push({ label, source: 'none' });
  }
  return out;
}

/** Connections a run would log in to with no password at all (fine for trust or ~/.pgpass setups; otherwise refused). */
export function withoutPassword(ctx: ApiContext, spec: JobSpec): string[] {
  return [...new Set(endpointPasswords(ctx, spec).filter((e) => e.source === 'none').map((e) => e.label))];
}

/** What to fix so that the job's scheduled runs can still log in after a restart. */
export function scheduleWarnings(ctx: ApiContext, spec: JobSpec): string[] {
  return [...new Set(endpointPasswords(ctx, spec).filter((e) => e.source === 'session').map((e) => e.label))].map(
    (label) =>
      `“${label}”: its password is kept for this session only, so scheduled runs after a restart cannot log in. ` +
      'Take it from an environment variable instead (connection form: Password, From an environment variable; in a URL, ?passwordEnv=NAME).',
  );
}
