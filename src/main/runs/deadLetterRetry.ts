/**
 * Retry dead letters: after the user fixed the target (or the rules), stage
 * the queued rows again — exactly as they were read — and apply them by key
 * (upsert; append when the table has no key). Rows refused again go back to
 * the queue under the retry run; the others leave it.
 */
import type { RunSummary, RunEvent } from '../../shared/events.js';
import { jobSpecSchema, type JobSpec, type TableSpec } from '../../shared/jobSpec.js';
import type { Row } from '../engine/types.js';
import { listDeadLetters, setDeadLetterStatus, type DeadLetterRecord } from '../store/runState.js';
import type { Store } from '../store/store.js';
import { RunError, redactSpec, startRun } from './runner.js';

export function runsWithOpenDeadLetters(store: Store): string[] {
  return store.db.prepare("SELECT DISTINCT run_id FROM dead_letters WHERE status = 'open' ORDER BY id").pluck().all() as string[];
}

export async function retryDeadLetters(
  store: Store,
  runId: string,
  opts: { spec?: JobSpec; signal?: AbortSignal; onEvent?: (e: RunEvent) => void },
): Promise<{ summary: RunSummary; retried: number }> {
  const run = store.findRun(runId);
  if (!run) throw new RunError(`no run "${runId}" in the history`);
  const letters = listDeadLetters(store, { runId: run.id, status: 'open' });
  if (!letters.length) throw new RunError(`run ${run.id} has no open dead letters`);
  const stored = jobSpecSchema.parse(JSON.parse(run.specJson));
  let spec = stored;
  if (opts.spec) {
    if (JSON.stringify(redactSpec(opts.spec).target) !== JSON.stringify(stored.target)) throw new RunError(`the job file's target is not the target of run ${run.id}`);
    spec = { ...stored, source: opts.spec.source, target: opts.spec.target };
  } else if (stored.source.url.includes('••••') || stored.target.url.includes('••••')) {
    throw new RunError(`run ${run.id} connects with a password dbferry does not store; pass the job file with --job`);
  }
  const byTable = new Map<string, DeadLetterRecord[]>();
  for (const d of letters) byTable.set(d.table, [...(byTable.get(d.table) ?? []), d]);
  // The job file, when given, is the user's fixed version: its rules and types apply to the retry.
  const specTables = opts.spec?.tables ?? stored.tables;
  const tables: TableSpec[] = [...byTable.entries()].map(([table, rows]) => {
    // By name first: the fixed job may list its tables in another order.
    const original: TableSpec =
      (specTables === '*' ? undefined : (specTables.find((t) => t.source === table) ?? specTables[rows[0].tableIndex])) ?? { source: table, mode: 'upsert' };
    return { ...original, source: table, columns: rows[0].columns, mode: rows[0].key ? 'upsert' : 'append', where: undefined, incremental: undefined };
  });
  const retrySpec: JobSpec = {
    ...spec,
    name: `${stored.name} (dead-letter retry of run ${run.id.slice(0, 8)})`,
    tables,
    options: { ...spec.options, verify: 'none', onInvalidRow: 'dead-letter', maxInvalidRows: Number.MAX_SAFE_INTEGER },
  };
  const { done } = startRun(store, retrySpec, {
    baseDir: run.baseDir,
    // The retry belongs to the job of the run it retries: it shows in that job's history.
    jobId: run.jobId ?? undefined,
    signal: opts.signal,
    onEvent: opts.onEvent,
    rowsFor: (plan) => rowsOf(byTable.get(plan.sourceLabel) ?? []),
  });
  const summary = await done;
  if (summary.status === 'succeeded' || summary.status === 'dead-lettered') setDeadLetterStatus(store, letters.map((d) => d.id), 'retried');
  return { summary, retried: letters.length };
}

async function* rowsOf(letters: DeadLetterRecord[]): AsyncGenerator<Row[]> {
  for (let i = 0; i < letters.length; i += 1000) yield letters.slice(i, i + 1000).map((d) => [...d.row]);
}
