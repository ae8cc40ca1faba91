/**
 * `dbferry ui` as a function: the state store, the API router with passwords
 * kept in memory only, and the loopback server. Tests start it in-process.
 */
import type { QueuedRuns } from '../api/context.js';
import { MemorySecrets } from '../api/secrets.js';
import { browserVault, type SshPassphraseVault } from '../api/connections/sshVault.js';
import { type Router, createRouter } from '../api/router.js';
import type { SchedulerOptions } from '../queue/scheduler.js';
import { Store } from '../store/store.js';
import { type RunningServer, startServer } from './server.js';
import { findRendererDir } from './static.js';

export interface BrowserModeOptions {
  stateDir: string;
  port?: number;
  /** Folder relative SQLite paths resolve against; default: the current directory. */
  baseDir?: string;
  rendererDir?: string;
  token?: string;
  /** The scheduler's log (where `dbferry ui` writes what it started or skipped), clock and retry policy. */
  scheduler?: SchedulerOptions;
  /** `dbferry ui --queue`: Run now and schedules put runs on this queue (made with the store). */
  queued?: (store: Store) => QueuedRuns & { close(): Promise<void> };
  /** Where "remember passphrase" keeps SSH key passphrases; default: the Secret Service where it can be reached. */
  sshVault?: SshPassphraseVault;
}

export interface BrowserMode extends RunningServer {
  store: Store;
  router: Router;
}

export async function startBrowserMode(opts: BrowserModeOptions): Promise<BrowserMode> {
  const store = Store.open(opts.stateDir);
  const queued = opts.queued?.(store);
  const router = createRouter({ mode: 'browser', stateDir: opts.stateDir, baseDir: opts.baseDir, store, secrets: new MemorySecrets(), sshVault: opts.sshVault ?? browserVault(), scheduler: opts.scheduler, queued });
  let server: RunningServer;
  try {
    server = await startServer({ router, port: opts.port, token: opts.token, rendererDir: opts.rendererDir ?? findRendererDir() });
  } catch (err) {
    await queued?.close();
    store.close();
    throw err;
  }
  // Saved jobs run on their schedules while this process serves the app.
  router.scheduler.start();
  return {
    ...server,
    store,
    router,
    async close() {
      await server.close();
      await router.close();
      await queued?.close();
      store.close();
    },
  };
}
