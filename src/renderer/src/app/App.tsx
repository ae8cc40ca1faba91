import { type ReactNode, useEffect } from 'react';
import { Toasts } from '../components/Toasts';
import { IconBackup, IconDatabase, IconDeadLetter, IconJob, IconMoon, IconRuns, IconSchedule, IconSun, Logo } from '../components/icons';
import { BackupsScreen } from '../features/backups/BackupsScreen';
import { ConnectionsScreen } from '../features/connections/ConnectionsScreen';
import { DeadLettersScreen } from '../features/dead-letters/DeadLettersScreen';
import { JobBuilder } from '../features/jobs/JobBuilder';
import { JobsScreen } from '../features/jobs/JobsScreen';
import { PlanPreview } from '../features/jobs/PlanPreview';
import { RunScreen } from '../features/runs/RunScreen';
import { RunsScreen } from '../features/runs/RunsScreen';
import { SchedulesScreen } from '../features/schedules/SchedulesScreen';
import { NotificationsToggle } from '../features/runs/NotificationsToggle';
import { startRunNotifications } from '../features/runs/notifications';
import { startRunsFeed, useRuns } from '../features/runs/store';
import type { Route } from './routes';
import { startApp, useApp } from './store';

const NAV: { key: string; label: string; icon: ReactNode; route: Route; match: Route['screen'][] }[] = [
  { key: '1', label: 'Connections', icon: <IconDatabase />, route: { screen: 'connections' }, match: ['connections'] },
  { key: '2', label: 'Jobs', icon: <IconJob />, route: { screen: 'jobs' }, match: ['jobs', 'builder', 'plan'] },
  { key: '3', label: 'Runs', icon: <IconRuns />, route: { screen: 'runs' }, match: ['runs', 'run'] },
  { key: '4', label: 'Dead letters', icon: <IconDeadLetter />, route: { screen: 'dead-letters' }, match: ['dead-letters'] },
  { key: '5', label: 'Backups', icon: <IconBackup />, route: { screen: 'backups' }, match: ['backups'] },
  { key: '6', label: 'Schedules', icon: <IconSchedule />, route: { screen: 'schedules' }, match: ['schedules'] },
];

let started = false;

function Screen({ route }: { route: Route }) {
  switch (route.screen) {
    case 'connections':
      return <ConnectionsScreen />;
    case 'jobs':
      return <JobsScreen />;
    case 'builder':
      return <JobBuilder />;
    case 'plan':
      return <PlanPreview />;
    case 'runs':
      return <RunsScreen />;
    case 'run':
      return <RunScreen runId={route.runId} />;
    case 'dead-letters':
      return <DeadLettersScreen runId={route.runId} />;
    case 'backups':
      return <BackupsScreen />;
    case 'schedules':
      return <SchedulesScreen />;
  }
}

function ActiveRuns() {
  const views = useRuns((s) => s.views);
  const go = useApp((s) => s.go);
  const running = Object.values(views).filter((v) => v.status === 'running');
  if (!running.length) return null;
  return (
    <div className="nav-live">
      <span className="nav-live-title">Running now</span>
      {running.map((v) => (
        <button key={v.runId} type="button" className="nav-live-run" onClick={() => go({ screen: 'run', runId: v.runId })}>
          <span className="pulse" aria-hidden /> {v.job ?? v.runId.slice(0, 8)}
        </button>
      ))}
    </div>
  );
}

export function App() {
  const route = useApp((s) => s.route);
  const go = useApp((s) => s.go);
  const theme = useApp((s) => s.theme);
  const setTheme = useApp((s) => s.setTheme);
  const info = useApp((s) => s.info);
  const link = useApp((s) => s.link);

  useEffect(() => {
    if (started) return;
    started = true;
    startApp();
    startRunsFeed();
    startRunNotifications();
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      const typing = target.matches('input, textarea, select, [contenteditable]');
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        const item = NAV.find((n) => n.key === e.key);
        if (item) {
          e.preventDefault();
          go(item.route);
        }
      } else if (e.key === '/' && !typing) {
        const search = document.querySelector<HTMLInputElement>('main input[type="search"]');
        if (search) {
          e.preventDefault();
          search.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.screen]);

  const dark = document.documentElement.dataset.theme === 'dark';
  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="brand">
          <Logo />
          <span>dbferry</span>
        </div>
        <ul>
          {NAV.map((n) => {
            const on = n.match.includes(route.screen);
            return (
              <li key={n.label}>
                <button type="button" className={`nav-item${on ? ' on' : ''}`} aria-current={on ? 'page' : undefined} onClick={() => go(n.route)} title={`Alt+${n.key}`}>
                  {n.icon}
                  <span>{n.label}</span>
                  <kbd aria-hidden>{n.key}</kbd>
                </button>
              </li>
            );
          })}
        </ul>
        <ActiveRuns />
        <div className="sidebar-foot">
          <button
            type="button"
            className="nav-item"
            onClick={() => setTheme(dark ? 'light' : 'dark')}
            aria-label={`Switch to ${dark ? 'light' : 'dark'} theme`}
            title={`Theme: ${theme}`}
          >
            {dark ? <IconSun /> : <IconMoon />}
            <span>{dark ? 'Light theme' : 'Dark theme'}</span>
          </button>
          <NotificationsToggle />
          <p className="mode-note">
            {info?.mode === 'browser' ? 'Browser mode · 127.0.0.1' : 'Desktop'}
            {link !== 'open' ? <span className="error-text"> · reconnecting…</span> : null}
          </p>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
      <Toasts />
    </div>
  );
}
