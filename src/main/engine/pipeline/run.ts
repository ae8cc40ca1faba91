/**
 * A run: plan → stage every table → apply all in one transaction → verify.
 * The engine knows nothing of the store: it reports through the context's
 * callbacks, and whoever called it (CLI, app) persists what it needs.
 */
import { redactUrl } from '../../../shared/connectionUrl.js';
import type { RunEvent, RunSummary, TablePhase, TableSummary } from '../../../shared/events.js';
import type { JobSpec } from '../../../shared/jobSpec.js';
import { FerryError, errorMessage } from '../errors.js';
import { STAGING_PREFIX, stagingTableName } from '../naming.js';
import type { Row, TableName } from '../types.js';
import { applyAll, type BackupRecord, type StagedTable } from './apply.js';
import { Endpoint } from './endpoint.js';
import { describeLimit, overInvalidLimit } from './limits.js';
import { assertPlanOk, buildPlan, type TablePlan } from './plan.js';
import { Progress } from './progress.js';
import type { RetryPolicy } from './retry.js';
import { createStagingTable, stageTable, type StageCheckpoint } from './stage.js';
import { deadKey, verifyTable } from './verify.js';

export interface TableCheckpoint {
  staging: string;
  checkpoint: StageCheckpoint;
  done: boolean;
}

export interface DeadLetter {
  tableIndex: number;
  table: string;
  columns: string[];
  key?: Row;
  row: Row;
  reasons: string[];
  stage: 'stage' | 'validate' | 'apply';
}

export interface RunContext {
  runId: string;
  baseDir: string;
  signal?: AbortSignal;
  /** Checkpoints of an interrupted run being resumed, by table index. */
  resume?: Map<number, TableCheckpoint>;
  emit(event: RunEvent): void;
  checkpoint?(tableIndex: number, c: TableCheckpoint): void;
  deadLetter?(d: DeadLetter): void;
  /** Backups taken by this run; returns older backup tables to drop (options.backups.keep). */
  backups?(records: BackupRecord[]): TableName[];
  /** May a staging table left in the target by an earlier run be dropped? (false: it is resumable) */
  isAbandoned?(stagingTable: string): boolean;
  /** Rows to stage instead of reading the source table (dead-letter retry). */
  rowsFor?(plan: TablePlan): AsyncIterable<Row[]> | undefined;
}

interface TableState {
  plan: TablePlan;
  summary: TableSummary;
  startedAt: number;
  deadKeys: Set<string>;
}

