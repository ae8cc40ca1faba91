import type { RunSummary } from '../../../shared/events.js';
import type { JobSpec, JobSpecInput } from '../../../shared/jobSpec.js';
import { errorMessage } from '../../engine/errors.js';
import type { ApiContext } from '../context.js';
import { resumeRun, startRun } from '../engine.js';
import { HandlerError, notFound } from '../errors.js';
import type { Handlers } from '../handlers.js';
import { provideStoredPasswords, queueingProblems, resolveSpec } from '../specs.js';
import { toRunDto } from './dto.js';

type Started = { runId: string; done: Promise<RunSummary> };

export function track(ctx: ApiContext, controller: AbortController, started: Started): { runId: string } {
  const { runId, done } = started;
  ctx.activeRuns.set(runId, { runId, controller, done });
  done
    .then((summary) => {
      ctx.emit('run/finished', summary);
      if (summary.rowsDeadLettered > 0) ctx.emit('deadLetters/added', { runId, count: summary.rowsDeadLettered });
    })
    .catch((err: unknown) => {
      const run = ctx.store.getRun(runId);
      ctx.emit('run/finished', {
        type: 'summary',
        runId,
        status: 'failed',
        rowsRead: run?.rowsRead ?? 0,
        rowsWritten: run?.rowsWritten ?? 0,
        rowsDeadLettered: run?.rowsDeadLettered ?? 0,
        durationMs: run ? Date.now() - Date.parse(run.startedAt) : 0,
        tables: [],
        error: errorMessage(err),
      });
    })
    .finally(() => ctx.activeRuns.delete(runId));
  return { runId };
}

function runOptions(ctx: ApiContext, controller: AbortController, jobId?: string) {
  return {
    baseDir: ctx.baseDir,
    jobId,
    signal: controller.signal,
    onEvent: (event: Parameters<NonNullable<Parameters<typeof startRun>[2]['onEvent']>>[0]) =>
      ctx.emit('run/event', { runId: event.runId, event }),
  };
}

/**
 * Start a run of a spec as the app's Run button does: passwords resolved from
 * the saved connections, events to every window, cancellable, closed with the
 * router. The scheduler starts its runs here too.
 */
export function startJobRun(ctx: ApiContext, spec: JobSpec, jobId?: string): Started {
  const controller = new AbortController();
  if (ctx.queued) {
    const refused = queueingProblems(ctx, spec);
    if (refused.length) throw new HandlerError('failed', `this job cannot go to the queue ${ctx.queued.label}: ${refused.join('; ')}`);
    const started = ctx.queued.start(spec, { ...runOptions(ctx, controller, jobId), baseDir: ctx.baseDir, signal: controller.signal });
    track(ctx, controller, started);
    return started;
  }
  const started = startRun(ctx.store, resolveSpec(ctx, spec), runOptions(ctx, controller, jobId));
  track(ctx, controller, started);
  return started;
}

/**
 * A scheduled run on the queue (the queue's scheduler took a slot): queued
 * unless a run of the job is already there; tracked like the Run button's.
 */
export async function startQueuedScheduledRun(
  ctx: ApiContext,
  spec: JobSpec,
  opts: { jobId?: string; baseDir: string; slot: string },
): Promise<Started | { running: string }> {
  const queued = ctx.queued;
  if (!queued?.startScheduled) throw new Error('runs do not go to a queue here');
  const refused = queueingProblems(ctx, spec);
  if (refused.length) throw new Error(`this job cannot go to the queue ${queued.label}: ${refused.join('; ')}`);
  const controller = new AbortController();
  const started = await queued.startScheduled(spec, { ...runOptions(ctx, controller, opts.jobId), baseDir: opts.baseDir, slot: opts.slot, signal: controller.signal });
  if ('running' in started) return started;
  track(ctx, controller, started);
  return started;
}

/**
 * The app on a queue starts: the runs it stopped following when it closed
 * are followed again, so their end, dead letters and backups reach its history.
 */
export async function refollowQueuedRuns(ctx: ApiContext): Promise<void> {
  const queued = ctx.queued;
  if (!queued?.unfollowed || !queued.refollow) return;
  for (const runId of queued.unfollowed()) {
    const controller = new AbortController();
    const { baseDir: _b, jobId: _j, ...opts } = runOptions(ctx, controller);
    const again = await queued.refollow(runId, opts);
    if (again) track(ctx, controller, again);
  }
}

export const runHandlers: Pick<Handlers, 'runs/start' | 'runs/cancel' | 'runs/resume' | 'runs/list' | 'runs/get' | 'runs/events'> = {
  'runs/start': (input, ctx) => {
    try {
      return { runId: startJobRun(ctx, input.spec, input.jobId).runId };
    } catch (err) {
      throw new HandlerError('failed', errorMessage(err));
    }
  },

  'runs/cancel': (input, ctx) => {
    const active = ctx.activeRuns.get(input.runId);
    if (!active) {
      if (!ctx.store.getRun(input.runId)) throw notFound('run', input.runId);
      throw new HandlerError('failed', `run ${input.runId.slice(0, 8)} is not running here (it has finished, or another dbferry process runs it)`);
    }
    active.controller.abort();
    return { cancelled: true };
  },

  'runs/resume': async (input, ctx) => {
    const run = ctx.store.findRun(input.runId);
    if (!run) throw notFound('run', input.runId);
    if (ctx.activeRuns.has(run.id)) throw new HandlerError('failed', `run ${run.id.slice(0, 8)} is still running`);
    // A queued run goes back on the queue, for a worker: the failed set is the dead-letter queue of runs.
    if (ctx.queued?.requeue && (await ctx.queued.has?.(run.id))) {
      const controller = new AbortController();
      const { baseDir: _b, jobId: _j, ...opts } = runOptions(ctx, controller);
      try {
        return track(ctx, controller, await ctx.queued.requeue(run.id, opts));
      } catch (err) {
        throw new HandlerError('failed', errorMessage(err));
      }
    }
    provideStoredPasswords(ctx, run.specJson);
    const controller = new AbortController();
    const { baseDir: _b, jobId: _j, ...opts } = runOptions(ctx, controller);
    try {
      return track(ctx, controller, resumeRun(ctx.store, run.id, opts));
    } catch (err) {
      throw new HandlerError('failed', errorMessage(err));
    }
  },

  'runs/list': (input, ctx) => ctx.store.listRuns(input.limit).map((r) => toRunDto(r, ctx.activeRuns.has(r.id))),

  'runs/get': (input, ctx) => {
    const run = ctx.store.findRun(input.runId);
    if (!run) throw notFound('run', input.runId);
    let spec: JobSpecInput | null = null;
    try {
      spec = JSON.parse(run.specJson) as JobSpecInput;
    } catch {
      spec = null;
    }
    return { run: toRunDto(run, ctx.activeRuns.has(run.id)), spec, events: ctx.store.runEvents(run.id) };
  },

  'runs/events': (input, ctx) => ctx.store.runEvents(input.runId, input.afterSeq),
};
