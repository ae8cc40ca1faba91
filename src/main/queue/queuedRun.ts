/**
 * What a queued run puts in Redis: the job spec without a single password,
 * and, once a worker has started it, its checkpoints and dead letters so that
 * another worker can finish it when this one dies.
 */
import { parseConnectionUrl } from '../../shared/connectionUrl.js';
import type { JobSpec } from '../../shared/jobSpec.js';
import type { PortableRunState, RunLedger } from '../store/portableRunState.js';

export interface QueuedRunData {
  runId: string;
  spec: JobSpec;
  /** Where relative sqlite: paths resolve, as on the machine that queued the run. */
  baseDir: string;
  /** A scheduled run: the slot it was queued for (ISO time). */
  slot?: string;
  /** Who queued it (host), for the listing. */
  queuedBy: string;
  /** Checkpoints and dead letters, from the worker that last ran it. */
  state?: PortableRunState;
  /** The worker that last recorded state. */
  worker?: string;
  /** Queued by an app, which records the run's dead letters and backups in its own store: the worker leaves them in the job at the run's end. */
  wantsLedger?: boolean;
  /** The finished run's dead letters and backup records, until the app that follows it has recorded them. */
  ledger?: RunLedger;
}

/**
 * Why the spec cannot go to the queue (none: it can). Redis is shared and
 * persisted: a password written inline in a URL would sit there for anyone
 * with access, so a queued run names the variable the worker reads it from.
 */
export function secretProblems(spec: JobSpec): string[] {
  const problems: string[] = [];
  for (const role of ['source', 'target'] as const) {
    let info;
    try {
      info = parseConnectionUrl(spec[role].url);
    } catch {
      continue; // the run itself reports a bad URL, as a local run would
    }
    if (info.engine !== 'sqlite' && info.password !== undefined) {
      problems.push(
        `${role}.url has its password inline, and a queued run's spec is stored in Redis: ` +
          `remove the password from the URL and add ?passwordEnv=NAME, then set NAME in each worker's environment ` +
          `(e.g. ${info.engine}://${info.user ?? 'user'}@${info.host}:${info.port}/${info.database ?? ''}?passwordEnv=${role.toUpperCase()}_PASSWORD)`,
      );
    }
  }
  return problems;
}
