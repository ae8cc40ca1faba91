import type { PlannedDiff, PlannedTable } from '../../../../shared/events';
import { useApp } from '../../app/store';
import { fmtBytes, fmtInt } from '../../components/format';
import { IconArrow } from '../../components/icons';
import { SchemaPlan } from './SchemaPlan';
import { useJobs } from './store';

/** What a run would do to the table's rows (plan --diff), with a few keys of each. */
function DiffPanel({ d, table }: { d: PlannedDiff; table: string }) {
  if (d.error) {
    return (
      <div className="banner banner-err" role="group" aria-label={`Rows for ${table}`}>
        Could not compare the rows: {d.error}
      </div>
    );
  }
  const list = (keys: string[], total: number) => `${keys.join('; ')}${total > keys.length ? '; …' : ''}`;
  return (
    <div className="plan-diff" role="group" aria-label={`Rows for ${table}`}>
      <p>
        <strong>Rows a run would change now:</strong> <span className="chip chip-info">{fmtInt(d.inserted)} to insert</span>{' '}
        <span className="chip chip-warn">{fmtInt(d.updated)} to update</span> <span className="chip chip-err">{fmtInt(d.deleted)} to delete</span>{' '}
        <span className="chip chip-ok">{fmtInt(d.unchanged)} unchanged</span>
        {d.kept ? <span className="chip">{fmtInt(d.kept)} kept (not in the source)</span> : null}
      </p>
      <table className="table table-compact">
        <tbody>
          {d.examples.inserted.length ? (
            <tr>
              <th scope="row">Insert</th>
              <td className="mono">key {list(d.examples.inserted, d.inserted)}</td>
            </tr>
          ) : null}
          {d.examples.updated.length ? (
            <tr>
              <th scope="row">Update</th>
              <td className="mono">
                {d.examples.updated.map((u) => `key ${u.key} (${u.columns.join(', ')})`).join('; ')}
                {d.updated > d.examples.updated.length ? '; …' : ''}
              </td>
            </tr>
          ) : null}
          {d.examples.deleted.length ? (
            <tr>
              <th scope="row">Delete</th>
              <td className="mono">key {list(d.examples.deleted, d.deleted)}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <p className="muted">
        Found by {d.method}.{d.note ? ` ${d.note}.` : ''} Nothing was written.
      </p>
    </div>
  );
}

function TablePlan({ t }: { t: PlannedTable }) {
  const lossy = t.columns.filter((c) => c.lossy);
  return (
    <article className="panel plan-table" aria-label={`Plan for ${t.source}`}>
      <header className="plan-table-head">
        <h3>
          <span className="mono">{t.source}</span> <IconArrow /> <span className="mono">{t.target}</span>
        </h3>
        <span className="chip">{t.mode}</span>
        {t.createTarget ? <span className="chip chip-info">creates the table</span> : <span className="chip">existing table</span>}
        {t.path ? (
          <span className="chip" title={t.path}>
            {t.path.split(':')[0]}
          </span>
        ) : null}
        {t.fastPath ? (
          <span className="chip chip-ok" title={t.fastPath}>
            fast path
          </span>
        ) : null}
        {t.partitions ? (
          <span className="chip" title={t.partitions}>
            {t.partitions.startsWith('a partition') ? 'one partition' : t.partitions.split(':')[0]}
          </span>
        ) : null}
        {t.incremental ? (
          <span className="chip" title={t.incremental.since === undefined ? 'no watermark yet: this run copies every row' : undefined}>
            incremental: {t.incremental.since === undefined ? 'every row (first run)' : `${t.incremental.cursor} > ${t.incremental.since}`}
          </span>
        ) : null}
        {lossy.length ? (
          <span className={`chip ${lossy.every((c) => c.accepted) ? 'chip-warn' : 'chip-err'}`}>
            {lossy.length} lossy column{lossy.length > 1 ? 's' : ''}
          </span>
        ) : null}
        <span className="grow" />
        <span className="muted">
          key <span className="mono">{t.key.length ? t.key.join(', ') : '—'}</span>
          {t.estimate !== undefined ? ` · ~${fmtInt(t.estimate)} rows` : ''}
          {t.bytes !== undefined ? ` · ~${fmtBytes(t.bytes)}` : ''}
        </span>
      </header>
      <table className="table table-compact">
        <thead>
          <tr>
            <th>Column</th>
            <th>Source type</th>
            <th>Target type</th>
            <th>Exact?</th>
          </tr>
        </thead>
        <tbody>
          {t.columns.map((c) => (
            <tr key={c.name} className={c.lossy ? (c.accepted ? 'row-warn' : 'row-err') : c.mayNotFit ? 'row-warn' : ''}>
              <td className="mono">
                {c.name}
                {t.key.includes(c.name) ? <span className="chip chip-key">key</span> : null}
              </td>
              <td className="mono muted">{c.sourceType}</td>
              <td className="mono">{c.targetType}</td>
              <td>
                {c.lossy ? (
                  <span className={c.accepted ? 'warn-text' : 'error-text'}>
                    {c.lossy}
                    {c.accepted ? ' (accepted)' : ''}
                  </span>
                ) : c.mayNotFit ? (
                  <span className="warn-text">{c.mayNotFit}: such rows are dead-lettered, never changed</span>
                ) : (
                  <span className="ok-text">exact</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {t.diff ? <DiffPanel d={t.diff} table={t.source} /> : null}
      {t.schema ? <SchemaPlan items={t.schema} table={t.source} /> : null}
      {t.ddl ? (
        <details>
          <summary>DDL to be run on the target</summary>
          <pre className="code">{t.ddl}</pre>
        </details>
      ) : null}
    </article>
  );
}

export function PlanPreview() {
  const { draft, plan, planning, preview, run } = useJobs();
  const go = useApp((s) => s.go);
  const estimated = plan?.tables.filter((t) => t.estimate !== undefined) ?? [];
  const totalRows = estimated.reduce((n, t) => n + (t.estimate ?? 0), 0);
  const totalBytes = plan?.tables.reduce((n, t) => n + (t.bytes ?? 0), 0) ?? 0;
  const creates = plan?.tables.filter((t) => t.createTarget).length ?? 0;

  async function runNow() {
    const runId = await run();
    if (runId) go({ screen: 'run', runId });
  }

  return (
    <section className="screen" aria-labelledby="plan-title">
      <header className="screen-head">
        <div className="grow">
          <p className="eyebrow">
            <button type="button" className="link" onClick={() => go({ screen: 'builder' })}>
              ← Back to the job
            </button>
          </p>
          <h1 id="plan-title">Plan: {draft.name || 'unnamed job'}</h1>
          <p className="subtitle">What this run would do. Nothing has been written yet.</p>
        </div>
        <div className="head-actions">
          <button type="button" className="btn" onClick={() => void preview()} disabled={planning}>
            Re-plan
          </button>
          <button type="button" className="btn" onClick={() => void preview({ diff: true })} disabled={planning} title="Compare the rows of both sides: what a run would insert, update and delete (nothing is written)">
            Compare rows
          </button>
          <button type="button" className="btn btn-primary btn-lg" onClick={() => void runNow()} disabled={!plan?.ok || planning}>
            Run now
          </button>
        </div>
      </header>

      {planning ? (
        <div className="panel" role="status">
          Connecting to both databases and planning…
        </div>
      ) : null}
      {plan ? (
        <>
          <div className={`banner ${plan.ok ? 'banner-ok' : 'banner-err'}`} role={plan.ok ? 'status' : 'alert'}>
            {plan.ok ? (
              <strong>
                Ready: {plan.tables.length} table{plan.tables.length === 1 ? '' : 's'}
                {estimated.length ? `, about ${fmtInt(totalRows)} rows` : ''}
                {totalBytes ? ` (~${fmtBytes(totalBytes)})` : ''}
                {creates ? `, ${creates} to create` : ''}.
              </strong>
            ) : (
              <strong>This job cannot run yet:</strong>
            )}
            {plan.problems.length ? (
              <ul>
                {plan.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            ) : null}
          </div>
          {plan.warnings.length ? (
            <div className="banner banner-warn">
              <strong>Warnings</strong>
              <ul>
                {plan.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          ) : null}
          {plan.tables.map((t) => (
            <TablePlan key={`${t.source}->${t.target}`} t={t} />
          ))}
        </>
      ) : null}
    </section>
  );
}
