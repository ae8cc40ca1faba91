import type { DeadLetterDto } from '../../../shared/api.js';
import type { RunEvent } from '../../../shared/events.js';
import { errorMessage } from '../../engine/errors.js';
import type { JobSpec } from '../../../shared/jobSpec.js';
import { retryDeadLetters } from '../../runs/deadLetterRetry.js';
import { redactSpec } from '../../runs/runner.js';
import type { RunRecord } from '../../store/store.js';
import type { ApiContext } from '../context.js';
import { type DeadLetterRecord, listDeadLetters, setDeadLetterStatus } from '../../store/runState.js';
import { HandlerError, notFound } from '../errors.js';
import type { Handlers } from '../handlers.js';
import { track } from '../runs/handlers.js';
import { provideStoredPasswords, resolveSpec } from '../specs.js';

/** Values as JSON can carry them: bigints and bytes as text. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  return v;
}

function toDto(d: DeadLetterRecord): DeadLetterDto {
  return {
    id: d.id,
    runId: d.runId,
    table: d.table,
    key: d.key ? d.key.map(plain) : null,
    row: Object.fromEntries(d.columns.map((c, i) => [c, plain(d.row[i])])),
    reasons: d.reasons,
    stage: d.stage,
    status: d.status,
    createdAt: d.createdAt,
  };
}

/**
 * The run's saved job as it is now, when it still writes to the run's target:
 * the user fixed its rules (or types) after seeing the dead letters, and the
 * retry is to apply them. Otherwise the run's own spec is used.
 */
function fixedJobSpec(ctx: ApiContext, run: RunRecord): JobSpec | undefined {
  const job = run.jobId ? ctx.jobs.get(run.jobId) : undefined;
  if (!job) return undefined;
  const spec = resolveSpec(ctx, job.spec);
  let stored: { target?: unknown };
  try {
    stored = JSON.parse(run.specJson) as { target?: unknown };
  } catch {
    return undefined;
  }
  return JSON.stringify(redactSpec(spec).target) === JSON.stringify(stored.target) ? spec : undefined;
}

export const deadLetterHandlers: Pick<Handlers, 'deadLetters/list' | 'deadLetters/retry' | 'deadLetters/discard'> = {
  'deadLetters/list': (input, ctx) => {
    const all = listDeadLetters(ctx.store, { runId: input.runId, status: input.status });
    const counts = new Map<string, number>();
    for (const d of all) for (const r of new Set(d.reasons)) counts.set(r, (counts.get(r) ?? 0) + 1);
    const matching = input.reason ? all.filter((d) => d.reasons.includes(input.reason!)) : all;
    const newestFirst = matching.reverse();
    return {
      total: matching.length,
      items: newestFirst.slice(input.offset, input.offset + input.limit).map(toDto),
      reasons: [...counts.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    };
  },

  'deadLetters/retry': async (input, ctx) => {
    const run = ctx.store.findRun(input.runId);
    if (!run) throw notFound('run', input.runId);
    provideStoredPasswords(ctx, run.specJson);
    const controller = new AbortController();
    // The retry is a run of its own: answer with its id as soon as it has one.
    let idKnown!: (runId: string) => void;
    const runIdKnown = new Promise<string>((resolve) => (idKnown = resolve));
    const onEvent = (event: RunEvent) => {
      if (event.type === 'run-started') idKnown(event.runId);
      ctx.emit('run/event', { runId: event.runId, event });
    };
    const spec = fixedJobSpec(ctx, run);
    const done = retryDeadLetters(ctx.store, run.id, { spec, signal: controller.signal, onEvent }).then((r) => r.summary);
    const runId = await Promise.race([runIdKnown, done.then(() => runIdKnown)]).catch((err: unknown) => {
      throw new HandlerError('failed', errorMessage(err));
    });
    return track(ctx, controller, { runId, done });
  },

  'deadLetters/discard': (input, ctx) => {
    setDeadLetterStatus(ctx.store, input.ids, 'discarded');
    return { discarded: input.ids.length };
  },
};
