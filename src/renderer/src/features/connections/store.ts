import { create } from 'zustand';
import type { CommandInput, ConnectionDto, ConnectionTestDto } from '../../../../shared/api';
import { api } from '../../api';
import { useApp } from '../../app/store';
import { useJobs } from '../jobs/store';

interface TestState {
  pending: boolean;
  result?: ConnectionTestDto;
  at?: number;
}

interface ConnectionsState {
  list: ConnectionDto[];
  loaded: boolean;
  tests: Record<string, TestState>;
  load(): Promise<void>;
  save(input: CommandInput<'connections/save'>): Promise<ConnectionDto | undefined>;
  remove(id: string): Promise<void>;
  test(id: string): Promise<void>;
  /** Create the bundled demo (two SQLite connections and a job); true when done. */
  loadDemo(): Promise<boolean>;
  demoLoading: boolean;
}

export const useConnections = create<ConnectionsState>((set, get) => ({
  list: [],
  loaded: false,
  tests: {},
  async load() {
    const list = await useApp.getState().attempt(() => api.invoke('connections/list', {}));
    if (list) set({ list, loaded: true });
  },
  async save(input) {
    const saved = await api.invoke('connections/save', input);
    await get().load();
    useApp.getState().toast('ok', `Saved connection “${saved.name}”`);
    return saved;
  },
  async remove(id) {
    await useApp.getState().attempt(() => api.invoke('connections/delete', { id }));
    await get().load();
  },
  demoLoading: false,
  async loadDemo() {
    set({ demoLoading: true });
    try {
      const demo = await useApp.getState().attempt(() => api.invoke('app/loadDemo', {}));
      if (!demo) return false;
      await get().load();
      await useJobs.getState().load();
      useApp.getState().toast('ok', `Loaded the demo: ${demo.connections.map((c) => `“${c.name}”`).join(' and ')}, and the job “${demo.job.name}”`);
      return true;
    } finally {
      set({ demoLoading: false });
    }
  },
  async test(id) {
    set((s) => ({ tests: { ...s.tests, [id]: { ...s.tests[id], pending: true } } }));
    const result = await api.invoke('connections/test', { id }).catch(
      (err: Error): ConnectionTestDto => ({ ok: false, error: err.message, latencyMs: 0 }),
    );
    set((s) => ({ tests: { ...s.tests, [id]: { pending: false, result, at: Date.now() } } }));
  },
}));

export const ENGINE_LABEL: Record<string, string> = { postgres: 'PostgreSQL', mysql: 'MySQL / MariaDB', sqlite: 'SQLite' };

/** Where a connection points, as a DBA reads it: user@host:port/db or the file. */
export function whereLabel(c: ConnectionDto): string {
  if (c.engine === 'sqlite') return c.path ?? c.url;
  return `${c.user ? `${c.user}@` : ''}${c.host}:${c.port}/${c.database ?? ''}`;
}
