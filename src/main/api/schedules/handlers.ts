import { CronError, describeCron, localTimeZone, nextRun, nextRuns, validateCron } from '../../queue/cron.js';
import type { ScheduleRecord } from '../../store/schedules.js';
import type { ApiContext } from '../context.js';
import { HandlerError, notFound } from '../errors.js';
import type { Handlers } from '../handlers.js';
import { byJobName, toScheduleDto } from './dto.js';
import { scheduleWarnings } from './passwords.js';

function schedule(ctx: ApiContext, id: string): ScheduleRecord {
  const s = ctx.schedules.get(id);
  if (!s) throw notFound('schedule', id);
  return s;
}

function validCron(cron: string): string {
  try {
    return validateCron(cron);
  } catch (err) {
    if (err instanceof CronError) throw new HandlerError('invalid-input', `cron: ${err.message}`);
    throw err;
  }
}

function dto(ctx: ApiContext, s: ScheduleRecord) {
  return toScheduleDto(s, ctx, (spec) => scheduleWarnings(ctx, spec));
}

function changed(ctx: ApiContext): void {
  ctx.wakeScheduler();
  ctx.emit('data/changed', { what: 'schedules' });
}

export const scheduleHandlers: Pick<Handlers, 'schedules/list' | 'schedules/save' | 'schedules/delete' | 'schedules/preview'> = {
  'schedules/list': (_, ctx) =>
    ctx.schedules
      .list()
      .map((s) => dto(ctx, s))
      .sort(byJobName),

  'schedules/save': (input, ctx) => {
    if (!ctx.jobs.get(input.jobId)) throw notFound('job', input.jobId);
    const cron = validCron(input.cron);
    const existing = input.id ? schedule(ctx, input.id) : undefined;
    // Unchanged and still on: keep the slot it is waiting for (a pending retry included).
    const keep = existing && existing.enabled && input.enabled && existing.cron === cron && existing.jobId === input.jobId && existing.nextRunAt;
    if (existing && keep) return dto(ctx, existing);
    // Switched on or changed: from now on. Slots that passed while it was off are not made up for.
    const fields = { jobId: input.jobId, cron, enabled: input.enabled, nextRunAt: input.enabled ? nextRun(cron, new Date()).toISOString() : null };
    const saved = existing ? ctx.schedules.update(existing.id, fields)! : ctx.schedules.create(fields);
    changed(ctx);
    return dto(ctx, saved);
  },

  'schedules/delete': (input, ctx) => {
    const deleted = ctx.schedules.delete(input.id);
    if (deleted) changed(ctx);
    return { deleted };
  },

  'schedules/preview': (input) => {
    try {
      const cron = validateCron(input.cron);
      return { ok: true, cron, description: describeCron(cron), nextRuns: nextRuns(cron, new Date(), 3).map((d) => d.toISOString()), timeZone: localTimeZone() };
    } catch (err) {
      if (err instanceof CronError) return { ok: false, error: err.message };
      throw err;
    }
  },
};
