import type { JobOptions } from '../../../../shared/jobSpec';
import { useJobs } from './store';

function intOr(v: string, fallback: number): number {
  const n = Number(v);
  return v.trim() === '' || !Number.isFinite(n) ? fallback : Math.max(0, Math.round(n));
}

export function OptionsPanel() {
  const { draft, edit } = useJobs();
  const o = draft.options;
  const set = (patch: Partial<JobOptions>) => edit({ options: { ...o, ...patch } });
  return (
    <div className="options-grid">
      <label className="check">
        <input type="checkbox" checked={o.createTables} onChange={(e) => set({ createTables: e.target.checked })} />
        Create missing target tables
      </label>
      <label className="check">
        <input type="checkbox" checked={o.backups.enabled} onChange={(e) => set({ backups: { ...o.backups, enabled: e.target.checked } })} />
        Back up rows before overwriting them
      </label>
      <label className="check">
        <input type="checkbox" checked={o.validate} onChange={(e) => set({ validate: e.target.checked })} />
        Check rows against the target's types and the rules before writing
      </label>
      <label className="field">
        <span>Verify after the run</span>
        <select value={o.verify} onChange={(e) => set({ verify: e.target.value as JobOptions['verify'] })}>
          <option value="checksum">checksum: counts and chunked checksums</option>
          <option value="count">count: row counts only</option>
          <option value="none">none</option>
        </select>
      </label>
      <label className="field">
        <span>Invalid rows</span>
        <select value={o.onInvalidRow} onChange={(e) => set({ onInvalidRow: e.target.value as JobOptions['onInvalidRow'] })}>
          <option value="dead-letter">send to the dead-letter queue</option>
          <option value="fail">fail the run (nothing applied)</option>
        </select>
      </label>
      <label className="field">
        <span>Fail beyond (rows or %)</span>
        <input
          value={String(o.maxInvalidRows)}
          onChange={(e) => set({ maxInvalidRows: /^\d+$/.test(e.target.value) ? Number(e.target.value) : e.target.value })}
          disabled={o.onInvalidRow === 'fail'}
        />
      </label>
      <label className="field">
        <span>Lanes (chunks copied at once)</span>
        <input type="number" min={1} max={64} value={o.parallel ?? ''} placeholder="cores + 1" onChange={(e) => set({ parallel: e.target.value ? intOr(e.target.value, 1) || 1 : undefined })} />
      </label>
      <label className="field">
        <span>Connections per server, at most</span>
        <input type="number" min={1} max={256} value={o.maxConnections ?? ''} placeholder="lanes + 1" onChange={(e) => set({ maxConnections: e.target.value ? intOr(e.target.value, 2) || 2 : undefined })} />
      </label>
      <label className="field">
        <span>Source isolation</span>
        <select value={o.isolation.source} onChange={(e) => set({ isolation: { ...o.isolation, source: e.target.value as JobOptions['isolation']['source'] } })}>
          <option value="repeatable-read">repeatable read (snapshot)</option>
          <option value="serializable">serializable</option>
        </select>
      </label>
      <label className="field">
        <span>Target isolation</span>
        <select value={o.isolation.target} onChange={(e) => set({ isolation: { ...o.isolation, target: e.target.value as JobOptions['isolation']['target'] } })}>
          <option value="serializable">serializable</option>
          <option value="repeatable-read">repeatable read</option>
          <option value="read-committed">read committed</option>
        </select>
      </label>
      <label className="field">
        <span>Batch rows</span>
        <input type="number" min={1} value={o.batch.maxRows} onChange={(e) => set({ batch: { ...o.batch, maxRows: intOr(e.target.value, 50_000) || 1 } })} />
      </label>
      <label className="field">
        <span>Rate limit (rows/s, 0 = none)</span>
        <input type="number" min={0} value={o.rateLimit.rowsPerSecond} onChange={(e) => set({ rateLimit: { ...o.rateLimit, rowsPerSecond: intOr(e.target.value, 0) } })} />
      </label>
      <label className="field">
        <span>Retries</span>
        <input type="number" min={0} value={o.retries.max} onChange={(e) => set({ retries: { ...o.retries, max: intOr(e.target.value, 5) } })} />
      </label>
      <label className="field">
        <span>Backups kept per table</span>
        <input type="number" min={0} value={o.backups.keep} onChange={(e) => set({ backups: { ...o.backups, keep: intOr(e.target.value, 5) } })} />
      </label>
    </div>
  );
}
