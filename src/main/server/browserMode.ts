/**
 * `dbferry ui` as a function: the state store, the API router with passwords
 * kept in memory only, and the loopback server. Tests start it in-process.
 */
import { MemorySecrets } from '../api/secrets.js';
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
}

export interface BrowserMode extends RunningServer {
  store: Store;
  router: Router;
}

export async function startBrowserMode(opts: BrowserModeOptions): Promise<BrowserMode> {
  const store = Store.open(opts.stateDir);
  const router = createRouter({ mode: 'browser', stateDir: opts.stateDir, baseDir: opts.baseDir, store, secrets: new MemorySecrets(), scheduler: opts.scheduler });
  let server: RunningServer;
  try {
    server = await startServer({ router, port: opts.port, token: opts.token, rendererDir: opts.rendererDir ?? findRendererDir() });
  } catch (err) {
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
      store.close();
    },
  };
}
