import { create } from 'zustand';
import type { CommandInput, ScheduleDto } from '../../../../shared/api';
import { api, messageOf } from '../../api';
import { useApp } from '../../app/store';

/** What the form edits: a new schedule (no id) or an existing one. */
export interface ScheduleDraft {
  id?: string;
  jobId: string;
  cron: string;
  enabled: boolean;
}

interface SchedulesState {
  list: ScheduleDto[];
  loaded: boolean;
  load(): Promise<void>;
  /** The schedule being added or edited; undefined when the form is closed. */
  draft?: ScheduleDraft;
  compose(draft: ScheduleDraft): void;
  closeForm(): void;
  /** Save; on failure, the message to show in the form. */
  save(input: CommandInput<'schedules/save'>): Promise<string | undefined>;
  setEnabled(s: ScheduleDto, enabled: boolean): Promise<void>;
  remove(s: ScheduleDto): Promise<void>;
}

export const useSchedules = create<SchedulesState>((set, get) => ({
  list: [],
  loaded: false,
  async load() {
    const list = await useApp.getState().attempt(() => api.invoke('schedules/list', {}));
    if (list) set({ list, loaded: true });
  },
  compose(draft) {
    set({ draft });
  },
  closeForm() {
    set({ draft: undefined });
  },
  async save(input) {
    try {
      const saved = await api.invoke('schedules/save', input);
      set({ draft: undefined });
      useApp.getState().toast('ok', `Schedule saved: “${saved.jobName}”, ${saved.description.replace(/^./, (c) => c.toLowerCase())}`);
      await get().load();
      return undefined;
    } catch (err) {
      return messageOf(err);
    }
  },
  async setEnabled(s, enabled) {
    // Shown at once; the answer brings the next run.
    set((st) => ({ list: st.list.map((x) => (x.id === s.id ? { ...x, enabled } : x)) }));
    await useApp.getState().attempt(() => api.invoke('schedules/save', { id: s.id, jobId: s.jobId, cron: s.cron, enabled }));
    await get().load();
  },
  async remove(s) {
    const r = await useApp.getState().attempt(() => api.invoke('schedules/delete', { id: s.id }));
    if (r?.deleted) useApp.getState().toast('info', `Deleted the schedule of “${s.jobName}”`);
    await get().load();
  },
}));

let feed = false;

/** Keep the list current: the scheduler starts and skips runs on its own, other windows edit schedules. */
export function followSchedules(): void {
  if (feed) return;
  feed = true;
  const reload = () => {
    if (useSchedules.getState().loaded) void useSchedules.getState().load();
  };
  api.on('data/changed', ({ what }) => {
    if (what === 'schedules' || what === 'jobs') reload();
  });
  api.on('schedule/fired', reload);
  api.on('run/finished', reload);
}
