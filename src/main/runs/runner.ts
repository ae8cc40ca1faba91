/**
 * Starts and resumes runs: records each run in the store with every event
 * (the job log), its checkpoints, dead letters and backups, and hands events
 * to the caller (CLI, UI).
 */
import { randomUUID } from 'node:crypto';
import { redactUrl } from '../../shared/connectionUrl.js';
import type { RunEvent, RunSummary } from '../../shared/events.js';
import { jobSpecSchema, type JobSpec } from '../../shared/jobSpec.js';
import type { BackupRecord } from '../engine/pipeline/apply.js';
import { runJob, type RunContext, type TableCheckpoint } from '../engine/pipeline/run.js';
import { tableLabel, type TableName } from '../engine/types.js';
import {
  addBackups,
  addDeadLetter,
  listBackups,
  confirmPendingDeadLetters,
  discardDeadLettersAfter,
  listDeadLetters,
  discardPendingDeadLetters,
  setPendingDeadLetters,
  backupsBeyondKeep,
  clearCheckpoints,
  loadCheckpoints,
  markBackups,
  markInterruptedRuns,
  markRunDeadLetters,
  resumableStagingTables,
  saveCheckpoint,
} from '../store/runState.js';
import type { RunRecord, Store } from '../store/store.js';
import { holdRunLock } from '../store/runLock.js';
import { sendWebhook } from './notify.js';

export interface StartRunOptions {
  baseDir: string;
  jobId?: string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Rows to stage instead of reading the source (dead-letter retry). */
  rowsFor?: RunContext['rowsFor'];
  /** After the store recorded a checkpoint or dead letter (a queued run copies them where other workers find them). */
  onStateSaved?: () => void;
  /** Which leftover staging tables may be dropped (default: those no resumable run of this store needs). */
  isAbandoned?: (stagingTable: string) => boolean;
  /** Is this end the run's end, to tell the webhook? (A queued run handed to another worker is not.) Default: yes. */
  isFinal?: (summary: RunSummary) => boolean;
}

export class RunError extends Error {}

/** The spec as stored: every URL without its password. */
export function redactSpec(spec: JobSpec): JobSpec {
  return { ...spec, source: { ...spec.source, url: redactUrl(spec.source.url) }, target: { ...spec.target, url: redactUrl(spec.target.url) } };
}

export function startRun(store: Store, spec: JobSpec, opts: StartRunOptions): { runId: string; done: Promise<RunSummary> } {
  markInterruptedRuns(store);
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
  return { runId, done: executeRun(store, spec, runId, opts) };
}

/**
 * Continue an interrupted or cancelled run from its checkpoints. The stored
 * spec has no passwords: when a URL had one inline, pass the job file's spec.
 */
export function resumeRun(store: Store, idOrPrefix: string, opts: Omit<StartRunOptions, 'baseDir' | 'jobId'> & { spec?: JobSpec }): { runId: string; done: Promise<RunSummary> } {
  markInterruptedRuns(store);
  const run = store.findRun(idOrPrefix);
  if (!run) throw new RunError(`no run "${idOrPrefix}" in the history (see \`dbferry runs\`)`);
  if (run.status === 'running') throw new RunError(`run ${run.id} is still running in another process`);
  if (run.status !== 'interrupted' && run.status !== 'cancelled') {
    throw new RunError(`run ${run.id} ${run.status === 'failed' ? 'failed and was rolled back' : 'finished'} (${run.status}); there is nothing to resume — start a new run`);
  }
  const spec = resolveSpec(run, opts.spec);
  store.db.prepare("UPDATE runs SET status = 'running', pid = ?, finished_at = NULL WHERE id = ?").run(process.pid, run.id);
  const resume = new Map<number, TableCheckpoint>(loadCheckpoints(store, run.id).map((c) => [c.tableIndex, { staging: c.staging, checkpoint: c.checkpoint, done: c.done, chunks: c.chunks }]));
  return { runId: run.id, done: executeRun(store, spec, run.id, { ...opts, baseDir: run.baseDir }, resume) };
}

function resolveSpec(run: RunRecord, given?: JobSpec): JobSpec {
  const stored = jobSpecSchema.parse(JSON.parse(run.specJson));
  if (given) {
    if (JSON.stringify(redactSpec(given)) !== JSON.stringify(stored)) {
      throw new RunError(`the job file is not the job run ${run.id} was started with; resume needs the same job`);
    }
    return given;
  }
  if (stored.source.url.includes('••••') || stored.target.url.includes('••••')) {
    throw new RunError(`run ${run.id} connects with a password that dbferry does not store; pass the job file: dbferry resume ${run.id.slice(0, 8)} --job JOB.json`);
  }
  return stored;
}

