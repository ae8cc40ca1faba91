/**
 * How the scheduler starts a saved job: the same run starter as the app's
 * Run button (passwords from the saved connections, events, cancel on close).
 */
import { parseJobSpec } from '../../../shared/jobSpec.js';
import type { ScheduledStart } from '../../queue/scheduler.js';
import type { JobRecord } from '../../store/jobs.js';
import type { ApiContext } from '../context.js';
import { startJobRun } from '../runs/handlers.js';
import { withoutPassword } from './passwords.js';

export function startScheduledRun(ctx: ApiContext, job: JobRecord): ScheduledStart {
  const parsed = parseJobSpec(job.spec);
  if (!parsed.ok) throw new Error(`the saved job is not valid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const missing = withoutPassword(ctx, parsed.spec);
  const { runId, done } = startJobRun(ctx, parsed.spec, job.id);
  return { runId, done, withoutPassword: missing };
}
