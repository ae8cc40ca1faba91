import { create } from 'zustand';
import type { RunDto, RunEventDto } from '../../../../shared/api';
import type { RunEvent } from '../../../../shared/events';
import { api } from '../../api';
import { useApp } from '../../app/store';
import { type RunView, emptyRun, reduceRun } from './runState';

interface RunsState {
  history: RunDto[];
  historyLoaded: boolean;
  loadHistory(): Promise<void>;
  /** Folded state of every run seen or opened. */
  views: Record<string, RunView>;
  /** The job log of every run seen or opened. */
  logs: Record<string, RunEventDto[]>;
  records: Record<string, RunDto>;
  specs: Record<string, unknown>;
  loading: Record<string, boolean>;
  open(runId: string): Promise<void>;
  cancel(runId: string): Promise<void>;
  resume(runId: string): Promise<string | undefined>;
}

/** Live events that arrive while a run's stored log is being fetched. */
const pending = new Map<string, { at: number; event: RunEvent }[]>();

export const useRuns = create<RunsState>((set, get) => ({
  history: [],
  historyLoaded: false,
  async loadHistory() {
    const history = await useApp.getState().attempt(() => api.invoke('runs/list', {}));
    if (history) set({ history, historyLoaded: true });
  },
  views: {},
  logs: {},
  records: {},
  specs: {},
  loading: {},

  async open(runId) {
    const live = get().views[runId];
    if (live && get().logs[runId]?.length && live.status === 'running') {
      // Followed live since it started: only the record is missing.
      const detail = await api.invoke('runs/get', { runId }).catch(() => undefined);
      if (detail) set((s) => ({ records: { ...s.records, [runId]: detail.run }, specs: { ...s.specs, [runId]: detail.spec } }));
      return;
    }
    pending.set(runId, []);
    set((s) => ({ loading: { ...s.loading, [runId]: true } }));
    try {
      const detail = await api.invoke('runs/get', { runId });
      const id = detail.run.id;
      let view = emptyRun(id);
      for (const e of detail.events) view = reduceRun(view, e.event, Date.parse(e.at));
      const log = detail.events.slice();
      // Events that raced the fetch: keep those the stored log does not already end with.
      const recent = new Set(log.slice(-50).map((e) => JSON.stringify(e.event)));
      let seq = log[log.length - 1]?.seq ?? 0;
      for (const p of pending.get(runId) ?? []) {
        if (recent.has(JSON.stringify(p.event))) continue;
        view = reduceRun(view, p.event, p.at);
        log.push({ seq: ++seq, at: new Date(p.at).toISOString(), event: p.event });
      }
      if (!detail.run.active && view.status === 'running') view = { ...view, status: detail.run.status };
      set((s) => ({
        views: { ...s.views, [id]: view },
        logs: { ...s.logs, [id]: log },
        records: { ...s.records, [id]: detail.run },
        specs: { ...s.specs, [id]: detail.spec },
      }));
    } catch (err) {
      useApp.getState().toast('error', (err as Error).message);
    } finally {
      pending.delete(runId);
      set((s) => ({ loading: { ...s.loading, [runId]: false } }));
    }
  },

  async cancel(runId) {
    const r = await useApp.getState().attempt(() => api.invoke('runs/cancel', { runId }));
    if (r?.cancelled) useApp.getState().toast('info', 'Cancelling: the target is being rolled back…');
  },
  async resume(runId) {
    const r = await useApp.getState().attempt(() => api.invoke('runs/resume', { runId }));
    return r?.runId;
  },
}));

function onRunEvent(runId: string, event: RunEvent): void {
  const at = Date.now();
  const buffer = pending.get(runId);
  if (buffer) {
    buffer.push({ at, event });
    return;
  }
  useRuns.setState((s) => {
    const view = reduceRun(s.views[runId] ?? emptyRun(runId), event, at);
    const log = s.logs[runId] ?? [];
    const entry: RunEventDto = { seq: (log[log.length - 1]?.seq ?? 0) + 1, at: new Date(at).toISOString(), event };
    return { views: { ...s.views, [runId]: view }, logs: { ...s.logs, [runId]: [...log, entry] } };
  });
}

export function startRunsFeed(): void {
  api.on('run/event', ({ runId, event }) => onRunEvent(runId, event));
  api.on('run/finished', (summary) => {
    void useRuns.getState().loadHistory();
    void api
      .invoke('runs/get', { runId: summary.runId })
      .then((d) => useRuns.setState((s) => ({ records: { ...s.records, [d.run.id]: d.run } })))
      .catch(() => {});
    const tone = summary.status === 'succeeded' ? 'ok' : summary.status === 'dead-lettered' ? 'info' : 'error';
    useApp.getState().toast(tone, `Run ${summary.runId.slice(0, 8)} ${summary.status}${summary.error ? `: ${summary.error}` : ''}`);
  });
}
