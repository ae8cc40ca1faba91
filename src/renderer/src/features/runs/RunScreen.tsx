import { useEffect, useState } from 'react';
import { useApp } from '../../app/store';
import { ProgressBar } from '../../components/ProgressBar';
import { StatusBadge } from '../../components/StatusBadge';
import type { RunMetrics } from '../../../../shared/events';
import { fmtBytes, fmtDuration, fmtInt, fmtRate, fmtTime, shortId } from '../../components/format';
import { IconArrow } from '../../components/icons';
import { JobLog } from './JobLog';
import { changesText, targetChanges } from '../../../../shared/targetChanges';
import { ThroughputChart } from './ThroughputChart';
import { type RunView, type TableView, etaMs, runFraction, tableFraction } from './runState';
import { useRuns } from './store';

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

function Outcome({ view, applied }: { view: RunView; applied: boolean }) {
  const s = view.summary;
  if (!s) return null;
  const verified = [...new Set(view.tables.map((t) => t.verify?.method).filter(Boolean))].join(' and ');
  switch (s.status) {
    case 'succeeded':
      return (
        <div className="banner banner-ok" role="status">
          <strong>Succeeded.</strong> {s.tables.length} table{s.tables.length === 1 ? '' : 's'}, rows {changesText(targetChanges(s), fmtInt)}
          {verified ? `, verified by ${verified}` : ''}, in {fmtDuration(s.durationMs)}.
        </div>
      );
    case 'dead-lettered':
      return (
        <div className="banner banner-warn" role="status">
          <strong>Done, with dead letters.</strong> Rows {changesText(targetChanges(s), fmtInt)}; {fmtInt(s.rowsDeadLettered)} rows set aside in the dead-letter queue with the reason.
        </div>
      );
    case 'cancelled':
    case 'interrupted':
      return (
        <div className="banner banner-warn" role="status">
          <strong>{s.status === 'cancelled' ? 'Cancelled.' : 'Interrupted.'}</strong> Nothing was applied: every target table is as it was before the run.
          {s.error ? ` ${s.error}` : ''}
        </div>
      );
    case 'failed':
      return (
        <div className="banner banner-err" role="alert">
          <strong>{applied ? 'Failed after the changes were applied: undo them from Backups.' : 'Failed: target rolled back, nothing changed.'}</strong>
          <p className="mono error-lines">{s.error}</p>
        </div>
      );
  }
}

function TableRow({ t }: { t: TableView }) {
  const f = tableFraction(t);
  const eta = etaMs(t);
  const tone = t.phase === 'failed' ? 'err' : t.phase === 'done' ? 'ok' : 'accent';
  return (
    <tr data-testid={`table-${t.source}`}>
      <td>
        <div className="mono strong">{t.source}</div>
        {t.target !== t.source ? <div className="mono muted small">→ {t.target}</div> : null}
      </td>
      <td>
        <StatusBadge status={t.phase} />
        {t.phase === 'applying' && t.step ? (
          <div className="muted small" data-testid="apply-step">
            {t.step}, {fmtDuration(t.stepElapsedMs ?? 0)}
          </div>
        ) : null}
      </td>
      <td className="progress-cell">
        <ProgressBar value={f} tone={tone} label={`${t.source} progress`} />
      </td>
      <td className="num">
        {t.phase === 'applying' && t.rowsApplied !== undefined ? (
          <span title="staged rows applied (estimated while a step runs) of the rows staged">
            ~{fmtInt(t.rowsApplied)}
            {t.estimate !== undefined ? <span className="muted"> / {fmtInt(t.estimate)} applied</span> : null}
          </span>
        ) : (
          <>
            {fmtInt(t.rowsWritten)}
            {t.estimate !== undefined ? <span className="muted"> / ~{fmtInt(t.estimate)}</span> : null}
          </>
        )}
      </td>
      <td className="num">{t.phase === 'staging' || t.phase === 'verifying' || t.phase === 'applying' ? fmtRate(t.rowsPerSecond) : '—'}</td>
      <td className="num">{eta !== undefined ? fmtDuration(eta) : '—'}</td>
      <td className="small">
        {t.inserted !== undefined ? (
          <span title="inserted, updated, deleted, unchanged">
            +{fmtInt(t.inserted)} ~{fmtInt(t.updated)} −{fmtInt(t.deleted)}
            {t.unchanged ? <span className="muted"> ={fmtInt(t.unchanged)}</span> : null}
          </span>
        ) : (
          '—'
        )}
        {t.rowsDeadLettered ? <span className="warn-text"> · {fmtInt(t.rowsDeadLettered)} dead</span> : null}
      </td>
      <td className="small">
        {t.verify ? (
          <span className={t.verify.ok ? 'ok-text' : 'error-text'} title={t.verify.mismatches.join('\n')}>
            {t.verify.ok ? '✓' : '✗'} {t.verify.method}
          </span>
        ) : (
          '—'
        )}
      </td>
    </tr>
  );
}

