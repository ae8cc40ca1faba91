/**
 * Starts a run of a job: records it in the store with every event (the job
 * log) and its checkpoints, and hands events to the caller (CLI, UI).
 */
import { randomUUID } from 'node:crypto';
import { redactUrl } from '../../shared/connectionUrl.js';
import type { RunEvent, RunSummary } from '../../shared/events.js';
import type { JobSpec } from '../../shared/jobSpec.js';
import { runJob } from '../engine/pipeline/run.js';
import type { Store } from '../store/store.js';
import { now } from '../store/store.js';

export interface StartRunOptions {
  baseDir: string;
  jobId?: string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
}

/** The spec as stored: every URL without its password. */
export function redactSpec(spec: JobSpec): JobSpec {
  return { ...spec, source: { ...spec.source, url: redactUrl(spec.source.url) }, target: { ...spec.target, url: redactUrl(spec.target.url) } };
}

export function startRun(store: Store, spec: JobSpec, opts: StartRunOptions): { runId: string; done: Promise<RunSummary> } {
  const runId = randomUUID();
  store.createRun({
    id: runId,
    jobId: opts.jobId,
    jobName: spec.name,
    specJson: JSON.stringify(redactSpec(spec)),
    baseDir: opts.baseDir,
    source: redactUrl(spec.source.url),
    target: redactUrl(spec.target.url),
  });
  const checkpoint = store.db.prepare(
    `INSERT INTO checkpoints (run_id, table_index, chunk, staging_table, last_key_json, rows_staged, done, updated_at)
     VALUES (?, ?, 0, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, table_index, chunk) DO UPDATE SET last_key_json = excluded.last_key_json,
       rows_staged = excluded.rows_staged, done = excluded.done, updated_at = excluded.updated_at`,
  );
  const done = runJob(spec, {
    runId,
    baseDir: opts.baseDir,
    signal: opts.signal,
    emit: (event) => {
      // Progress is frequent and transient: the job log keeps the rest.
      if (event.type !== 'progress') store.appendEvent(runId, event);
      if (event.type === 'summary') store.finishRun(event);
      opts.onEvent?.(event);
    },
    checkpoint: (c) => {
      checkpoint.run(runId, c.tableIndex, c.staging, c.lastKey ? JSON.stringify(c.lastKey, jsonValue) : null, c.rowsStaged, c.done ? 1 : 0, now());
    },
  });
  return { runId, done };
}

/** JSON for key values: bigints as strings, bytes as hex. */
export function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') {
    return { hex: Buffer.from((value as { data: number[] }).data).toString('hex') };
  }
  return value;
}
