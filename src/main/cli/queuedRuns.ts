/** `dbferry runs --queue redis://…`: the queue's runs, whichever worker has or had them. */
import { EXIT } from '../../shared/events.js';
import { n } from './display.js';
import { openRunQueue, queueLocation } from './queued.js';

export async function queuedRunsCommand(opts: { json?: boolean; limit?: string; queue: string }): Promise<number> {
  const location = queueLocation('runs', opts.queue);
  if (!location) return EXIT.invalid;
  const queue = await openRunQueue('runs', location);
  if (!queue) return EXIT.failed;
  try {
    const runs = await queue.list(opts.limit ? Number(opts.limit) || 100 : 100);
    if (opts.json) {
      for (const r of runs) process.stdout.write(`${JSON.stringify({ type: 'queued-run', ...r })}\n`);
      return EXIT.ok;
    }
    if (runs.length === 0) {
      process.stdout.write(`no runs on ${location.label}\n`);
      return EXIT.ok;
    }
    process.stdout.write(`${'RUN'.padEnd(10)}${'QUEUED'.padEnd(21)}${'STATE'.padEnd(11)}${'STATUS'.padEnd(15)}${'ROWS'.padStart(12)}${'DEAD'.padStart(7)}  ${'WORKER'.padEnd(24)}JOB\n`);
    for (const r of runs) {
      const worker = r.worker ? `${r.worker}${r.starts > 1 ? ` (${r.starts} starts)` : ''}` : '';
      process.stdout.write(
        `${r.runId.slice(0, 8).padEnd(10)}${r.queuedAt.slice(0, 19).replace('T', ' ').padEnd(21)}${r.state.padEnd(11)}${(r.status ?? '').padEnd(15)}` +
          `${(r.rowsWritten === undefined ? '' : n(r.rowsWritten)).padStart(12)}${(r.rowsDeadLettered === undefined ? '' : n(r.rowsDeadLettered)).padStart(7)}  ${worker.padEnd(24)}${r.job}` +
          `${r.error ? `\n          ${r.error.split('\n')[0]}` : ''}\n`,
      );
    }
    return EXIT.ok;
  } finally {
    await queue.close();
  }
}

/** `dbferry requeue RUN_ID --queue redis://…`: a failed run back on the queue (BullMQ's failed set is the dead-letter queue of runs). */
export async function requeueCommand(args: string[], opts: { json?: boolean; queue?: string }): Promise<number> {
  if (args.length !== 1 || !opts.queue) {
    process.stderr.write('usage: dbferry requeue RUN_ID --queue redis://host:6379[/db]\n');
    return EXIT.invalid;
  }
  const location = queueLocation('requeue', opts.queue);
  if (!location) return EXIT.invalid;
  const queue = await openRunQueue('requeue', location);
  if (!queue) return EXIT.failed;
  try {
    const r = await queue.requeue(args[0]);
    if ('problem' in r) {
      process.stderr.write(`dbferry requeue: ${r.problem}\n`);
      return EXIT.invalid;
    }
    process.stdout.write(opts.json ? `${JSON.stringify({ type: 'queued', runId: r.runId, queue: location.label })}\n` : `run ${r.runId} is back on the queue\n`);
    return EXIT.ok;
  } finally {
    await queue.close();
  }
}
