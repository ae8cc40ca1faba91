import { useMemo, useRef, useState } from 'react';
import { fmtCompact } from '../../components/format';
import { VirtualList } from '../../components/VirtualList';
import { useJobs } from './store';

export function TablePicker() {
  const { source, draft, toggleTable, setAllTables, setActiveTable, edit, activeTable } = useJobs();
  const [query, setQuery] = useState('');
  const search = useRef<HTMLInputElement>(null);
  const selected = useMemo(() => new Set(draft.tables.map((t) => t.source)), [draft.tables]);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const all = source?.tables ?? [];
    return q ? all.filter((t) => t.name.toLowerCase().includes(q)) : all;
  }, [source?.tables, query]);
  const allShownSelected = shown.length > 0 && shown.every((t) => selected.has(t.name));

  if (!draft.sourceUrl) return <p className="muted pad">Choose a source connection to list its tables.</p>;
  if (source?.loading) return <p className="muted pad" role="status">Reading the list of tables…</p>;
  if (source?.error) return <p className="error-text pad" role="alert">{source.error}</p>;

  return (
    <div className="picker">
      <div className="picker-tools">
        <input
          ref={search}
          type="search"
          aria-label="Search tables"
          placeholder={`Search ${source?.tables.length ?? 0} tables  ( / )`}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setQuery('');
          }}
          data-shortcut="/"
        />
        <label className="check">
          <input
            type="checkbox"
            checked={allShownSelected}
            onChange={(e) =>
              setAllTables(
                shown.map((t) => t.name),
                e.target.checked,
              )
            }
          />
          {query ? `Select the ${shown.length} shown` : 'Select all'}
        </label>
        <label className="check" title="Copy every table the source has when the job runs">
          <input type="checkbox" checked={draft.allTables} onChange={(e) => edit({ allTables: e.target.checked, tables: e.target.checked ? [] : draft.tables })} />
          Every table (*)
        </label>
      </div>
      {draft.allTables ? (
        <p className="muted pad">Every table of the source is copied with the job’s defaults (upsert by primary key). Untick to choose tables one by one.</p>
      ) : (
        <VirtualList
          label="Source tables"
          testId="table-list"
          items={shown}
          rowHeight={36}
          columns="28px minmax(0, 1fr) 90px minmax(0, 140px)"
          header={
            <>
              <span />
              <span>Table</span>
              <span className="num">Rows (est.)</span>
              <span>Primary key</span>
            </>
          }
          getKey={(t) => t.name}
          onActivate={(t) => {
            if (!selected.has(t.name)) toggleTable(t.name, true);
            else setActiveTable(t.name);
          }}
          renderRow={(t) => {
            const d = source?.details[t.name];
            const on = selected.has(t.name);
            return (
              <>
                <input
                  type="checkbox"
                  aria-label={`Copy ${t.name}`}
                  checked={on}
                  tabIndex={-1}
                  onClick={(e) => e.stopPropagation()}
                  onChange={(e) => toggleTable(t.name, e.target.checked)}
                />
                <span className={`cell-name${activeTable === t.name && on ? ' strong' : ''}`}>{t.name}</span>
                <span className="num muted" title={d && d.rowEstimate === undefined ? 'no statistics: the plan counts' : undefined}>
                  {d ? fmtCompact(d.rowEstimate) : '…'}
                </span>
                <span className={d && d.primaryKey.length === 0 ? 'warn-text small' : 'muted small mono'}>
                  {d ? (d.primaryKey.length ? d.primaryKey.join(', ') : 'none') : ''}
                </span>
              </>
            );
          }}
        />
      )}
    </div>
  );
}
