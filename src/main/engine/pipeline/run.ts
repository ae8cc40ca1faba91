/**
 * A run: plan → stage every table → apply all in one transaction → verify.
 * The engine knows nothing of the store: it reports through `emit` and
 * `checkpoint`, and whoever called it (CLI, app) persists what it needs.
 */
import { redactUrl } from '../../../shared/connectionUrl.js';
import type { RunEvent, RunSummary, TablePhase, TableSummary } from '../../../shared/events.js';
import type { JobSpec } from '../../../shared/jobSpec.js';
import type { Session } from '../dialects/dialect.js';
import { openEndpoint } from '../connect.js';
import { FerryError, errorMessage } from '../errors.js';
import { stagingTableName } from '../naming.js';
import type { Row } from '../types.js';
import { applyAll, type StagedTable } from './apply.js';
import { assertPlanOk, buildPlan, type TablePlan } from './plan.js';
import { Progress } from './progress.js';
import { createStagingTable, stageTable } from './stage.js';
import { verifyTable } from './verify.js';

export interface RunContext {
  runId: string;
  baseDir: string;
  signal?: AbortSignal;
  emit(event: RunEvent): void;
  checkpoint?(c: { tableIndex: number; staging: string; lastKey?: Row; rowsStaged: number; done: boolean }): void;
}

interface TableState {
  plan: TablePlan;
  summary: TableSummary;
  startedAt: number;
}

export async function runJob(spec: JobSpec, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const { runId } = ctx;
  ctx.emit({ type: 'run-started', runId, job: spec.name, source: redactUrl(spec.source.url), target: redactUrl(spec.target.url), at: new Date(started).toISOString() });
  const tables: TableState[] = [];
  const sessions: Session[] = [];
  const staged: StagedTable[] = [];
  let target: Session | undefined;
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

  try {
    const source = await openEndpoint(spec.source.url, { baseDir: ctx.baseDir, role: 'source', schema: spec.source.schema, statementTimeoutMs: spec.options.timeouts.statementMs });
    sessions.push(source);
    target = await openEndpoint(spec.target.url, { baseDir: ctx.baseDir, role: 'target', schema: spec.target.schema, statementTimeoutMs: spec.options.timeouts.statementMs });
    sessions.push(target);

    const plan = await buildPlan(spec, source, target);
    ctx.emit({ type: 'plan', runId, tables: plan.tables.map((t) => t.planned), warnings: plan.warnings });
    for (const w of plan.warnings) ctx.emit({ type: 'warning', runId, message: w });
    assertPlanOk(plan);
    for (const p of plan.tables) {
      tables.push({
        plan: p,
        startedAt: Date.now(),
        summary: { source: p.sourceLabel, target: p.targetLabel, mode: p.mode, phase: 'pending', rowsRead: 0, rowsWritten: 0, rowsDeadLettered: 0, created: p.createTarget, durationMs: 0 },
      });
    }

    // One snapshot for every table read in this run (and for verification).
    await source.beginSnapshot();
    for (const t of tables) {
      abortIfCancelled(ctx.signal);
      const staging = { schema: t.plan.targetName.schema, name: stagingTableName(runId, t.plan.index) };
      t.startedAt = Date.now();
      setPhase(t, 'staging');
      ctx.emit({ type: 'table-started', runId, table: t.plan.sourceLabel, target: t.plan.targetLabel, estimate: t.plan.estimate });
      await createStagingTable(t.plan, target, staging);
      staged.push({ plan: t.plan, staging });
      const progress = new Progress();
      const result = await stageTable(t.plan, source, target, staging, {
        signal: ctx.signal,
        batchRows: spec.options.batch.maxRows,
        onBatch: ({ rowsRead, rowsWritten, lastKey }) => {
          t.summary.rowsRead = rowsRead;
          t.summary.rowsWritten = rowsWritten;
          ctx.checkpoint?.({ tableIndex: t.plan.index, staging: staging.name, lastKey, rowsStaged: rowsWritten, done: false });
          if (progress.due()) {
            ctx.emit({ type: 'progress', runId, table: t.plan.sourceLabel, phase: 'staging', rowsRead, rowsWritten, estimate: t.plan.estimate, rowsPerSecond: progress.rate(rowsWritten) });
          }
        },
      });
      t.summary.rowsRead = result.rowsRead;
      t.summary.rowsWritten = result.rowsWritten;
      setPhase(t, 'staged');
      ctx.checkpoint?.({ tableIndex: t.plan.index, staging: staging.name, rowsStaged: result.rowsWritten, done: true });
      ctx.emit({ type: 'progress', runId, table: t.plan.sourceLabel, phase: 'staged', rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, estimate: result.rowsRead, rowsPerSecond: progress.rate(result.rowsWritten) });
      ctx.emit({ type: 'table-staged', runId, table: t.plan.sourceLabel, rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, durationMs: Date.now() - t.startedAt });
    }

    abortIfCancelled(ctx.signal);
    const applyStarted = Date.now();
    for (const t of tables) setPhase(t, 'applying');
    ctx.emit({ type: 'apply-started', runId, tables: tables.map((t) => t.plan.targetLabel) });
    await applyAll(target, staged, spec.options, (s, counts) => {
      const t = tables.find((x) => x.plan === s.plan)!;
      setPhase(t, 'applied');
      ctx.emit({ type: 'table-applied', runId, table: s.plan.sourceLabel, ...counts });
    });
    ctx.emit({ type: 'apply-committed', runId, durationMs: Date.now() - applyStarted });
    await dropStaging(target, staged);

    let mismatched = false;
    if (spec.options.verify !== 'none') {
      for (const t of tables) {
        setPhase(t, 'verifying');
        const v = await verifyTable(t.plan, source, target, spec.options.verify, { batchRows: spec.options.batch.maxRows, signal: ctx.signal });
        t.summary.verified = v.ok ? v.method : 'mismatch';
        mismatched ||= !v.ok;
        ctx.emit({ type: 'verify', runId, table: t.plan.sourceLabel, ...v });
      }
    }
    await source.endSnapshot();
    for (const t of tables) {
      if (spec.options.verify === 'none') t.summary.verified = 'skipped';
      setPhase(t, 'done');
    }
    if (mismatched) {
      const summary = summarize('failed', 'verification found differences between source and target (see the verify events)');
      ctx.emit(summary);
      return summary;
    }
    const summary = summarize(tables.some((t) => t.summary.rowsDeadLettered > 0) ? 'dead-lettered' : 'succeeded');
    ctx.emit(summary);
    return summary;
  } catch (err) {
    const cancelled = err instanceof FerryError && err.kind === 'cancelled';
    if (target) await dropStaging(target, staged);
    for (const t of tables) if (t.summary.phase !== 'done') setPhase(t, 'failed');
    const message = errorMessage(err);
    if (!cancelled) ctx.emit({ type: 'error', runId, message });
    const summary = summarize(cancelled ? 'cancelled' : 'failed', message, err instanceof FerryError ? err.kind : 'internal');
    ctx.emit(summary);
    return summary;
  } finally {
    await Promise.allSettled(sessions.map((s) => s.close()));
  }
}

function abortIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new FerryError('cancelled', 'the run was cancelled');
}

async function dropStaging(target: Session, staged: StagedTable[]): Promise<void> {
  for (const s of staged) await target.dropTable(s.staging).catch(() => undefined);
  staged.length = 0;
}
