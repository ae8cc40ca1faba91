/**
 * Tell someone a run ended: POST its summary as JSON to the job's
 * notify.webhook. A webhook that fails is noted in the job log; it never
 * changes the run's outcome.
 */
import type { RunSummary } from '../../shared/events.js';
import type { JobSpec } from '../../shared/jobSpec.js';

export interface WebhookPayload extends RunSummary {
  job: string;
  source: string;
  target: string;
}

/** Where a webhook goes, without a token that may sit in its path or query. */
export function webhookLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the webhook';
  }
}

export async function sendWebhook(spec: JobSpec, payload: WebhookPayload, timeoutMs = 10_000): Promise<string | undefined> {
  const url = spec.notify?.webhook;
  if (!url) return undefined;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'dbferry' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) return `the webhook at ${webhookLabel(url)} answered ${res.status} ${res.statusText}`;
    return undefined;
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : ((err as { cause?: Error }).cause?.message ?? (err as Error).message);
    return `could not notify the webhook at ${webhookLabel(url)}: ${reason}`;
  }
}
