/**
 * `dbferry ui [--port N]`: the app in a browser, served on 127.0.0.1 only.
 * Prints the URL to open (token included) on a line of its own and runs
 * until SIGINT/SIGTERM, cancelling (and so rolling back) runs in progress.
 */
import { spawn } from 'node:child_process';
import { platform } from 'node:os';
import type { AppQueuedRuns } from '../queue/appRuns.js';
import { startBrowserMode } from '../server/browserMode.js';
import type { Store } from '../store/store.js';

function openInBrowser(url: string): void {
  const [cmd, args] =
    platform() === 'darwin' ? ['open', [url]] : platform() === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // no browser to open: the printed URL is enough
  }
}

export async function uiCommand(opts: { port?: number; stateDir: string; open?: boolean; queue?: string }): Promise<number> {
  let queued: ((store: Store) => AppQueuedRuns) | undefined;
  let label = '';
  if (opts.queue) {
    // Loaded only with --queue: the app alone does not pay for BullMQ's start.
    const { queueLocation } = await import('./queued.js');
    const { probeRedis } = await import('../queue/redisProbe.js');
    const { AppQueuedRuns } = await import('../queue/appRuns.js');
    const location = queueLocation('ui', opts.queue);
    if (!location) return 2;
    const unreachable = await probeRedis(location);
    if (unreachable) {
      process.stderr.write(`dbferry ui: ${unreachable}\n`);
      return 1;
    }
    label = location.label;
    queued = (store) => new AppQueuedRuns(location, store);
  }
  let app;
  try {
    app = await startBrowserMode({
      stateDir: opts.stateDir,
      port: opts.port,
      scheduler: { log: (line) => process.stderr.write(`dbferry ui: ${line}\n`) },
      queued,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? `port ${opts.port} is in use; pick another with --port, or omit it for a free one` : e.message;
    process.stderr.write(`dbferry ui: cannot start: ${why}\n`);
    return 1;
  }
  const where = label ? `saved jobs go to the queue ${label} on their schedules and with Run now; workers run them` : 'saved jobs run on their schedules while it runs';
  process.stderr.write(`dbferry ui: serving on 127.0.0.1:${app.port} (state: ${opts.stateDir}); ${where}. Open this URL; Ctrl+C stops:\n`);
  process.stdout.write(`${app.url}\n`);
  if (opts.open) openInBrowser(app.url);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stderr.write('dbferry ui: stopping (runs in progress are cancelled and rolled back)\n');
  await app.close();
  return 0;
}
