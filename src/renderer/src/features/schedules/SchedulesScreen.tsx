import { Fragment, useEffect, useState } from 'react';
import type { ScheduleDto } from '../../../../shared/api';
import { useApp } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { StatusBadge } from '../../components/StatusBadge';
import { fmtFromNow, fmtTime, shortId } from '../../components/format';
import { IconSchedule } from '../../components/icons';
import { useJobs } from '../jobs/store';
import { ScheduleForm } from './ScheduleForm';
import { followSchedules, useSchedules } from './store';

const OUTCOME_LABEL: Record<string, string> = { skipped: 'skipped', 'not-started': 'not started', retry: 'retry pending' };

/** Re-render now and then, so "in 5 min" stays true. */
function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

function NextRun({ s, now }: { s: ScheduleDto; now: number }) {
  if (!s.enabled) return <span className="muted">off</span>;
  if (!s.nextRunAt) return <span className="warn-text">never</span>;
  const due = Date.parse(s.nextRunAt) <= now;
  return (
    <span className="two-line">
      <span className="mono small">{fmtTime(s.nextRunAt)}</span>
      <span className={`small ${due ? 'warn-text' : 'muted'}`}>{due ? 'due now' : fmtFromNow(s.nextRunAt, now)}</span>
    </span>
  );
}

function LastRun({ s, now }: { s: ScheduleDto; now: number }) {
  const go = useApp((st) => st.go);
  const o = s.lastOutcome;
  // Why the last slot did not go as planned: skipped, not started, a retry coming, a login it cannot make.
  const note = o && o.kind !== 'started' ? o.message : s.lastRun?.status === 'failed' && o && !o.message.startsWith('started run') ? o.message : undefined;
  return (
    <div className="last-run">
      {s.lastRun ? (
        <span className="last-run-line">
          <StatusBadge status={s.lastRun.status} />
          <button type="button" className="link mono small" onClick={() => go({ screen: 'run', runId: s.lastRun!.id })} aria-label={`Open run ${shortId(s.lastRun.id)}`}>
            {shortId(s.lastRun.id)}
          </button>
          <span className="muted small nowrap" title={fmtTime(s.lastRun.startedAt)}>
            {fmtFromNow(s.lastRun.startedAt, Math.max(now, Date.parse(s.lastRun.startedAt)))}
          </span>
        </span>
      ) : (
        <span className="muted">not run yet</span>
      )}
      {o && o.kind !== 'started' ? (
        <span className="chip chip-warn" title={fmtTime(o.at)}>
          {OUTCOME_LABEL[o.kind] ?? o.kind} {fmtFromNow(o.at, now)}
        </span>
      ) : null}
      {note ? <p className={`small ${s.lastRun?.status === 'failed' && o?.kind !== 'retry' ? 'error-text' : 'warn-text'}`}>{note}</p> : null}
      {!note && s.lastRun?.status === 'failed' && s.lastRun.error ? <p className="small error-text">{s.lastRun.error}</p> : null}
    </div>
  );
}