export async function runJob(spec: JobSpec, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const { runId } = ctx;
  ctx.emit({ type: 'run-started', runId, job: spec.name, source: redactUrl(spec.source.url), target: redactUrl(spec.target.url), at: new Date(started).toISOString() });
  const tables: TableState[] = [];
  const endpoints: Endpoint[] = [];
  const staged: StagedTable[] = [];
  let target: Endpoint | undefined;
  const { signal, timedOut, dispose } = runSignal(ctx.signal, spec.options.timeouts.runMs);
  const retry: RetryPolicy = {
    max: spec.options.retries.max,
    baseDelayMs: spec.options.retries.baseDelayMs,
    signal,
    onRetry: (attempt, delayMs, err) => ctx.emit({ type: 'retry', runId, attempt, delayMs, message: errorMessage(err) }),
  };
  const summarize = (status: RunSummary['status'], error?: string, errorKind?: string): RunSummary => {
    const list = tables.map((t) => t.summary);
    return {
      type: 'summary',
      runId,
      status,
      rowsRead: list.reduce((n, t) => n + t.rowsRead, 0),
      rowsWritten: list.reduce((n, t) => n + t.rowsWritten, 0),
      rowsDeadLettered: list.reduce((n, t) => n + t.rowsDeadLettered, 0),
      durationMs: Date.now() - started,
      tables: list,
      ...(error ? { error } : {}),
      ...(errorKind ? { errorKind } : {}),
    };
  };
  const setPhase = (t: TableState, phase: TablePhase) => {
    t.summary.phase = phase;
    t.summary.durationMs = Date.now() - t.startedAt;
  };
  const warn = (message: string, table?: string) => ctx.emit({ type: 'warning', runId, table, message });

  try {
    const open = (role: 'source' | 'target') =>
      Endpoint.open(spec[role].url, { baseDir: ctx.baseDir, role, schema: spec[role].schema, statementTimeoutMs: spec.options.timeouts.statementMs });
    const source = await open('source');
    endpoints.push(source);
    target = await open('target');
    endpoints.push(target);

    const plan = await buildPlan(spec, source.session, target.session);
    ctx.emit({ type: 'plan', runId, tables: plan.tables.map((t) => t.planned), warnings: plan.warnings });
    for (const w of plan.warnings) warn(w);
    assertPlanOk(plan);
    await dropAbandonedStaging(target, ctx, warn);
    for (const p of plan.tables) {
      tables.push({
        plan: p,
        startedAt: Date.now(),
        deadKeys: new Set(),
        summary: { source: p.sourceLabel, target: p.targetLabel, mode: p.mode, phase: 'pending', rowsRead: 0, rowsWritten: 0, rowsDeadLettered: 0, created: p.createTarget, durationMs: 0 },
      });
    }

    // One snapshot for every table read in this run (and for verification).
    await source.session.beginSnapshot();
    let rejectedTotal = 0;
    let readTotal = 0;
    for (const t of tables) {
      abortIfCancelled(signal, timedOut);
      const p = t.plan;
      const staging = { schema: p.targetName.schema, name: stagingTableName(runId, p.index) };
      const resumed = ctx.resume?.get(p.index);
      staged.push({ plan: p, staging });
      t.startedAt = Date.now();
      if (resumed?.done) {
        Object.assign(t.summary, { rowsRead: resumed.checkpoint.rowsRead, rowsWritten: resumed.checkpoint.rowsWritten, rowsDeadLettered: resumed.checkpoint.rowsRejected });
        readTotal += resumed.checkpoint.rowsRead;
        rejectedTotal += resumed.checkpoint.rowsRejected;
        setPhase(t, 'staged');
        ctx.emit({ type: 'table-staged', runId, table: p.sourceLabel, rowsRead: t.summary.rowsRead, rowsWritten: t.summary.rowsWritten, durationMs: 0 });
        continue;
      }
      setPhase(t, 'staging');
      ctx.emit({ type: 'table-started', runId, table: p.sourceLabel, target: p.targetLabel, estimate: p.estimate });
      if (!resumed) await createStagingTable(p, target.session, staging);
      const progress = new Progress();
      const result = await stageTable(p, source, target, staging, {
        signal,
        batchRows: spec.options.batch.maxRows,
        retry,
        resume: resumed?.checkpoint,
        rows: ctx.rowsFor?.(p),
        onBatch: (c) => {
          Object.assign(t.summary, { rowsRead: c.rowsRead, rowsWritten: c.rowsWritten, rowsDeadLettered: c.rowsRejected });
          ctx.checkpoint?.(p.index, { staging: staging.name, checkpoint: c, done: false });
          if (progress.due()) {
            ctx.emit({ type: 'progress', runId, table: p.sourceLabel, phase: 'staging', rowsRead: c.rowsRead, rowsWritten: c.rowsWritten, estimate: p.estimate, rowsPerSecond: progress.rate(c.rowsRead) });
          }
        },
        onRejected: (row, reason) => {
          rejectedTotal++;
          const keyIdx = p.orderBy.map((k) => p.columns.findIndex((c) => c.name === k));
          const key = keyIdx.length ? keyIdx.map((i) => row[i]) : undefined;
          if (key) t.deadKeys.add(deadKey(key));
          ctx.deadLetter?.({ tableIndex: p.index, table: p.sourceLabel, columns: p.columns.map((c) => c.name), key, row, reasons: [reason], stage: 'stage' });
          if (spec.options.onInvalidRow === 'fail') {
            throw new FerryError('data', `${p.sourceLabel}: the target refused a row${key ? ` (key ${key.map(String).join(', ')})` : ''}: ${reason}`, {
              hint: 'options.onInvalidRow is "fail"; set it to "dead-letter" to keep going and collect such rows',
            });
          }
          if (typeof spec.options.maxInvalidRows === 'number' && rejectedTotal > spec.options.maxInvalidRows) {
            throw new FerryError('data', `more than ${describeLimit(spec.options)} were refused by the target (last: ${reason})`, {
              hint: 'the target was left as it was; the refused rows are in the dead-letter queue',
            });
          }
        },
        onWarning: (m) => warn(m, p.sourceLabel),
      });
      readTotal += result.rowsRead;
      Object.assign(t.summary, { rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, rowsDeadLettered: result.rowsRejected });
      setPhase(t, 'staged');
      ctx.checkpoint?.(p.index, { staging: staging.name, checkpoint: result, done: true });
      ctx.emit({ type: 'progress', runId, table: p.sourceLabel, phase: 'staged', rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, estimate: result.rowsRead, rowsPerSecond: progress.rate(result.rowsRead) });
      ctx.emit({ type: 'table-staged', runId, table: p.sourceLabel, rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, durationMs: Date.now() - t.startedAt });
    }
    if (overInvalidLimit(spec.options, rejectedTotal, readTotal)) {
      throw new FerryError('data', `${rejectedTotal} of ${readTotal} rows were refused, more than options.maxInvalidRows (${describeLimit(spec.options)})`, {
        hint: 'the target was left as it was; see the rows with `dbferry dead-letters list`',
      });
    }

    abortIfCancelled(signal, timedOut);
    const applyStarted = Date.now();
    for (const t of tables) setPhase(t, 'applying');
    ctx.emit({ type: 'apply-started', runId, tables: tables.map((t) => t.plan.targetLabel) });
    const backups = await applyAll(target, staged, {
      runId,
      options: spec.options,
      retry,
      onWarning: (m) => warn(m),
      onApplied: (s, counts) => {
        setPhase(tables.find((x) => x.plan === s.plan)!, 'applied');
        ctx.emit({ type: 'table-applied', runId, table: s.plan.sourceLabel, ...counts });
      },
    });
    ctx.emit({ type: 'apply-committed', runId, durationMs: Date.now() - applyStarted });
    await dropStaging(target, staged);
    const prune = ctx.backups?.(backups) ?? [];
    for (const name of prune) await target.session.dropTable(name).catch((err) => warn(`could not drop old backup ${name.name}: ${errorMessage(err)}`));

    let mismatched = false;
    if (spec.options.verify !== 'none') {
      for (const t of tables) {
        setPhase(t, 'verifying');
        const v = await verifyTable(t.plan, source.session, target.session, spec.options.verify, { batchRows: spec.options.batch.maxRows, signal, deadLettered: t.summary.rowsDeadLettered, deadKeys: t.deadKeys });
        t.summary.verified = v.ok ? v.method : 'mismatch';
        mismatched ||= !v.ok;
        ctx.emit({ type: 'verify', runId, table: t.plan.sourceLabel, ...v });
      }
    }
    await source.session.endSnapshot();
    for (const t of tables) {
      if (spec.options.verify === 'none') t.summary.verified = 'skipped';
      setPhase(t, 'done');
    }
    const summary = mismatched
      ? summarize('failed', 'verification found differences between source and target (see the verify events); the data is applied, `dbferry backups restore` undoes it', 'verify')
      : summarize(tables.some((t) => t.summary.rowsDeadLettered > 0) ? 'dead-lettered' : 'succeeded');
    ctx.emit(summary);
    return summary;
  } catch (err) {
    const cancelled = err instanceof FerryError && err.kind === 'cancelled';
    // A cancelled run keeps its staging tables and checkpoints: `resume` continues it.
    if (target && !cancelled) await dropStaging(target, staged);
    for (const t of tables) if (t.summary.phase !== 'done') setPhase(t, 'failed');
    const message = errorMessage(err);
    if (!cancelled) ctx.emit({ type: 'error', runId, message });
    const summary = summarize(cancelled ? 'cancelled' : 'failed', message, err instanceof FerryError ? err.kind : 'internal');
    ctx.emit(summary);
    return summary;
  } finally {
    dispose();
    await Promise.allSettled(endpoints.map((e) => e.close()));
  }
}

