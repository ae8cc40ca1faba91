/**
 * Browser mode: a notification when a run finishes while the page is not in
 * front, once the user has allowed them (the desktop app's main process shows
 * its own). Clicking one opens the run.
 */
import type { RunSummary } from '../../../../shared/events';
import { runFinishedText } from '../../../../shared/notifications';
import { api } from '../../api';
import { useApp } from '../../app/store';

const KEY = 'dbferry.notifications';

export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined';
}

/** On: turned on here, and allowed by the browser. */
export function notificationsOn(): boolean {
  return notificationsSupported() && Notification.permission === 'granted' && localStorage.getItem(KEY) === 'on';
}

export async function turnNotificationsOn(): Promise<NotificationPermission> {
  const permission = await Notification.requestPermission();
  if (permission === 'granted') localStorage.setItem(KEY, 'on');
  return permission;
}

export function turnNotificationsOff(): void {
  localStorage.setItem(KEY, 'off');
}

let focused = document.hasFocus();

function inFront(): boolean {
  return focused && document.visibilityState === 'visible';
}

function show(summary: RunSummary): void {
  const { title, body } = runFinishedText(summary);
  const notification = new Notification(title, { body, tag: `dbferry-run-${summary.runId}` });
  notification.onclick = () => {
    window.focus();
    useApp.getState().go({ screen: 'run', runId: summary.runId });
    notification.close();
  };
}

export function startRunNotifications(): void {
  window.addEventListener('focus', () => (focused = true));
  window.addEventListener('blur', () => (focused = false));
  api.on('run/finished', (summary) => {
    if (useApp.getState().info?.mode !== 'browser' || !notificationsOn() || inFront()) return;
    show(summary);
  });
  // The desktop shell's notification was clicked.
  api.on('app/openRun', ({ runId }) => useApp.getState().go({ screen: 'run', runId }));
}
