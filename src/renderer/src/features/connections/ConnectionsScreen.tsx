import { useEffect, useState } from 'react';
import type { ConnectionDto } from '../../../../shared/api';
import { useApp } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { IconDatabase } from '../../components/icons';
import { ConnectionForm } from './ConnectionForm';
import { TestResult } from './TestResult';
import { ENGINE_LABEL, useConnections, whereLabel } from './store';

const PASSWORD_LABEL: Record<ConnectionDto['passwordSource'], string> = {
  none: 'no password',
  env: 'password from $',
  saved: 'password saved, encrypted',
  session: 'password kept for this session',
};

export function ConnectionsScreen() {
  const { list, loaded, tests, load, test, remove, loadDemo, demoLoading } = useConnections();
  const demoAvailable = useApp((s) => s.info?.demoAvailable ?? false);
  const [editing, setEditing] = useState<ConnectionDto | 'new' | undefined>();
  const [deleting, setDeleting] = useState<ConnectionDto | undefined>();

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="screen" aria-labelledby="connections-title">
      <header className="screen-head">
        <div>
          <h1 id="connections-title">Connections</h1>
          <p className="subtitle">The databases dbferry copies from and to. Passwords never leave this process.</p>
        </div>
        <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
          Add connection
        </button>
      </header>

      {loaded && list.length === 0 ? (
        <EmptyState
          icon={<IconDatabase />}
          title="No connections yet"
          action={
            <div className="empty-buttons">
              <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
                Add your first connection
              </button>
              {demoAvailable ? (
                <button type="button" className="btn" onClick={() => void loadDemo()} disabled={demoLoading} aria-describedby="demo-hint">
                  {demoLoading ? 'Loading the demo…' : 'Load the demo'}
                </button>
              ) : null}
            </div>
          }
        >
          Add a PostgreSQL, MySQL/MariaDB or SQLite database to copy tables from or into.
          {demoAvailable ? (
            <p id="demo-hint" className="empty-hint">
              Or try dbferry first on the bundled demo: a small SQLite shop (customers, products, orders, order items) as the source, a new
              SQLite file as the target, and a saved job that copies the four tables and verifies them.
            </p>
          ) : null}
        </EmptyState>
      ) : (
        <ul className="cards" aria-label="Saved connections">
          {list.map((c) => {
            const t = tests[c.id];
            return (
              <li key={c.id} className="card conn-card" data-testid={`connection-${c.name}`}>
                <div className="conn-head">
                  <span className={`engine engine-${c.engine}`}>{ENGINE_LABEL[c.engine]}</span>
                  <h2 className="conn-name">{c.name}</h2>
                </div>
                <p className="mono conn-where" title={c.url}>
                  {whereLabel(c)}
                </p>
                <p className="conn-meta">
                  {c.engine === 'sqlite'
                    ? c.params.mode === 'ro'
                      ? 'file, opened read-only'
                      : 'file, read-write'
                    : `${c.params.sslmode ? `ssl ${c.params.sslmode}` : 'ssl default'} · ${PASSWORD_LABEL[c.passwordSource]}${c.passwordSource === 'env' ? c.passwordEnv : ''}`}
                </p>
                <div className="conn-test">
                  {t ? <TestResult pending={t.pending} result={t.result} /> : <span className="muted">Not tested yet</span>}
                </div>
                <div className="card-actions">
                  <button type="button" className="btn btn-sm" onClick={() => void test(c.id)} disabled={t?.pending} aria-label={`Test ${c.name}`}>
                    Test
                  </button>
                  <button type="button" className="btn btn-sm" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                    Edit
                  </button>
                  <button type="button" className="btn btn-sm btn-ghost btn-danger" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
                    Delete
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}

      {editing ? <ConnectionForm editing={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} /> : null}
      <Dialog
        open={deleting !== undefined}
        title="Delete connection?"
        onClose={() => setDeleting(undefined)}
        footer={
          <>
            <button type="button" className="btn" onClick={() => setDeleting(undefined)}>
              Keep it
            </button>
            <button
              type="button"
              className="btn btn-danger-solid"
              onClick={() => {
                if (deleting) void remove(deleting.id);
                setDeleting(undefined);
              }}
            >
              Delete
            </button>
          </>
        }
      >
        <p>
          “{deleting?.name}” and its password are forgotten. Jobs that use it keep their URL, and run history stays. Nothing changes in the
          database itself.
        </p>
      </Dialog>
    </section>
  );
}
