import type { ScheduleDto } from '../../../shared/api.js';
import type { JobSpec } from '../../../shared/jobSpec.js';
import { describeCron, localTimeZone } from '../../queue/cron.js';
import type { Jobs } from '../../store/jobs.js';
import type { ScheduleRecord } from '../../store/schedules.js';
import type { Store } from '../../store/store.js';

/** A schedule as the app and `dbferry schedules --json` show it: its job's name, the cron in words, its last run as it stands. */
export function toScheduleDto(s: ScheduleRecord, from: { jobs: Jobs; store: Store }, warnings: (spec: JobSpec) => string[] = () => []): ScheduleDto {
  const job = from.jobs.get(s.jobId);
  const run = s.lastRunId ? from.store.getRun(s.lastRunId) : undefined;
  return {
    id: s.id,
    jobId: s.jobId,
    jobName: job?.name ?? '(deleted job)',
    cron: s.cron,
    description: describeCron(s.cron),
    enabled: s.enabled,
    nextRunAt: s.enabled ? s.nextRunAt : null,
    timeZone: localTimeZone(),
    lastRunAt: s.lastRunAt,
    lastRun: run ? { id: run.id, status: run.status, startedAt: run.startedAt, finishedAt: run.finishedAt, error: run.error } : null,
    lastOutcome: s.lastOutcome && s.lastOutcomeAt ? { kind: s.lastOutcome, message: s.lastMessage ?? '', at: s.lastOutcomeAt } : null,
    warnings: job ? warnings(job.spec) : [],
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export function byJobName(a: ScheduleDto, b: ScheduleDto): number {
  return a.jobName.localeCompare(b.jobName) || (a.createdAt ?? '').localeCompare(b.createdAt ?? '');
}
