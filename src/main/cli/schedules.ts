/**
 * `dbferry schedules [--json]`: the saved jobs' schedules and when each runs
 * next. The runs themselves happen in the desktop app or `dbferry ui`.
 */
import type { ScheduleDto } from '../../shared/api.js';
import { EXIT } from '../../shared/events.js';
import { byJobName, toScheduleDto } from '../api/schedules/dto.js';
import { localTimeZone } from '../queue/cron.js';
import { Jobs } from '../store/jobs.js';
import { markInterruptedRuns } from '../store/runState.js';
import { Schedules } from '../store/schedules.js';
import { openStore } from './state.js';

/** Local time, as the cron is read: 2026-12-02 02:00:00. */
function local(iso: string): string {
  const d = new Date(iso);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function nextLabel(s: ScheduleDto, now: number): string {
  if (!s.enabled) return 'off';
  if (!s.nextRunAt) return 'never (see below)';
  return Date.parse(s.nextRunAt) <= now ? `due (${local(s.nextRunAt)})` : local(s.nextRunAt);
}

function lastLabel(s: ScheduleDto): string {
  if (s.lastOutcome && s.lastOutcome.kind !== 'started') return `${s.lastOutcome.kind} ${local(s.lastOutcome.at)}`;
  if (!s.lastRun) return s.lastRunAt ? local(s.lastRunAt) : '—';
  return `${s.lastRun.status} ${local(s.lastRun.startedAt)} (run ${s.lastRun.id.slice(0, 8)})`;
}

/** Why the last slot did not go as planned, if it did not. */
function detail(s: ScheduleDto): string | undefined {
  const o = s.lastOutcome;
  if (o && o.kind !== 'started') return o.message;
  if (s.lastRun?.status !== 'failed') return undefined;
  return o?.message && !o.message.startsWith('started run') ? o.message : (s.lastRun.error ?? undefined);
}

export async function schedulesCommand(opts: { json?: boolean; state?: string }): Promise<number> {
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  try {
    markInterruptedRuns(store);
    const from = { jobs: new Jobs(store.db), store };
    const schedules = new Schedules(store.db)
      .list()
      .map((s) => toScheduleDto(s, from))
      .sort(byJobName);
    if (opts.json) {
      for (const s of schedules) {
        const { warnings: _w, ...rest } = s;
        process.stdout.write(`${JSON.stringify({ type: 'schedule', ...rest })}\n`);
      }
      return EXIT.ok;
    }
    if (schedules.length === 0) {
      process.stdout.write('no schedules yet: add them on the Schedules screen of the app (or of `dbferry ui`)\n');
      return EXIT.ok;
    }
    const now = Date.now();
    const jobWidth = Math.min(32, Math.max(4, ...schedules.map((s) => s.jobName.length))) + 2;
    const cronWidth = Math.max(5, ...schedules.map((s) => s.cron.length)) + 2;
    process.stdout.write(`${'ID'.padEnd(10)}${'JOB'.padEnd(jobWidth)}${'CRON'.padEnd(cronWidth)}${'NEXT RUN'.padEnd(24)}LAST\n`);
    for (const s of schedules) {
      const job = s.jobName.length > 32 ? `${s.jobName.slice(0, 31)}…` : s.jobName;
      process.stdout.write(`${s.id.slice(0, 8).padEnd(10)}${job.padEnd(jobWidth)}${s.cron.padEnd(cronWidth)}${nextLabel(s, now).padEnd(24)}${lastLabel(s)}\n`);
      process.stdout.write(`${''.padEnd(10)}${s.description}\n`);
      const why = detail(s);
      if (why) process.stdout.write(`${''.padEnd(10)}${why}\n`);
    }
    process.stdout.write(
      `\nTimes are ${localTimeZone()}. Schedules run while the desktop app or \`dbferry ui\` is running; a run missed while neither was runs once when one starts.\n`,
    );
    return EXIT.ok;
  } finally {
    store.close();
  }
}
