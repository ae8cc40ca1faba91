import { create } from 'zustand';
import type { JobDto, PlanDto, TableDetailDto, TableRefDto } from '../../../../shared/api';
import { parseJobSpec } from '../../../../shared/jobSpec';
import { api, messageOf } from '../../api';
import { useApp } from '../../app/store';
import { useConnections } from '../connections/store';
import { type JobDraft, type TableDraft, defaultTarget, fromSpec, newDraft, newTable, toSpec } from './draft';

interface SourceTables {
  url: string;
  loading: boolean;
  error?: string;
  tables: TableRefDto[];
  details: Record<string, TableDetailDto>;
}

interface JobsState {
  jobs: JobDto[];
  loaded: boolean;
  load(): Promise<void>;

  draft: JobDraft;
  dirty: boolean;
  /** Which selected table the settings panel shows. */
  activeTable?: string;
  edit(patch: Partial<JobDraft>): void;
  editTable(source: string, patch: Partial<TableDraft>): void;
  toggleTable(source: string, on: boolean): void;
  setAllTables(names: string[], on: boolean): void;
  setActiveTable(source?: string): void;
  startNew(): void;
  open(job: JobDto): void;
  importJson(text: string): string | undefined;

  source?: SourceTables;
  loadSourceTables(): Promise<void>;

  save(): Promise<JobDto | undefined>;
  duplicate(id: string): Promise<void>;
  remove(id: string): Promise<void>;

  plan?: PlanDto;
  planning: boolean;
  /** diff: compare the rows too (what a run would insert, update, delete). */
  preview(opts?: { diff?: boolean }): Promise<void>;
  run(): Promise<string | undefined>;
}

function connectionFor(url: string) {
  return useConnections.getState().list.find((c) => c.url === url);
}

export const useJobs = create<JobsState>((set, get) => ({
  jobs: [],
  loaded: false,
  async load() {
    const jobs = await useApp.getState().attempt(() => api.invoke('jobs/list', {}));
    if (jobs) set({ jobs, loaded: true });
  },

  draft: newDraft(),
  dirty: false,
  edit(patch) {
    set((s) => ({ draft: { ...s.draft, ...patch }, dirty: true, plan: undefined }));
    if (patch.sourceUrl !== undefined) void get().loadSourceTables();
  },
  editTable(source, patch) {
    set((s) => ({ draft: { ...s.draft, tables: s.draft.tables.map((t) => (t.source === source ? { ...t, ...patch } : t)) }, dirty: true, plan: undefined }));
  },
  toggleTable(source, on) {
    get().setAllTables([source], on);
    if (on) set({ activeTable: source });
  },
  setAllTables(names, on) {
    set((s) => {
      const selected = new Set(s.draft.tables.map((t) => t.source));
      const details = s.source?.details ?? {};
      const srcEngine = connectionFor(s.draft.sourceUrl)?.engine;
      const tgtEngine = connectionFor(s.draft.targetUrl)?.engine;
      let tables = s.draft.tables;
      if (on) {
        const added = names
          .filter((n) => !selected.has(n))
          .map((n) => {
            const t = newTable(n, (details[n]?.primaryKey.length ?? 1) > 0);
            const target = defaultTarget(n, srcEngine, tgtEngine);
            return target !== n ? { ...t, target } : t;
          });
        tables = [...tables, ...added];
      } else {
        const off = new Set(names);
        tables = tables.filter((t) => !off.has(t.source));
      }
      const activeTable = tables.some((t) => t.source === s.activeTable) ? s.activeTable : tables[0]?.source;
      return { draft: { ...s.draft, tables, allTables: false }, dirty: true, plan: undefined, activeTable };
    });
  },
  setActiveTable(activeTable) {
    set({ activeTable });
  },
  startNew() {
    set({ draft: newDraft(), dirty: false, plan: undefined, activeTable: undefined, source: undefined });
  },
  open(job) {
    set({ draft: fromSpec(job.spec, job.id), dirty: false, plan: undefined, activeTable: undefined });
    void get().loadSourceTables();
  },
  importJson(text) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return `not JSON: ${messageOf(err)}`;
    }
    const parsed = parseJobSpec(value);
    if (!parsed.ok) return parsed.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    set((s) => ({ draft: { ...fromSpec(parsed.spec), jobId: s.draft.jobId }, dirty: true, plan: undefined, activeTable: undefined }));
    void get().loadSourceTables();
    return undefined;
  },

  async loadSourceTables() {
    const url = get().draft.sourceUrl;
    const conn = connectionFor(url);
    if (!conn) {
      set({ source: undefined });
      return;
    }
    set({ source: { url, loading: true, tables: [], details: {} } });
    try {
      const tables = await api.invoke('connections/tables', { id: conn.id });
      if (get().draft.sourceUrl !== url) return;
      set({ source: { url, loading: false, tables, details: {} } });
      // Keys, columns and estimates arrive in batches, one session per batch.
      for (let i = 0; i < tables.length; i += 50) {
        const batch = tables.slice(i, i + 50).map((t) => t.name);
        const details = await api.invoke('connections/describe', { id: conn.id, tables: batch });
        const current = get().source;
        if (!current || current.url !== url) return;
        set({ source: { ...current, details: { ...current.details, ...Object.fromEntries(details.map((d) => [d.name, d])) } } });
      }
    } catch (err) {
      if (get().draft.sourceUrl === url) set({ source: { url, loading: false, tables: [], details: {}, error: messageOf(err) } });
    }
  },

  async save() {
    const { draft } = get();
    try {
      const job = await api.invoke('jobs/save', { id: draft.jobId, spec: toSpec(draft) });
      set((s) => ({ draft: { ...s.draft, jobId: job.id, name: job.name }, dirty: false }));
      useApp.getState().toast('ok', `Saved job “${job.name}”`);
      await get().load();
      return job;
    } catch (err) {
      useApp.getState().toast('error', messageOf(err));
      return undefined;
    }
  },
  async duplicate(id) {
    const copy = await useApp.getState().attempt(() => api.invoke('jobs/duplicate', { id }));
    if (copy) useApp.getState().toast('ok', `Created “${copy.name}”`);
    await get().load();
  },
  async remove(id) {
    await useApp.getState().attempt(() => api.invoke('jobs/delete', { id }));
    if (get().draft.jobId === id) set((s) => ({ draft: { ...s.draft, jobId: undefined } }));
    await get().load();
  },

  planning: false,
  async preview(opts) {
    set({ planning: true, plan: undefined });
    try {
      const plan = await api.invoke('plan/preview', { spec: toSpec(get().draft), ...(opts?.diff ? { diff: true } : {}) });
      set({ plan });
    } catch (err) {
      set({ plan: { ok: false, tables: [], warnings: [], problems: [messageOf(err)] } });
    } finally {
      set({ planning: false });
    }
  },
  async run() {
    const { draft } = get();
    const started = await useApp.getState().attempt(() => api.invoke('runs/start', { spec: toSpec(draft), jobId: draft.jobId }));
    return started?.runId;
  },
}));
