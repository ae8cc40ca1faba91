import { useEffect, useMemo, useState } from 'react';
import type { RunDto } from '../../../../shared/api';
import type { RunStatus } from '../../../../shared/events';
import { useApp } from '../../app/store';
import { EmptyState } from '../../components/EmptyState';
import { StatusBadge } from '../../components/StatusBadge';
import { VirtualList } from '../../components/VirtualList';
import { fmtDuration, fmtInt, fmtTime } from '../../components/format';
import { IconRuns } from '../../components/icons';
import { useRuns } from './store';

const VERIFY_LABEL: Record<string, string> = { checksum: '✓ checksum', count: '✓ count', skipped: 'skipped', mismatch: '✗ mismatch', mixed: '✓ mixed' };

export function RunsScreen() {
  const { history, historyLoaded, loadHistory } = useRuns();
  const go = useApp((s) => s.go);
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [query, setQuery] = useState('');

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return history.filter((r) => (!status || r.status === status) && (!q || `${r.jobName} ${r.source} ${r.target} ${r.id}`.toLowerCase().includes(q)));
  }, [history, status, query]);

  return (
    <section className="screen screen-fill" aria-labelledby="runs-title">
      <header className="screen-head">
        <div>
          <h1 id="runs-title">Runs</h1>
          <p className="subtitle">Every run from this app and the CLI, newest first.</p>
        </div>
      </header>
      {historyLoaded && history.length === 0 ? (
        <EmptyState icon={<IconRuns />} title="No runs yet">
          Build a job, preview its plan and run it: each run, its progress and its job log appear here.
        </EmptyState>
      ) : (
        <>
          <div className="toolbar">
            <input type="search" aria-label="Search runs" placeholder="Search job, database or run id" value={query} onChange={(e) => setQuery(e.target.value)} />
            <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value as RunStatus | '')}>
              <option value="">Any status</option>
              {['running', 'succeeded', 'dead-lettered', 'failed', 'cancelled', 'interrupted'].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <span className="muted small">{shown.length} runs</span>
          </div>
          <VirtualList<RunDto>
            label="Run history"
            testId="run-history"
            items={shown}
            rowHeight={54}
            columns="118px minmax(0, 1.3fr) minmax(0, 1.7fr) 150px 84px 96px 96px 80px 104px"
            header={
              <>
                <span>Status</span>
                <span>Job</span>
                <span>From → to</span>
                <span>Started</span>
                <span className="num">Duration</span>
                <span className="num">Read</span>
                <span className="num">Written</span>
                <span className="num">Dead</span>
                <span>Verified</span>
              </>
            }
            getKey={(r) => r.id}
            onActivate={(r) => go({ screen: 'run', runId: r.id })}
            renderRow={(r) => (
              <>
                <StatusBadge status={r.status} />
                <span className="two-line">
                  <span className="strong">{r.jobName}</span>
                  <span className="mono muted small">{r.id.slice(0, 8)}</span>
                </span>
                <span className="two-line mono small" title={`${r.source} → ${r.target}`}>
                  <span>{r.source}</span>
                  <span className="muted">→ {r.target}</span>
                </span>
                <span className="small">{fmtTime(r.startedAt)}</span>
                <span className="num">{fmtDuration(r.durationMs)}</span>
                <span className="num">{fmtInt(r.rowsRead)}</span>
                <span className="num">{fmtInt(r.rowsWritten)}</span>
                <span className={`num${r.rowsDeadLettered ? ' warn-text' : ' muted'}`}>{fmtInt(r.rowsDeadLettered)}</span>
                <span className={`small${r.verification === 'mismatch' ? ' error-text' : r.verification ? ' ok-text' : ' muted'}`}>
                  {r.verification ? VERIFY_LABEL[r.verification] : '—'}
                </span>
              </>
            )}
          />
        </>
      )}
    </section>
  );
}