/** Combine the caller's cancel signal with options.timeouts.runMs. */
function runSignal(outer: AbortSignal | undefined, runMs: number): { signal: AbortSignal; timedOut: () => boolean; dispose(): void } {
  const controller = new AbortController();
  let expired = false;
  const onAbort = () => controller.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  if (outer?.aborted) controller.abort();
  const timer = runMs > 0 ? setTimeout(() => ((expired = true), controller.abort()), runMs) : undefined;
  return {
    signal: controller.signal,
    timedOut: () => expired,
    dispose: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

function abortIfCancelled(signal: AbortSignal, timedOut: () => boolean): void {
  if (!signal.aborted) return;
  if (timedOut()) throw new FerryError('timeout', 'the run took longer than options.timeouts.runMs and was stopped; the target was left as it was');
  throw new FerryError('cancelled', 'the run was cancelled');
}

async function dropStaging(target: Endpoint, staged: StagedTable[]): Promise<void> {
  for (const s of staged) await target.session.dropTable(s.staging).catch(() => undefined);
  staged.length = 0;
}

/** Staging tables a crashed run left behind, that no resumable run still needs. */
async function dropAbandonedStaging(target: Endpoint, ctx: RunContext, warn: (m: string) => void): Promise<void> {
  if (!ctx.isAbandoned) return;
  const all = await target.session.listTables();
  for (const t of all) {
    if (!t.name.startsWith(`${STAGING_PREFIX}stg_`) || !ctx.isAbandoned(t.name)) continue;
    await target.session.dropTable(t).then(
      () => warn(`dropped ${t.name}, a staging table an interrupted run left behind`),
      (err) => warn(`could not drop the leftover staging table ${t.name}: ${errorMessage(err)}`),
    );
  }
}
