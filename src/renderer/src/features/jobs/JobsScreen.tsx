import { useEffect } from 'react';
import type { JobDto } from '../../../../shared/api';
import { redactUrl } from '../../../../shared/connectionUrl';
import { useApp } from '../../app/store';
import { EmptyState } from '../../components/EmptyState';
import { fmtTime } from '../../components/format';
import { IconArrow, IconJob } from '../../components/icons';
import { useConnections } from '../connections/store';
import { useSchedules } from '../schedules/store';
import { download, fileName } from './download';
import { useJobs } from './store';

function endpointLabel(url: string): string {
  const c = useConnections.getState().list.find((x) => x.url === url);
  return c ? c.name : redactUrl(url);
}

function tablesLabel(job: JobDto): string {
  if (job.spec.tables === '*') return 'every table';
  const n = job.spec.tables.length;
  const modes = [...new Set(job.spec.tables.map((t) => t.mode))].join(', ');
  return `${n} table${n === 1 ? '' : 's'} · ${modes}`;
}

export function JobsScreen() {
  const { jobs, loaded, load, open, startNew, duplicate, remove } = useJobs();
  const go = useApp((s) => s.go);
  useConnections((s) => s.list);

  useEffect(() => {
    void load();
    void useConnections.getState().load();
  }, [load]);

  const create = () => {
    startNew();
    go({ screen: 'builder' });
  };

  return (
    <section className="screen" aria-labelledby="jobs-title">
      <header className="screen-head">
        <div>
          <h1 id="jobs-title">Jobs</h1>
          <p className="subtitle">What to copy, from where to where, and how. Saved jobs can be run again or exported for the CLI.</p>
        </div>
        <button type="button" className="btn btn-primary" onClick={create}>
          New job
        </button>
      </header>
      {loaded && jobs.length === 0 ? (
        <EmptyState
          icon={<IconJob />}
          title="No saved jobs"
          action={
            <button type="button" className="btn btn-primary" onClick={create}>
              Build a job
            </button>
          }
        >
          Pick a source and a target connection, choose tables, preview the plan and run it.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Job</th>
                <th>From → to</th>
                <th>Tables</th>
                <th>Updated</th>
                <th className="actions-col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id}>
                  <td>
                    <button
                      type="button"
                      className="link strong"
                      onClick={() => {
                        open(job);
                        go({ screen: 'builder' });
                      }}
                    >
                      {job.name}
                    </button>
                  </td>
                  <td className="nowrap">
                    {endpointLabel(job.spec.source.url)} <IconArrow /> {endpointLabel(job.spec.target.url)}
                  </td>
                  <td>{tablesLabel(job)}</td>
                  <td className="nowrap muted">{fmtTime(job.updatedAt)}</td>
                  <td className="actions-col">
                    <button
                      type="button"
                      className="btn btn-sm"
                      onClick={() => {
                        open(job);
                        go({ screen: 'plan' });
                        void useJobs.getState().preview();
                      }}
                    >
                      Plan &amp; run
                    </button>
                    <button
                      type="button"
                      className="btn btn-sm btn-ghost"
                      onClick={() => {
                        useSchedules.getState().compose({ jobId: job.id, cron: '0 2 * * *', enabled: true });
                        go({ screen: 'schedules' });
                      }}
                      aria-label={`Schedule ${job.name}`}
                    >
                      Schedule…
                    </button>
                    <button type="button" className="btn btn-sm btn-ghost" onClick={() => void duplicate(job.id)}>
                      Duplicate
                    </button>
                    <button type="button" className="btn btn-sm btn-ghost" onClick={() => download(fileName(job.name), JSON.stringify(job.spec, null, 2))}>
                      Export
                    </button>
                    <button type="button" className="btn btn-sm btn-ghost btn-danger" onClick={() => void remove(job.id)} aria-label={`Delete ${job.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
