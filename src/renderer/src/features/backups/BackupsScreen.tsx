import { useEffect, useState } from 'react';
import type { BackupDto } from '../../../../shared/api';
import { api } from '../../api';
import { useApp } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { fmtInt, fmtTime, shortId } from '../../components/format';
import { IconBackup } from '../../components/icons';

export function BackupsScreen() {
  const go = useApp((s) => s.go);
  const attempt = useApp((s) => s.attempt);
  const restoreAvailable = useApp((s) => s.info?.features.restore ?? false);
  const toast = useApp((s) => s.toast);
  const [backups, setBackups] = useState<BackupDto[]>();
  const [confirm, setConfirm] = useState<BackupDto[]>();
  const [restoring, setRestoring] = useState(false);
  const reload = () => void api.invoke('backups/list', {}).then(setBackups).catch(() => {});

  useEffect(() => {
    void attempt(() => api.invoke('backups/list', {})).then((b) => b && setBackups(b));
    return api.on('run/finished', reload);
  }, [attempt]);

  async function restore(runId: string) {
    setRestoring(true);
    const r = await attempt(() => api.invoke('backups/restore', { runId }));
    setRestoring(false);
    setConfirm(undefined);
    if (r) {
      const changed = r.tables.map((t) => `${t.table} (−${fmtInt(t.deleted)} +${fmtInt(t.inserted)})`).join(', ');
      toast('ok', `Restored the target as it was before run ${shortId(r.runId)}: ${changed}`);
    }
    reload();
  }

  // One group per run: a restore puts back everything that run changed.
  const byRun = new Map<string, BackupDto[]>();
  for (const b of backups ?? []) byRun.set(b.runId, [...(byRun.get(b.runId) ?? []), b]);

  return (
    <section className="screen" aria-labelledby="backups-title">
      <header className="screen-head">
        <div>
          <h1 id="backups-title">Backups</h1>
          <p className="subtitle">Before a run changes or deletes existing rows it keeps a copy of them here, so the run can be undone.</p>
        </div>
      </header>
      {backups && backups.length === 0 ? (
        <EmptyState icon={<IconBackup />} title="No backups yet">
          Runs that overwrite or delete rows in an existing table keep what they replace. Runs into new or empty tables have nothing to back up.
        </EmptyState>
      ) : (
        [...byRun.entries()].map(([runId, items]) => (
          <article key={runId} className="panel">
            <h2 className="panel-title">
              {items[0]?.jobName ?? 'Run'}{' '}
              <button type="button" className="link mono small" onClick={() => go({ screen: 'run', runId })}>
                {shortId(runId)}
              </button>
              <span className="muted small">{fmtTime(items[0]?.createdAt)}</span>
              <span className="grow" />
              <button
                type="button"
                className="btn btn-sm"
                disabled={!restoreAvailable || items.every((b) => b.restoredAt || b.droppedAt)}
                onClick={() => setConfirm(items.filter((b) => !b.restoredAt && !b.droppedAt))}
                title={restoreAvailable ? 'Put back the rows this run replaced' : 'Restore arrives in a later version'}
              >
                Restore…
              </button>
            </h2>
            <table className="table table-compact">
              <thead>
                <tr>
                  <th>Target table</th>
                  <th>Backup</th>
                  <th>A restore would</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {items.map((b) => (
                  <tr key={b.id}>
                    <td className="mono">{b.targetTable}</td>
                    <td>{b.kind}</td>
                    <td className="muted">{b.restoreAction}</td>
                    <td>
                      {b.restoredAt ? (
                        <span className="badge badge-ok">restored {fmtTime(b.restoredAt)}</span>
                      ) : b.droppedAt ? (
                        <span className="badge badge-muted">pruned</span>
                      ) : (
                        <span className="badge badge-info">restorable</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </article>
        ))
      )}
      <Dialog
        open={confirm !== undefined}
        title={`Undo run ${confirm?.[0] ? shortId(confirm[0].runId) : ''}?`}
        onClose={() => setConfirm(undefined)}
        footer={
          <>
            <button type="button" className="btn" onClick={() => setConfirm(undefined)}>
              Cancel
            </button>
            <button type="button" className="btn btn-danger-solid" disabled={restoring} onClick={() => confirm?.[0] && void restore(confirm[0].runId)}>
              {restoring ? 'Restoring…' : 'Restore'}
            </button>
          </>
        }
      >
        <p>
          In <span className="mono">{confirm?.[0]?.target}</span>, in one transaction, dbferry will:
        </p>
        <ul className="restore-list">
          {confirm?.map((b) => (
            <li key={b.id}>
              <span className="mono strong">{b.targetTable}</span>: {b.restoreAction}
            </li>
          ))}
        </ul>
        <p className="muted">Changes made to these tables after the run, by anything else, are overwritten too. Later dbferry runs on the same tables must be undone first.</p>
      </Dialog>
    </section>
  );
}
