import type { JobDto } from '../../../shared/api.js';
import type { JobRecord } from '../../store/jobs.js';
import type { ApiContext } from '../context.js';
import { notFound } from '../errors.js';
import type { Handlers } from '../handlers.js';
import { withoutPasswords } from '../specs.js';

function job(ctx: ApiContext, id: string): JobRecord {
  const j = ctx.jobs.get(id);
  if (!j) throw notFound('job', id);
  return j;
}

const dto = (j: JobRecord): JobDto => ({ ...j, spec: withoutPasswords(j.spec) });

/** "orders (copy)", "orders (copy 2)", ... */
function copyName(ctx: ApiContext, name: string): string {
  const taken = new Set(ctx.jobs.list().map((j) => j.name));
  const base = name.replace(/ \(copy( \d+)?\)$/, '');
  for (let n = 1; ; n++) {
    const candidate = `${base} (copy${n > 1 ? ` ${n}` : ''})`;
    if (!taken.has(candidate)) return candidate;
  }
}

export const jobHandlers: Pick<Handlers, 'jobs/list' | 'jobs/get' | 'jobs/save' | 'jobs/delete' | 'jobs/duplicate'> = {
  'jobs/list': (_, ctx) => ctx.jobs.list().map(dto),
  'jobs/get': (input, ctx) => dto(job(ctx, input.id)),
  'jobs/save': (input, ctx) => {
    const spec = withoutPasswords(input.spec);
    const saved = input.id ? ctx.jobs.update(job(ctx, input.id).id, spec)! : ctx.jobs.create(spec);
    ctx.emit('data/changed', { what: 'jobs' });
    // On a queue a schedule's job scheduler carries the job's spec (and its name): it changes with it.
    if (input.id && ctx.schedules.list().some((s) => s.jobId === saved.id)) ctx.wakeScheduler();
    return dto(saved);
  },
  'jobs/delete': (input, ctx) => {
    const hadSchedules = ctx.schedules.list().some((s) => s.jobId === input.id);
    // Its schedules go with it (ON DELETE CASCADE).
    const deleted = ctx.jobs.delete(input.id);
    if (deleted) ctx.emit('data/changed', { what: 'jobs' });
    if (deleted && hadSchedules) {
      ctx.wakeScheduler();
      ctx.emit('data/changed', { what: 'schedules' });
    }
    return { deleted };
  },
  'jobs/duplicate': (input, ctx) => {
    const original = job(ctx, input.id);
    const copy = ctx.jobs.create({ ...original.spec, name: copyName(ctx, original.name) });
    ctx.emit('data/changed', { what: 'jobs' });
    return dto(copy);
  },
};
