import { useCallback, useEffect, useState } from 'react';
import type { DeadLetterDto, DeadLetterPageDto } from '../../../../shared/api';
import { api } from '../../api';
import { useApp } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { VirtualList } from '../../components/VirtualList';
import { fmtInt, fmtTime, shortId } from '../../components/format';
import { IconDeadLetter } from '../../components/icons';
import { download } from '../jobs/download';

function brief(v: unknown): string {
  if (v === null || v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function DeadLettersScreen({ runId }: { runId?: string }) {
  const go = useApp((s) => s.go);
  const attempt = useApp((s) => s.attempt);
  const retryAvailable = useApp((s) => s.info?.features.deadLetterRetry ?? false);
  const [status, setStatus] = useState<'open' | 'retried' | 'discarded' | ''>('open');
  const [reason, setReason] = useState('');
  const [page, setPage] = useState<DeadLetterPageDto>();
  const [selected, setSelected] = useState<DeadLetterDto>();
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const toast = useApp((s) => s.toast);
  // Retry works per run: the filtered run, the run of the row in view, or the one run all open rows shown come from.
  const shownRuns = new Set(page?.items.filter((d) => d.status === 'open').map((d) => d.runId));
  const onlyRun = shownRuns.size === 1 ? [...shownRuns][0] : undefined;
  const retryRun = runId ?? selected?.runId ?? onlyRun ?? undefined;

  async function retry() {
    if (!retryRun) return;
    const r = await attempt(() => api.invoke('deadLetters/retry', { runId: retryRun }));
    if (r) go({ screen: 'run', runId: r.runId });
  }

  async function discard() {
    setConfirmDiscard(false);
    const ids = page?.items.filter((d) => d.status === 'open').map((d) => d.id) ?? [];
    if (!ids.length) return;
    const r = await attempt(() => api.invoke('deadLetters/discard', { ids }));
    if (r) toast('info', `Discarded ${fmtInt(r.discarded)} row${r.discarded === 1 ? '' : 's'}`);
    setSelected(undefined);
    await load();
  }

  const load = useCallback(async () => {
    const p = await attempt(() => api.invoke('deadLetters/list', { runId, status: status || undefined, reason: reason || undefined }));
    if (p) setPage(p);
  }, [attempt, runId, status, reason]);

  useEffect(() => {
    void load();
    return api.on('deadLetters/added', () => void load());
  }, [load]);

  const nothingAtAll = page && page.total === 0 && !reason;

  return (
    <section className="screen screen-fill" aria-labelledby="dl-title">
      <header className="screen-head">
        <div>
          <h1 id="dl-title">Dead letters{runId ? <span className="muted"> · run {shortId(runId)}</span> : null}</h1>
          <p className="subtitle">Rows a run could not apply, each with the reason. Nothing is dropped silently.</p>
        </div>
        <div className="head-actions">
          <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value as typeof status)}>
            <option value="open">Open</option>
            <option value="retried">Retried</option>
            <option value="discarded">Discarded</option>
            <option value="">Any status</option>
          </select>
          {runId ? (
            <button type="button" className="btn btn-ghost" onClick={() => go({ screen: 'dead-letters' })}>
              All runs
            </button>
          ) : null}
{page && page.total > 0 ? (
<>
          <button
            type="button"
            className="btn"
            disabled={!page?.items.length}
            onClick={() => download(`dead-letters${runId ? `-${shortId(runId)}` : ''}.json`, JSON.stringify(page?.items ?? [], null, 2))}
          >
            Export
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={!retryAvailable || !retryRun || status !== 'open'}
            onClick={() => void retry()}
            title={
              retryRun
                ? `Copy the open rows of run ${shortId(retryRun)} again, with the job's rules as saved now (fix a rule in the job first, if it was wrong)`
                : 'Choose a row, or open the dead letters of one run'
            }
          >
            Retry{retryRun ? ` run ${shortId(retryRun)}` : ''}
          </button>
          <button type="button" className="btn btn-ghost btn-danger" disabled={!retryAvailable || status !== 'open' || !page?.items.length} onClick={() => setConfirmDiscard(true)}>
            Discard…
          </button>
          </>
) : null}
        </div>
      </header>

      {nothingAtAll ? (
        <EmptyState icon={<IconDeadLetter />} title={status === 'open' ? 'No dead letters' : `No ${status || ''} dead letters`.replace('  ', ' ')}>
          When a row breaks a validation rule or a constraint of the target, the run sets it aside here with the reason, instead of failing or
          dropping it. Fix the rule or the data, then retry the rows.
        </EmptyState>
      ) : (
        <div className="dl-layout">
          <aside className="panel dl-reasons" aria-label="Reasons">
            <h2 className="panel-title">By reason</h2>
            <ul className="reason-list">
              <li>
                <button type="button" className={`reason${reason === '' ? ' on' : ''}`} onClick={() => setReason('')}>
                  <span className="grow">All reasons</span>
                  <span className="count">{fmtInt(page?.reasons.reduce((n, r) => n + r.count, 0))}</span>
                </button>
              </li>
              {page?.reasons.map((r) => (
                <li key={r.reason}>
                  <button type="button" className={`reason${reason === r.reason ? ' on' : ''}`} onClick={() => setReason(r.reason)}>
                    <span className="grow">{r.reason}</span>
                    <span className="count">{fmtInt(r.count)}</span>
                  </button>
                </li>
              ))}
            </ul>
          </aside>
          <div className="dl-main">
            <VirtualList
              label="Dead-lettered rows"
              items={page?.items ?? []}
              rowHeight={36}
              columns="minmax(0, 120px) minmax(0, 100px) minmax(0, 3fr) 80px 76px 150px"
              header={
                <>
                  <span>Table</span>
                  <span>Key</span>
                  <span>Reason</span>
                  <span>Stage</span>
                  <span>Status</span>
                  <span>When</span>
                </>
              }
              getKey={(d) => d.id}
              onActivate={(d) => setSelected(d)}
              renderRow={(d) => (
                <>
                  <span className="mono small ellipsis">{d.table ?? '—'}</span>
                  <span className="mono small ellipsis">{brief(d.key)}</span>
                  <span className="ellipsis" title={d.reasons.join('\n')}>
                    {d.reasons.join('; ')}
                  </span>
                  <span className="small">{d.stage}</span>
                  <span className="small">{d.status}</span>
                  <span className="small muted">{fmtTime(d.createdAt)}</span>
                </>
              )}
            />
            {page && page.total > page.items.length ? (
              <p className="muted small">
                Showing the newest {fmtInt(page.items.length)} of {fmtInt(page.total)}.
              </p>
            ) : null}
            {selected ? (
              <div className="panel">
                <h2 className="panel-title">
                  Row {brief(selected.key)} of <span className="mono">{selected.table}</span>
                  <span className="grow" />
                  {selected.runId ? (
                    <button type="button" className="link" onClick={() => go({ screen: 'run', runId: selected.runId! })}>
                      run {shortId(selected.runId)}
                    </button>
                  ) : null}
                </h2>
                <ul className="problems">
                  {selected.reasons.map((r) => (
                    <li key={r} className="problem problem-error">
                      {r}
                    </li>
                  ))}
                </ul>
                <pre className="code">{JSON.stringify(selected.row, null, 2)}</pre>
              </div>
            ) : null}
          </div>
        </div>
      )}
      <Dialog
        open={confirmDiscard}
        title="Discard dead letters?"
        onClose={() => setConfirmDiscard(false)}
        footer={
          <>
            <button type="button" className="btn" onClick={() => setConfirmDiscard(false)}>
              Keep them
            </button>
            <button type="button" className="btn btn-danger-solid" onClick={() => void discard()}>
              Discard {fmtInt(page?.items.filter((d) => d.status === 'open').length)} rows
            </button>
          </>
        }
      >
        <p>
          The {fmtInt(page?.items.filter((d) => d.status === 'open').length)} open rows shown{reason ? ` (reason “${reason}”)` : ''} are marked discarded: they will
          not be retried and never reach the target. They stay listed under “Discarded”. Export them first to keep a copy.
        </p>
      </Dialog>
    </section>
  );
}
