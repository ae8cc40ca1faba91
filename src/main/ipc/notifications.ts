/**
 * A desktop notification when a run finishes while no dbferry window has the
 * focus (a user watching the window sees the toast instead); clicking it
 * brings the window forward on that run.
 */
import { BrowserWindow, Notification } from 'electron';
import type { RunSummary } from '../../shared/events.js';
import { runFinishedText } from '../../shared/notifications.js';
import type { Router } from '../api/router.js';
import { IPC_EVENT } from './register.js';

export function notifyRunFinished(router: Router): void {
  router.subscribe((event, payload) => {
    if (event !== 'run/finished' || !Notification.isSupported() || BrowserWindow.getFocusedWindow()) return;
    const summary = payload as RunSummary;
    const notification = new Notification(runFinishedText(summary));
    notification.on('click', () => {
      const win = BrowserWindow.getAllWindows()[0];
      if (!win || win.isDestroyed()) return;
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
      win.webContents.send(IPC_EVENT, 'app/openRun', { runId: summary.runId });
    });
    notification.show();
  });
}