/** Run `runId`, already recorded in the store, to its end (resume: continue from these checkpoints). */
export function executeRun(store: Store, spec: JobSpec, runId: string, opts: StartRunOptions, resume?: Map<number, TableCheckpoint>): Promise<RunSummary> {
  const targetUrl = redactUrl(spec.target.url);
  const resumable = resumableStagingTables(store);
  const record = (event: RunEvent) => {
    // Progress is frequent and transient: the job log keeps the rest.
    if (event.type !== 'progress') store.appendEvent(runId, event);
    if (event.type === 'summary') {
      store.finishRun(event);
      if (event.status !== 'cancelled') clearCheckpoints(store, runId);
      // Nothing of a failed run was applied: its refused rows are kept to look at, not to retry.
      if (event.status === 'failed') markRunDeadLetters(store, runId, 'rolled-back');
    }
    opts.onEvent?.(event);
  };
  const ctx: RunContext = {
    runId,
    baseDir: opts.baseDir,
    signal: opts.signal,
    resume,
    rowsFor: opts.rowsFor,
    // The summary is the run's last word: it waits until the webhook has been told.
    emit: (event) => {
      if (event.type !== 'summary') record(event);
    },
    checkpoint: (tableIndex, c) => {
      saveCheckpoint(store, runId, { tableIndex, staging: c.staging, checkpoint: c.checkpoint, done: c.done, chunks: c.chunks });
      opts.onStateSaved?.();
    },
    deadLetter: (d) => {
      addDeadLetter(store, runId, d);
      opts.onStateSaved?.();
    },
    pendingDeadLetters: (letters) => {
      setPendingDeadLetters(store, runId, letters);
      opts.onStateSaved?.();
    },
    confirmDeadLetters: () => {
      confirmPendingDeadLetters(store, runId);
      opts.onStateSaved?.();
    },
    discardPendingDeadLetters: () => discardPendingDeadLetters(store, runId),
    discardDeadLettersAfter: (tableIndex, after, through) => discardDeadLettersAfter(store, runId, tableIndex, after, through),
    deadLetterKeys: (tableIndex) =>
      listDeadLetters(store, { runId, status: 'open' })
        .filter((d) => d.tableIndex === tableIndex && d.key)
        .map((d) => d.key!),
    backups: (records) => {
      const drop = pruneAndRecord(store, runId, targetUrl, records, spec.options.backups.keep);
      opts.onStateSaved?.();
      return drop;
    },
    isAbandoned: opts.isAbandoned ?? ((name) => !resumable.has(name) && !(resume && [...resume.values()].some((c) => c.staging === name))),
  };
  // Held while this process runs it: `resume` elsewhere tells a live run from a killed one by it.
  const release = holdRunLock(store, runId);
  return runJob(spec, ctx)
    .then(async (summary) => {
      const final = opts.isFinal?.(summary) ?? true;
      const failure = final ? await sendWebhook(spec, { ...summary, job: spec.name, source: redactUrl(spec.source.url), target: targetUrl }) : undefined;
      if (failure) record({ type: 'warning', runId, message: failure });
      record(summary);
      return summary;
    })
    .finally(release);
}

function pruneAndRecord(store: Store, runId: string, targetUrl: string, all: BackupRecord[], keep: number): TableName[] {
  // Resume after a crash between recording them and clearing the target's copy: each once.
  const known = new Set(listBackups(store, { runId }).map((b) => b.targetTable));
  const records = all.filter((r) => !known.has(tableLabel(r.target)));
  addBackups(
    store,
    runId,
    targetUrl,
    records.map((r) => ({ targetTable: tableLabel(r.target), kind: r.kind, record: r })),
  );
  const drop: TableName[] = [];
  for (const r of records) {
    const old = backupsBeyondKeep(store, targetUrl, tableLabel(r.target), keep);
    for (const b of old) {
      const rec = b.record as BackupRecord;
      if (rec.rowsTable) drop.push(rec.rowsTable);
      if (rec.keysTable) drop.push(rec.keysTable);
    }
    markBackups(store, old.map((b) => b.id), 'dropped_at');
  }
  return drop;
}
