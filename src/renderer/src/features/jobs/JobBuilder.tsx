import { useEffect, useState } from 'react';
import { redactUrl } from '../../../../shared/connectionUrl';
import { useApp } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { IconArrow } from '../../components/icons';
import { ENGINE_LABEL, useConnections, whereLabel } from '../connections/store';
import { toSpec } from './draft';
import { download, fileName } from './download';
import { OptionsPanel } from './OptionsPanel';
import { TablePicker } from './TablePicker';
import { SelectedTables, TableSettings } from './TableSettings';
import { useJobs } from './store';

function EndpointSelect({ label, value, onChange }: { label: string; value: string; onChange(url: string): void }) {
  const connections = useConnections((s) => s.list);
  const known = connections.some((c) => c.url === value);
  const chosen = connections.find((c) => c.url === value);
  return (
    <label className="field endpoint">
      <span>{label}</span>
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Choose a connection…</option>
        {connections.map((c) => (
          <option key={c.id} value={c.url}>
            {c.name} · {ENGINE_LABEL[c.engine]}
          </option>
        ))}
        {value && !known ? <option value={value}>{redactUrl(value)} (from the imported spec)</option> : null}
      </select>
      <small className="mono muted ellipsis">{chosen ? whereLabel(chosen) : value ? redactUrl(value) : ' '}</small>
    </label>
  );
}

export function JobBuilder() {
  const { draft, dirty, edit, save, preview, importJson, loadSourceTables, source } = useJobs();
  const go = useApp((s) => s.go);
  const connections = useConnections((s) => s.list);
  const [importing, setImporting] = useState(false);
  const [importText, setImportText] = useState('');
  const [importError, setImportError] = useState('');

  useEffect(() => {
    void useConnections.getState().load();
  }, []);
  useEffect(() => {
    if (draft.sourceUrl && !source && connections.length) void loadSourceTables();
  }, [draft.sourceUrl, source, connections.length, loadSourceTables]);

  const canPlan = Boolean(draft.sourceUrl && draft.targetUrl && (draft.allTables || draft.tables.length));
  const toPlan = () => {
    if (!canPlan) return;
    go({ screen: 'plan' });
    void preview();
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        void save();
      } else if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
        e.preventDefault();
        toPlan();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <section className="screen builder" aria-labelledby="builder-title">
      <header className="screen-head">
        <div className="grow">
          <p className="eyebrow">
            <button type="button" className="link" onClick={() => go({ screen: 'jobs' })}>
              Jobs
            </button>{' '}
            / {draft.jobId ? 'Edit job' : 'New job'}
            {dirty ? <span className="chip">unsaved</span> : null}
          </p>
          <h1 id="builder-title" className="sr-only">
            Job builder
          </h1>
          <input className="title-input" aria-label="Job name" placeholder="Name this job, e.g. orders to reporting" value={draft.name} onChange={(e) => edit({ name: e.target.value })} />
        </div>
        <div className="head-actions">
          <button type="button" className="btn btn-ghost" onClick={() => setImporting(true)}>
            Import JSON
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => download(fileName(draft.name), JSON.stringify(toSpec(draft), null, 2))} disabled={!draft.sourceUrl}>
            Export JSON
          </button>
          <button type="button" className="btn" onClick={() => void save()} disabled={!draft.sourceUrl || !draft.targetUrl} title="Ctrl+S">
            Save
          </button>
          <button type="button" className="btn btn-primary" onClick={toPlan} disabled={!canPlan} title="Ctrl+Enter">
            Preview plan
          </button>
        </div>
      </header>

      <div className="panel">
        <h2 className="panel-title">
          <span className="step">1</span> From and to
        </h2>
        <div className="endpoints">
          <EndpointSelect label="Source" value={draft.sourceUrl} onChange={(sourceUrl) => edit({ sourceUrl, tables: [] })} />
          <span className="endpoint-arrow" aria-hidden>
            <IconArrow />
          </span>
          <EndpointSelect label="Target" value={draft.targetUrl} onChange={(targetUrl) => edit({ targetUrl })} />
        </div>
        {draft.sourceUrl && draft.sourceUrl === draft.targetUrl ? <p className="warn-text">The source and the target are the same database: tables must get other names.</p> : null}
        {connections.length === 0 ? (
          <p className="muted">
            No connections yet.{' '}
            <button type="button" className="link" onClick={() => go({ screen: 'connections' })}>
              Add one
            </button>
            .
          </p>
        ) : null}
      </div>

      <div className="panel tables-panel">
        <h2 className="panel-title">
          <span className="step">2</span> Tables
          <span className="muted small">{draft.allTables ? 'every table' : `${draft.tables.length} chosen`}</span>
        </h2>
        <div className="tables-layout">
          <TablePicker />
          <div className="tables-side">
            <SelectedTables />
            <TableSettings />
          </div>
        </div>
      </div>

      <details className="panel">
        <summary className="panel-title">
          <span className="step">3</span> Options <span className="muted small">verify {draft.options.verify} · invalid rows: {draft.options.onInvalidRow} · create tables {draft.options.createTables ? 'on' : 'off'}</span>
        </summary>
        <OptionsPanel />
      </details>

      <Dialog
        open={importing}
        title="Import a job spec"
        wide
        onClose={() => setImporting(false)}
        footer={
          <>
            <button type="button" className="btn" onClick={() => setImporting(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                const err = importJson(importText);
                setImportError(err ?? '');
                if (!err) setImporting(false);
              }}
            >
              Import
            </button>
          </>
        }
      >
        <p className="muted">Paste a job JSON (as `dbferry run` takes it) or choose a file. Passwords written in URLs are not saved.</p>
        <input
          type="file"
          accept=".json,application/json"
          aria-label="Job file"
          onChange={async (e) => {
            const file = e.target.files?.[0];
            if (file) setImportText(await file.text());
          }}
        />
        <textarea className="mono code-input" rows={14} aria-label="Job JSON" value={importText} onChange={(e) => setImportText(e.target.value)} spellCheck={false} />
        {importError ? <pre className="error-text">{importError}</pre> : null}
      </Dialog>
    </section>
  );
}