export function SchedulesScreen() {
  const { list, loaded, load, draft, compose, setEnabled, remove } = useSchedules();
  const jobs = useJobs((s) => s.jobs);
  const jobsLoaded = useJobs((s) => s.loaded);
  const go = useApp((s) => s.go);
  const [confirm, setConfirm] = useState<ScheduleDto>();
  // Ticks for "in 5 min"; never behind a run that just started.
  const now = Math.max(useNow(), Date.now());

  useEffect(() => {
    followSchedules();
    void load();
    void useJobs.getState().load();
  }, [load]);

  const add = () => compose({ jobId: jobs.length === 1 ? jobs[0]!.id : '', cron: '0 2 * * *', enabled: true });
  const zone = list[0]?.timeZone;

  return (
    <section className="screen" aria-labelledby="schedules-title">
      <header className="screen-head">
        <div>
          <h1 id="schedules-title">Schedules</h1>
          <p className="subtitle">
            Saved jobs run on a cron schedule while the desktop app or <span className="mono">dbferry ui</span> is running
            {zone ? `; times are read in ${zone}` : ''}. A job never runs twice at once.
          </p>
        </div>
        {list.length ? (
          <button type="button" className="btn btn-primary" onClick={add} disabled={!jobs.length}>
            New schedule
          </button>
        ) : null}
      </header>

      {loaded && list.length === 0 ? (
        jobsLoaded && jobs.length === 0 ? (
          <EmptyState
            icon={<IconSchedule />}
            title="No schedules"
            action={
              <button type="button" className="btn btn-primary" onClick={() => go({ screen: 'jobs' })}>
                Build a job first
              </button>
            }
          >
            A schedule runs a saved job at set times, e.g. every night at 02:00 to keep a reporting copy up to date.
          </EmptyState>
        ) : (
          <EmptyState
            icon={<IconSchedule />}
            title="No schedules"
            action={
              <button type="button" className="btn btn-primary" onClick={add}>
                Schedule a job
              </button>
            }
          >
            Run a saved job at set times, e.g. every night at 02:00 to keep a reporting copy up to date.
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table schedules-table" aria-label="Schedules">
            <thead>
              <tr>
                <th>Job</th>
                <th>When</th>
                <th>On</th>
                <th>Next run</th>
                <th>Last run</th>
                <th className="actions-col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <Fragment key={s.id}>
                  <tr className={`${s.enabled ? '' : 'row-off'}${s.warnings.length ? ' has-note' : ''}`} data-testid={`schedule-${s.jobName}`}>
                    <td>
                      <span className="strong nowrap">{s.jobName}</span>
                    </td>
                    <td>
                      <span className="two-line">
                        <span>{s.description}</span>
                        <span className="mono small muted">{s.cron}</span>
                      </span>
                    </td>
                    <td>
                      <label className="switch">
                        <input type="checkbox" role="switch" checked={s.enabled} aria-label={`Run ${s.jobName} on schedule`} onChange={(e) => void setEnabled(s, e.target.checked)} />
                        <span aria-hidden>{s.enabled ? 'on' : 'off'}</span>
                      </label>
                    </td>
                    <td className="nowrap">
                      <NextRun s={s} now={now} />
                    </td>
                    <td>
                      <LastRun s={s} now={now} />
                    </td>
                    <td className="actions-col">
                      <button type="button" className="btn btn-sm" onClick={() => compose({ id: s.id, jobId: s.jobId, cron: s.cron, enabled: s.enabled })} aria-label={`Edit the schedule of ${s.jobName}`}>
                        Edit
                      </button>
                      <button type="button" className="btn btn-sm btn-ghost btn-danger" onClick={() => setConfirm(s)} aria-label={`Delete the schedule of ${s.jobName}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                  {s.warnings.length ? (
                    <tr className="row-note" data-testid={`schedule-note-${s.jobName}`}>
                      <td colSpan={6}>
                        {s.warnings.map((w) => (
                          <p key={w} className="small warn-text">
                            ⚠ {w}
                          </p>
                        ))}
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {draft ? <ScheduleForm key={draft.id ?? 'new'} draft={draft} jobs={jobs} /> : null}
      <Dialog
        open={confirm !== undefined}
        title="Delete this schedule?"
        onClose={() => setConfirm(undefined)}
        footer={
          <>
            <button type="button" className="btn" onClick={() => setConfirm(undefined)}>
              Keep it
            </button>
            <button
              type="button"
              className="btn btn-danger-solid"
              onClick={() => {
                if (confirm) void remove(confirm);
                setConfirm(undefined);
              }}
            >
              Delete schedule
            </button>
          </>
        }
      >
        <p>
          “{confirm?.jobName}” will no longer run {confirm?.description.replace(/^./, (c) => c.toLowerCase())}. The job itself and its runs are kept.
        </p>
      </Dialog>
    </section>
  );
}
