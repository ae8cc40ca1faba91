/**
 * Retry transient failures with exponential backoff and jitter, up to
 * `retries.max` times; permanent failures go straight through.
 */
import { FerryError, isTransient } from '../errors.js';

export interface RetryPolicy {
  max: number;
  baseDelayMs: number;
  signal?: AbortSignal;
  onRetry?(attempt: number, delayMs: number, err: unknown): void;
}

export function backoffDelay(attempt: number, baseDelayMs: number): number {
  const exp = baseDelayMs * 2 ** (attempt - 1);
  return Math.round(Math.min(exp, 30_000) * (0.5 + Math.random() / 2));
}

export async function withRetries<T>(policy: RetryPolicy, fn: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= policy.max || !isTransient(err) || policy.signal?.aborted) throw err;
      const delay = backoffDelay(attempt + 1, policy.baseDelayMs);
      policy.onRetry?.(attempt + 1, delay, err);
      await sleep(delay, policy.signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FerryError('cancelled', 'the run was cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new FerryError('cancelled', 'the run was cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

