/**
 * The Electron shell: lifecycle and windows only. The engine, store and API
 * are the same modules the CLI and `dbferry ui` use; runs report through the
 * router's events, shown live in the window and as desktop notifications.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog, safeStorage, session } from 'electron';
import type { Router } from './api/router.js';
import { SafeStorageSecrets } from './ipc/safeStorageSecrets.js';
import { EncryptedStoreVault } from './api/connections/sshVault.js';
import { notifyRunFinished } from './ipc/notifications.js';
import { registerIpc } from './ipc/register.js';
import { createMainWindow } from './ipc/window.js';
import { defaultStateDir } from './store/location.js';
import type { Store } from './store/store.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const devServerUrl = process.env.ELECTRON_RENDERER_URL;

let store: Store | undefined;
let router: Router | undefined;

// DBFERRY_HOME moves all of the app's data, Chromium's included, as it moves the
// CLI's: a second profile (or a test) then runs beside the usual one.
if (process.env.DBFERRY_HOME) app.setPath('userData', process.env.DBFERRY_HOME);

const primary = app.requestSingleInstanceLock();
if (!primary) app.quit();
app.on('second-instance', () => {
  const win = BrowserWindow.getAllWindows()[0];
  if (win) {
    if (win.isMinimized()) win.restore();
    win.focus();
  }
});

app.whenReady().then(async () => {
  if (!primary) return; // another instance has the window and the store
  // Loaded here, not at the top: they load better-sqlite3, and if it was built for
  // Node rather than Electron the error below can then say what to do.
  const [{ createRouter }, { Connections }, { Store }] = await Promise.all([
    import('./api/router.js'),
    import('./store/connections.js'),
    import('./store/store.js'),
  ]);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    // Written out here (not built) so the Electron security lint can read and check it.
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ],
      },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'notifications'));

  const stateDir = process.env.DBFERRY_HOME ?? defaultStateDir();
  store = Store.open(stateDir);
  router = createRouter({
    mode: 'desktop',
    version: app.getVersion(),
    stateDir,
    store,
    secrets: new SafeStorageSecrets(new Connections(store.db)),
    sshVault: new EncryptedStoreVault(new Connections(store.db), safeStorage),
    scheduler: { log: (line) => console.log(`dbferry: ${line}`) },
  });
  registerIpc(router, devServerUrl);
  notifyRunFinished(router);
  // Saved jobs run on their schedules while the app is open; router.close() (before-quit) stops it.
  router.scheduler.start();

  const open = () => createMainWindow(join(here, '../preload/index.cjs'), devServerUrl, join(here, '../renderer/index.html'));
  open();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) open();
  });
}).catch((err: unknown) => {
  // Typically better-sqlite3 built for Node rather than Electron (see the README's "The app").
  const message = err instanceof Error ? err.message : String(err);
  const hint = /NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)
    ? '\n\nbetter-sqlite3 is built for Node, not for Electron: run `npx @electron/rebuild -f -w better-sqlite3`, then start again.'
    : '';
  dialog.showErrorBox('dbferry cannot start', `${message}${hint}`);
  app.exit(1);
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
