import { EXIT } from '../../shared/events.js';
import { n } from './display.js';
import { openStore } from './state.js';
import { markInterruptedRuns } from '../store/runState.js';

export async function runsCommand(opts: { json?: boolean; state?: string; limit?: string; queue?: string }): Promise<number> {
  if (opts.queue) return (await import('./queuedRuns.js')).queuedRunsCommand({ ...opts, queue: opts.queue });
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  try {
    markInterruptedRuns(store);
    const runs = store.listRuns(opts.limit ? Number(opts.limit) || 100 : 100);
    if (opts.json) {
      for (const r of runs) {
        const { specJson: _spec, summary, ...rest } = r;
        process.stdout.write(`${JSON.stringify({ type: 'run', ...rest, tables: summary?.tables ?? [], metrics: summary?.metrics })}\n`);
      }
      return EXIT.ok;
    }
    if (runs.length === 0) {
      process.stdout.write(`no runs yet (history lives in ${store.path})\n`);
      return EXIT.ok;
    }
    process.stdout.write(`${'RUN'.padEnd(10)}${'STARTED'.padEnd(21)}${'STATUS'.padEnd(15)}${'ROWS'.padStart(12)}${'DEAD'.padStart(7)}${'TIME'.padStart(9)}${'ROWS/S'.padStart(10)}${'RETRIES'.padStart(9)}  JOB\n`);
    for (const r of runs) {
      const secs = r.finishedAt ? ((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1) + 's' : '';
      const m = r.summary?.metrics;
      process.stdout.write(
        `${r.id.slice(0, 8).padEnd(10)}${r.startedAt.slice(0, 19).replace('T', ' ').padEnd(21)}${r.status.padEnd(15)}${n(r.rowsWritten).padStart(12)}${n(r.rowsDeadLettered).padStart(7)}${secs.padStart(9)}` +
          `${(m?.rowsPerSecond ? n(m.rowsPerSecond) : '').padStart(10)}${(m ? String(m.retries) : '').padStart(9)}  ${r.jobName}${r.error ? `\n          ${r.error.split('\n')[0]}` : ''}\n`,
      );
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}
