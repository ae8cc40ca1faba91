import { useState } from 'react';
import { type ColumnRule, MODES, type Mode } from '../../../../shared/jobSpec';
import type { ColumnDto } from '../../../../shared/api';
import { type TableDraft } from './draft';
import { useJobs } from './store';

export const MODE_HELP: Record<Mode, string> = {
  replace: 'Make the target equal to the source (atomic swap).',
  append: 'Insert source rows only; never update or delete.',
  upsert: 'Insert new rows, update changed ones, by key.',
  mirror: 'Upsert, and delete target rows whose key is gone from the source.',
};

export function SelectedTables() {
  const { draft, activeTable, setActiveTable, editTable, toggleTable } = useJobs();
  if (draft.allTables) return null;
  if (!draft.tables.length) return <p className="muted pad">Tick the tables to copy. Click a chosen table to set its mode, key, columns, filter and rules.</p>;
  return (
    <ul className="selected-list" aria-label="Tables in this job">
      {draft.tables.map((t) => (
        <li key={t.source} className={t.source === activeTable ? 'active' : ''}>
          <button type="button" className="link grow left" onClick={() => setActiveTable(t.source)} aria-current={t.source === activeTable}>
            <span className="strong">{t.source}</span>
            {t.target ? <span className="muted"> → {t.target}</span> : null}
            {t.where ? <span className="chip">filtered</span> : null}
            {t.cursor ? <span className="chip">incremental</span> : null}
            {Object.keys(t.rules).length ? <span className="chip">rules</span> : null}
          </button>
          <select aria-label={`Mode for ${t.source}`} value={t.mode} onChange={(e) => editTable(t.source, { mode: e.target.value as Mode })}>
            {MODES.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn-ghost btn-icon" aria-label={`Remove ${t.source}`} onClick={() => toggleTable(t.source, false)}>
            ✕
          </button>
        </li>
      ))}
    </ul>
  );
}

export function TableSettings() {
  const { draft, activeTable, source, editTable } = useJobs();
  const t = draft.tables.find((x) => x.source === activeTable);
  if (!t || draft.allTables) return null;
  const detail = source?.details[t.source];
  const columns = detail?.columns ?? [];
  const set = (patch: Partial<TableDraft>) => editTable(t.source, patch);

  return (
    <div className="table-settings" aria-label={`Settings for ${t.source}`}>
      <h3>
        {t.source}
        <span className="muted small"> · {MODE_HELP[t.mode]}</span>
      </h3>
      <div className="field-row">
        <label className="field grow">
          <span>Target table</span>
          <input value={t.target} placeholder={t.source} spellCheck={false} onChange={(e) => set({ target: e.target.value })} />
        </label>
        <label className="field grow">
          <span>Incremental cursor</span>
          <select value={t.cursor} onChange={(e) => set({ cursor: e.target.value })} disabled={t.mode === 'replace' || t.mode === 'mirror'}>
            <option value="">none: copy every row</option>
            {columns.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name} ({c.nativeType})
              </option>
            ))}
          </select>
        </label>
      </div>
      <label className="field">
        <span>Only rows where (source SQL)</span>
        <input className="mono" value={t.where} placeholder="created_at >= '2024-01-01'" spellCheck={false} onChange={(e) => set({ where: e.target.value })} />
      </label>
      {columns.length ? (
        <div className="field-row top">
          <ColumnChecks
            legend={`Key${detail?.primaryKey.length ? ` (default: ${detail.primaryKey.join(', ')})` : ' (the table has no primary key)'}`}
            columns={columns}
            chosen={t.key}
            onChange={(key) => set({ key })}
          />
          <ColumnChecks legend="Columns (default: all)" columns={columns} chosen={t.columns} onChange={(cols) => set({ columns: cols })} />
        </div>
      ) : (
        <p className="muted small">Reading columns…</p>
      )}
      <RulesEditor table={t} columns={columns} onChange={(rules) => set({ rules })} />
      <label className="check">
        <input type="checkbox" checked={t.allowLossy} onChange={(e) => set({ allowLossy: e.target.checked })} />
        Accept type mappings that cannot hold every value exactly (the plan lists them)
      </label>
    </div>
  );
}

function ColumnChecks({ legend, columns, chosen, onChange }: { legend: string; columns: ColumnDto[]; chosen: string[]; onChange(cols: string[]): void }) {
  const set = new Set(chosen);
  return (
    <fieldset className="field grow column-checks">
      <legend>{legend}</legend>
      <div className="checks-scroll">
        {columns.map((c) => (
          <label key={c.name} className="check">
            <input
              type="checkbox"
              checked={set.has(c.name)}
              onChange={(e) => onChange(e.target.checked ? columns.map((x) => x.name).filter((n) => set.has(n) || n === c.name) : chosen.filter((n) => n !== c.name))}
            />
            <span className="mono">{c.name}</span> <span className="muted small">{c.nativeType}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function RulesEditor({ table, columns, onChange }: { table: TableDraft; columns: ColumnDto[]; onChange(rules: Record<string, ColumnRule>): void }) {
  const [adding, setAdding] = useState('');
  const entries = Object.entries(table.rules);
  const update = (col: string, patch: Partial<ColumnRule>) => onChange({ ...table.rules, [col]: { ...table.rules[col], ...patch } });
  const num = (v: string) => (v.trim() === '' ? undefined : Number.isFinite(Number(v)) ? Number(v) : v);
  return (
    <fieldset className="field rules">
      <legend>Validation rules: rows that break one go to the dead-letter queue</legend>
      {entries.map(([col, rule]) => (
        <div key={col} className="rule-row">
          <span className="mono strong">{col}</span>
          <input aria-label={`${col} minimum`} placeholder="min" value={rule.min ?? ''} onChange={(e) => update(col, { min: num(e.target.value) })} />
          <input aria-label={`${col} maximum`} placeholder="max" value={rule.max ?? ''} onChange={(e) => update(col, { max: num(e.target.value) })} />
          <input
            aria-label={`${col} pattern`}
            className="mono"
            placeholder="pattern ^[A-Z0-9-]+$"
            value={rule.pattern ?? ''}
            onChange={(e) => update(col, { pattern: e.target.value || undefined })}
          />
          <label className="check">
            <input type="checkbox" checked={rule.notNull ?? false} onChange={(e) => update(col, { notNull: e.target.checked || undefined })} />
            not null
          </label>
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            aria-label={`Remove the rule on ${col}`}
            onClick={() => onChange(Object.fromEntries(entries.filter(([c]) => c !== col)))}
          >
            ✕
          </button>
        </div>
      ))}
      <div className="field-row">
        <select aria-label="Column to add a rule for" value={adding} onChange={(e) => setAdding(e.target.value)}>
          <option value="">Add a rule for column…</option>
          {columns
            .filter((c) => !(c.name in table.rules))
            .map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
        </select>
        <button
          type="button"
          className="btn btn-sm"
          disabled={!adding}
          onClick={() => {
            onChange({ ...table.rules, [adding]: {} });
            setAdding('');
          }}
        >
          Add rule
        </button>
      </div>
    </fieldset>
  );
}
