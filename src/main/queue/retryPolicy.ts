/**
 * When the scheduler tries a failed run again. A run already retries dropped
 * connections, deadlocks and timeouts itself (options.retries, seconds apart);
 * a scheduled run that failed all the same met something longer, a server
 * restarting or a network down for minutes. So the scheduler tries the job
 * again a few times, minutes apart, and never past the next regular slot: it
 * does not stack runs. Failures that another try cannot fix (a wrong spec, a
 * missing table, a refused login, rows beyond maxInvalidRows) are not retried.
 */
import type { RunSummary } from '../../shared/events.js';

export interface RetryPolicy {
  /** Tries after the first failure; 0 turns scheduler retries off. */
  max: number;
  /** Delay before the first retry; each next one doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { max: 3, baseDelayMs: 60_000, maxDelayMs: 15 * 60_000 };

const LOGIN_REFUSED = /refused (the )?login|access denied|password|SASL|authentication/i;
/** Connection errors that stay until someone changes something: a name, a variable, a certificate. */
const LASTING = /does not exist|not found|is not set|SSL|certificate/i;

/** A failed run another try may get through: it could not reach a server, or a statement timed out. */
export function isTransientFailure(summary: Pick<RunSummary, 'status' | 'errorKind' | 'error'>): boolean {
  if (summary.status !== 'failed') return false;
  if (summary.errorKind === 'timeout') return true;
  return summary.errorKind === 'connection' && !isLoginRefused(summary) && !LASTING.test(summary.error ?? '');
}

export function isLoginRefused(summary: Pick<RunSummary, 'errorKind' | 'error'>): boolean {
  return summary.errorKind === 'connection' && LOGIN_REFUSED.test(summary.error ?? '');
}

/** The delay before retry number `attempt` (1-based): base, 2×base, 4×base… capped. */
export function retryDelayMs(attempt: number, policy: RetryPolicy = DEFAULT_RETRY): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}
