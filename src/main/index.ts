/**
 * The Electron shell: lifecycle and windows only. The engine, store and API
 * are the same modules the CLI and `dbferry ui` use; runs report through the
 * router's events, shown live in the window and as desktop notifications.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Notification, app, session } from 'electron';
import { createRouter, type Router } from './api/router.js';
import { SafeStorageSecrets } from './ipc/safeStorageSecrets.js';
import { registerIpc } from './ipc/register.js';
import { createMainWindow } from './ipc/window.js';
import { Connections } from './store/connections.js';
import { defaultStateDir } from './store/location.js';
import { Store } from './store/store.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let store: Store | undefined;
let router: Router | undefined;

function notifyRunFinished(r: Router): void {
  r.subscribe((event, payload) => {
    if (event !== 'run/finished' || !Notification.isSupported()) return;
    const summary = payload as { status: string; rowsWritten: number; rowsDeadLettered: number; error?: string };
    const body =
      summary.status === 'succeeded'
        ? `${summary.rowsWritten.toLocaleString()} rows written and verified`
        : summary.status === 'dead-lettered'
          ? `${summary.rowsDeadLettered.toLocaleString()} rows in the dead-letter queue`
          : (summary.error ?? summary.status);
    new Notification({ title: `dbferry: run ${summary.status}`, body }).show();
  });
}

if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', () => {
  const win = BrowserWindow.getAllWindows()[0];
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'notifications'));

  const stateDir = process.env.DBFERRY_HOME ?? defaultStateDir();
  store = Store.open(stateDir);
  router = createRouter({ mode: 'desktop', version: app.getVersion(), stateDir, store, secrets: new SafeStorageSecrets(new Connections(store.db)) });
  registerIpc(router, devServerUrl);
  notifyRunFinished(router);

  const open = () => createMainWindow(join(here, '../preload/index.cjs'), devServerUrl, join(here, '../renderer/index.html'));
  open();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) open();
  });
});

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!(devServerUrl && url.startsWith(devServerUrl)) && !url.startsWith('file://')) event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let closing = false;
app.on('before-quit', (event) => {
  if (closing || !router) return;
  // Let runs in progress roll back before the store closes.
  closing = true;
  event.preventDefault();
  void router.close().finally(() => {
    store?.close();
    app.quit();
  });
});
