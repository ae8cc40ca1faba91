/**
 * A run as the monitor shows it, folded from its events. The same fold serves
 * live events and a replay of the stored job log, so a run opened from
 * history looks exactly as it did live.
 */
import { displayUrl } from '../../../../shared/api';
import type { PlannedTable, RunEvent, RunStatus, RunSummary, TablePhase, TableProgress } from '../../../../shared/events';

export interface TableView extends TableProgress {
  source: string;
  target: string;
  mode?: string;
  durationMs?: number;
  inserted?: number;
  updated?: number;
  deleted?: number;
  unchanged?: number;
  /** The path the table takes (fresh copy, swap, in place, delta) and why, once the run compared it. */
  path?: string;
  rowsDeadLettered?: number;
  verify?: { method: string; ok: boolean; sourceRows: number; targetRows: number; mismatches: string[] };
}

export interface Problem {
  at: number;
  level: 'error' | 'warning' | 'retry';
  table?: string;
  message: string;
}

export interface RunView {
  runId: string;
  job?: string;
  source?: string;
  target?: string;
  startedAt?: number;
  lastAt?: number;
  status: RunStatus;
  tables: TableView[];
  planned?: PlannedTable[];
  /** Total rows/s over time, ms since the start. */
  samples: { t: number; rps: number }[];
  problems: Problem[];
  summary?: RunSummary;
}

export function emptyRun(runId: string): RunView {
  return { runId, status: 'running', tables: [], samples: [], problems: [] };
}

function upsertTable(v: RunView, source: string, patch: Partial<TableView>): TableView[] {
  const i = v.tables.findIndex((t) => t.source === source);
  if (i < 0) return [...v.tables, { source, target: source, phase: 'pending', rowsRead: 0, rowsWritten: 0, rowsPerSecond: 0, ...patch }];
  const next = v.tables.slice();
  next[i] = { ...next[i]!, ...patch };
  return next;
}

const MAX_SAMPLES = 900;

function sample(v: RunView, tables: TableView[], at: number): RunView['samples'] {
  const t = at - (v.startedAt ?? at);
  const rps = tables.filter((x) => x.phase === 'staging').reduce((n, x) => n + x.rowsPerSecond, 0);
  const last = v.samples[v.samples.length - 1];
  if (last && t - last.t < 250) return [...v.samples.slice(0, -1), { t: last.t, rps: Math.max(rps, last.rps) }];
  const next = [...v.samples, { t, rps }];
  return next.length > MAX_SAMPLES ? next.filter((_, i) => i % 2 === 0 || i === next.length - 1) : next;
}

