import { create } from 'zustand';
import type { AppInfoDto, Theme } from '../../../shared/api';
import { api, messageOf } from '../api';
import type { LinkState } from '../transport/browserBridge';
import { type Route, fromHash, toHash } from './routes';

export interface Toast {
  id: number;
  kind: 'ok' | 'error' | 'info';
  text: string;
}

interface AppState {
  route: Route;
  go(route: Route): void;
  info?: AppInfoDto;
  theme: Theme;
  setTheme(theme: Theme): void;
  link: LinkState;
  toasts: Toast[];
  toast(kind: Toast['kind'], text: string): void;
  dismiss(id: number): void;
  /** Run an API call, turning a failure into an error toast. */
  attempt<T>(fn: () => Promise<T>): Promise<T | undefined>;
}

let nextToast = 1;

export const useApp = create<AppState>((set, get) => ({
  route: fromHash(location.hash),
  go(route) {
    const hash = toHash(route);
    if (location.hash !== hash) history.pushState(null, '', `${location.pathname}${location.search}${hash}`);
    set({ route });
  },
  theme: 'system',
  setTheme(theme) {
    set({ theme });
    applyTheme(theme);
    void get().attempt(() => api.invoke('settings/save', { theme }));
  },
  link: api.link(),
  toasts: [],
  toast(kind, text) {
    const id = nextToast++;
    set((s) => ({ toasts: [...s.toasts.slice(-3), { id, kind, text }] }));
    setTimeout(() => get().dismiss(id), kind === 'error' ? 9000 : 4000);
  },
  dismiss(id) {
    set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) }));
  },
  async attempt(fn) {
    try {
      return await fn();
    } catch (err) {
      get().toast('error', messageOf(err));
      return undefined;
    }
  },
}));

const media = window.matchMedia('(prefers-color-scheme: dark)');

export function applyTheme(theme: Theme): void {
  const dark = theme === 'dark' || (theme === 'system' && media.matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function startApp(): void {
  window.addEventListener('popstate', () => useApp.setState({ route: fromHash(location.hash) }));
  media.addEventListener('change', () => applyTheme(useApp.getState().theme));
  api.onLink((link) => useApp.setState({ link }));
  useApp.setState({ link: api.link() });
  applyTheme('system');
  void useApp.getState().attempt(async () => {
    const [info, settings] = await Promise.all([api.invoke('app/info', {}), api.invoke('settings/get', {})]);
    useApp.setState({ info, theme: settings.theme });
    applyTheme(settings.theme);
  });
}