export function RunScreen({ runId }: { runId: string }) {
  const { views, logs, records, specs, loading, open, cancel, resume } = useRuns();
  const go = useApp((s) => s.go);
  const features = useApp((s) => s.info?.features);
  const [tab, setTab] = useState<'progress' | 'log' | 'spec'>('progress');
  const view = views[runId];
  const record = records[runId];
  const running = view?.status === 'running';
  const now = useNow(running);

  useEffect(() => {
    void open(runId);
  }, [runId, open]);

  if (!view) {
    return <section className="screen">{loading[runId] ? <p role="status">Loading run…</p> : <p>Run {shortId(runId)} not found.</p>}</section>;
  }

  const fraction = runFraction(view);
  const pct = fraction === undefined ? undefined : Math.floor(fraction * 100);
  const rowsRead = view.summary?.rowsRead ?? view.tables.reduce((n, t) => n + t.rowsRead, 0);
  const rowsWritten = view.summary?.rowsWritten ?? view.tables.reduce((n, t) => n + t.rowsWritten, 0);
  const dead = view.summary?.rowsDeadLettered ?? record?.rowsDeadLettered ?? 0;
  const rps = view.tables.filter((t) => t.phase === 'staging' || t.phase === 'applying').reduce((n, t) => n + t.rowsPerSecond, 0);
  const elapsed = view.summary?.durationMs ?? (view.startedAt ? (running ? now : (view.lastAt ?? now)) - view.startedAt : undefined);
  const problems = view.problems;
  const log = logs[runId] ?? [];

  return (
    <section className="screen run-screen" aria-labelledby="run-title">
      <header className="screen-head">
        <div className="grow">
          <p className="eyebrow">
            <button type="button" className="link" onClick={() => go({ screen: 'runs' })}>
              Runs
            </button>{' '}
            / <span className="mono">{shortId(runId)}</span>
          </p>
          <h1 id="run-title">
            {view.job ?? record?.jobName ?? 'Run'} <StatusBadge status={view.status} />
          </h1>
          <p className="subtitle mono">
            {view.source ?? record?.source} <IconArrow /> {view.target ?? record?.target}
            <span className="muted"> · started {fmtTime(record?.startedAt ?? (view.startedAt ? new Date(view.startedAt).toISOString() : undefined))}</span>
          </p>
        </div>
        <div className="head-actions">
          {dead > 0 ? (
            <button type="button" className="btn" onClick={() => go({ screen: 'dead-letters', runId })}>
              Dead letters ({fmtInt(dead)})
            </button>
          ) : null}
          {(view.status === 'interrupted' || view.status === 'failed' || view.status === 'cancelled') && features?.resume ? (
            <button
              type="button"
              className="btn"
              onClick={async () => {
                const id = await resume(runId);
                if (id) go({ screen: 'run', runId: id });
              }}
            >
              Resume
            </button>
          ) : null}
          {running ? (
            <button type="button" className="btn btn-danger-solid" onClick={() => void cancel(runId)}>
              Cancel run
            </button>
          ) : null}
        </div>
      </header>

      <div className="panel overall">
        <div className="overall-top">
          <span className="overall-pct" data-testid="run-percent">
            {pct === undefined ? '…' : `${pct}%`}
          </span>
          <div className="grow">
            <ProgressBar
              value={fraction}
              tone={view.status === 'failed' ? 'err' : view.status === 'succeeded' ? 'ok' : view.status === 'running' ? 'accent' : 'warn'}
              label="Run progress"
            />
          </div>
        </div>
        <dl className="stats">
          <div>
            <dt>Rows read</dt>
            <dd>{fmtInt(rowsRead)}</dd>
          </div>
          <div>
            <dt>Rows written</dt>
            <dd>{fmtInt(rowsWritten)}</dd>
          </div>
          <div>
            <dt>Dead letters</dt>
            <dd className={dead ? 'warn-text' : ''}>{fmtInt(dead)}</dd>
          </div>
          <div>
            <dt>{running ? 'Throughput' : 'Average throughput'}</dt>
            <dd>{running ? fmtRate(rps) : view.summary && view.summary.durationMs > 0 ? fmtRate((rowsRead / view.summary.durationMs) * 1000) : '—'}</dd>
          </div>
          <div>
            <dt>Elapsed</dt>
            <dd>{fmtDuration(elapsed)}</dd>
          </div>
          <div>
            <dt>Tables</dt>
            <dd>
              {view.tables.filter((t) => t.phase === 'done' || t.phase === 'applied').length} / {view.tables.length}
            </dd>
          </div>
        </dl>
      </div>

      <Outcome view={view} applied={log.some((e) => e.event.type === 'apply-committed')} />
      {view.summary?.metrics && view.summary.metrics.rowsPerSecond > 0 ? <Measured m={view.summary.metrics} /> : null}

      <div className="tabs" role="tablist" aria-label="Run details">
        {(
          [
            ['progress', 'Tables'],
            ['log', `Job log (${log.length})`],
            ['spec', 'Spec'],
          ] as const
        ).map(([id, label]) => (
          <button key={id} type="button" role="tab" aria-selected={tab === id} className={tab === id ? 'tab on' : 'tab'} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>

      {tab === 'progress' ? (
        <>
          <div className="table-wrap">
            <table className="table run-tables">
              <thead>
                <tr>
                  <th>Table</th>
                  <th>Phase</th>
                  <th className="progress-cell">Progress</th>
                  <th className="num">Rows</th>
                  <th className="num">Rows/s</th>
                  <th className="num">ETA</th>
                  <th>Applied</th>
                  <th>Verified</th>
                </tr>
              </thead>
              <tbody>
                {view.tables.map((t) => (
                  <TableRow key={t.source} t={t} />
                ))}
                {view.tables.length === 0 ? (
                  <tr>
                    <td colSpan={8} className="muted">
                      Planning…
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          <div className="run-lower">
            <div className="panel">
              <h2 className="panel-title">Throughput</h2>
              <ThroughputChart samples={view.samples} />
            </div>
            <div className="panel">
              <h2 className="panel-title">Errors and warnings</h2>
              {problems.length === 0 ? (
                <p className="muted">None so far.</p>
              ) : (
                <ul className="problems">
                  {problems.map((p, i) => (
                    <li key={i} className={`problem problem-${p.level}`}>
                      <span className="problem-level">{p.level}</span>
                      {p.table ? <span className="mono small">{p.table}</span> : null}
                      <span>{p.message}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        </>
      ) : tab === 'log' ? (
        <JobLog runId={runId} events={log} />
      ) : (
        <pre className="code spec-view">{JSON.stringify(specs[runId] ?? null, null, 2)}</pre>
      )}
    </section>
  );
}

/** What the run measured: where its time went, and how it copied. */
function Measured({ m }: { m: RunMetrics }) {
  const p = m.phases;
  const total = p.planMs + p.stageMs + p.applyMs + p.verifyMs || 1;
  const parts: [string, number][] = [
    ['plan', p.planMs],
    ['stage', p.stageMs],
    ['apply', p.applyMs],
    ['verify', p.verifyMs],
  ];
  return (
    <div className="panel measured" aria-label="Where the time went">
      <div className="phase-bar" role="img" aria-label={parts.map(([n, ms]) => `${n} ${fmtDuration(ms)}`).join(', ')}>
        {parts.map(([name, ms]) => (ms > 0 ? <span key={name} className={`phase-seg phase-${name}`} style={{ flexGrow: ms / total }} title={`${name}: ${fmtDuration(ms)}`} /> : null))}
      </div>
      <p className="muted">
        {parts.map(([name, ms], i) => (
          <span key={name}>
            {i ? ' · ' : ''}
            <span className={`phase-dot phase-${name}`} /> {name} {fmtDuration(ms)}
          </span>
        ))}
        {' — '}staged at {fmtRate(m.rowsPerSecond).replace('/s', ' rows/s')} ({fmtBytes(m.bytesRead)}) on {m.lanes} lane{m.lanes === 1 ? '' : 's'}
        {m.workers ? ' in worker threads' : ' on the main thread'}
        {m.retries ? `, ${m.retries} retr${m.retries === 1 ? 'y' : 'ies'}` : ''}
      </p>
    </div>
  );
}