export function reduceRun(v: RunView, e: RunEvent, at: number): RunView {
  const base = { ...v, lastAt: at };
  switch (e.type) {
    case 'run-started':
      return { ...base, job: e.job, source: displayUrl(e.source), target: displayUrl(e.target), startedAt: Date.parse(e.at) || at, status: 'running' };
    case 'plan': {
      let tables = base.tables;
      for (const p of e.tables) tables = upsertTable({ ...base, tables }, p.source, { target: p.target, mode: p.mode, estimate: p.estimate });
      const problems = [...base.problems, ...e.warnings.map((message): Problem => ({ at, level: 'warning', message }))];
      return { ...base, planned: e.tables, tables, problems };
    }
    case 'table-started':
      return { ...base, tables: upsertTable(base, e.table, { target: e.target, phase: 'staging', estimate: e.estimate ?? base.tables.find((t) => t.source === e.table)?.estimate }) };
    case 'progress': {
      const tables = upsertTable(base, e.table, {
        phase: e.phase,
        rowsRead: e.rowsRead,
        rowsWritten: e.rowsWritten,
        rowsPerSecond: e.rowsPerSecond,
        rowsVerified: e.rowsVerified,
        rowsApplied: e.rowsApplied,
        step: e.step,
        stepElapsedMs: e.stepElapsedMs,
        etaMs: e.etaMs,
        ...(e.estimate !== undefined ? { estimate: e.estimate } : {}),
      });
      return { ...base, tables, samples: sample(base, tables, at) };
    }
    case 'table-staged': {
      const tables = upsertTable(base, e.table, { phase: 'staged', rowsRead: e.rowsRead, rowsWritten: e.rowsWritten, durationMs: e.durationMs, rowsPerSecond: 0 });
      return { ...base, tables, samples: sample(base, tables, at) };
    }
    case 'apply-started': {
      // Named by target; a table not seen yet is named as given.
      let tables = base.tables;
      for (const name of e.tables) {
        const known = tables.find((t) => t.target === name || t.source === name);
        tables = upsertTable({ ...base, tables }, known?.source ?? name, { phase: 'applying' });
      }
      return { ...base, tables };
    }
    case 'table-applied':
      return { ...base, tables: upsertTable(base, e.table, { phase: 'applied', inserted: e.inserted, updated: e.updated, deleted: e.deleted, unchanged: e.unchanged }) };
    case 'compared':
      return { ...base, tables: upsertTable(base, e.table, { path: e.path }) };
    case 'apply-committed':
    case 'schema-started':
      return base;
    case 'verify':
      return {
        ...base,
        tables: upsertTable(base, e.table, {
          phase: e.ok ? 'done' : 'failed',
          verify: { method: e.method, ok: e.ok, sourceRows: e.sourceRows, targetRows: e.targetRows, mismatches: e.mismatches },
        }),
      };
    case 'warning':
      return { ...base, problems: [...base.problems, { at, level: 'warning', table: e.table, message: e.message }] };
    case 'retry':
      return { ...base, problems: [...base.problems, { at, level: 'retry', table: e.table, message: `retry ${e.attempt} in ${e.delayMs} ms: ${e.message}` }] };
    case 'error':
      return { ...base, problems: [...base.problems, { at, level: 'error', table: e.table, message: e.message }] };
    case 'summary': {
      let tables = base.tables;
      for (const s of e.tables) {
        tables = upsertTable({ ...base, tables }, s.source, {
          target: s.target,
          mode: s.mode,
          phase: s.phase,
          rowsRead: s.rowsRead,
          rowsWritten: s.rowsWritten,
          rowsDeadLettered: s.rowsDeadLettered,
          durationMs: s.durationMs,
          rowsPerSecond: 0,
        });
      }
      const tail = { t: at - (base.startedAt ?? at), rps: 0 };
      return { ...base, status: e.status, summary: e, tables, samples: base.samples.length ? [...base.samples, tail] : base.samples };
    }
  }
}

const PHASE_WEIGHT: Partial<Record<TablePhase, number>> = { staged: 0.9, applying: 0.93, applied: 0.96, verifying: 0.98, done: 1 };

/** How far one table is, 0..1; undefined when it is copying with no row estimate. */
export function tableFraction(t: TableView): number | undefined {
  // Applying moves from staged to applied as the staged rows go in.
  if (t.phase === 'applying' && t.rowsApplied !== undefined && t.estimate) return 0.9 + 0.06 * Math.min(1, t.rowsApplied / t.estimate);
  const w = PHASE_WEIGHT[t.phase];
  if (w !== undefined) return w;
  if (t.phase === 'pending') return 0;
  if (t.phase === 'failed') return t.estimate ? Math.min(1, t.rowsRead / t.estimate) : 0;
  if (!t.estimate) return undefined;
  return Math.min(0.99, t.rowsRead / t.estimate) * 0.9;
}

export function runFraction(v: RunView): number | undefined {
  if (v.status === 'succeeded' || v.status === 'dead-lettered') return 1;
  if (!v.tables.length) return v.status === 'running' ? 0 : undefined;
  const parts = v.tables.map((t) => tableFraction(t) ?? 0.45);
  return parts.reduce((a, b) => a + b, 0) / parts.length;
}

export function etaMs(t: TableView): number | undefined {
  if (t.phase === 'applying') return t.etaMs;
  if (!t.estimate || t.rowsPerSecond <= 0) return undefined;
  if (t.phase === 'verifying' && t.rowsVerified !== undefined) return (Math.max(0, t.estimate - t.rowsVerified) / t.rowsPerSecond) * 1000;
  if (t.phase !== 'staging') return undefined;
  return (Math.max(0, t.estimate - t.rowsRead) / t.rowsPerSecond) * 1000;
}
