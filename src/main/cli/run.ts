import { EXIT, exitCodeFor, type RunEvent, type RunSummary } from '../../shared/events.js';
import { startRun } from '../runs/runner.js';
import { ProgressDisplay, formatSummary } from './display.js';
import { requireJob } from './jobFile.js';
import { openStore } from './state.js';

export async function runCommand(args: string[], opts: { json?: boolean; state?: string; queue?: string; detach?: boolean }): Promise<number> {
  if (opts.detach && !opts.queue) {
    process.stderr.write('dbferry run: --detach goes with --queue redis://… (a local run ends with its process)\n');
    return EXIT.invalid;
  }
  const job = requireJob(args, 'dbferry run JOB.json [--json] [--state DIR] [--queue redis://… [--detach]]');
  if (!job) return EXIT.invalid;
  // Loaded only when asked for: a local run does not pay for BullMQ's start.
  if (opts.queue) return (await import('./queued.js')).queuedRunCommand(job, { ...opts, queue: opts.queue });
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  try {
    const summary = await watchRun(opts, (signal, onEvent) => startRun(store, job.spec, { baseDir: job.baseDir, signal, onEvent }).done);
    return exitCodeFor(summary);
  } finally {
    store.close();
  }
}

/**
 * Run something that emits run events, with Ctrl-C wired to cancel it and
 * the events shown as a person or a script wants them.
 */
export async function watchRun(
  opts: { json?: boolean },
  start: (signal: AbortSignal, onEvent: (e: RunEvent) => void) => Promise<RunSummary>,
): Promise<RunSummary> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write('\ndbferry: stopping… the target stays as it was; `dbferry resume` continues (Ctrl-C again quits at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const display = new ProgressDisplay(process.stderr);
  try {
    const summary = await start(controller.signal, (event) => {
      if (opts.json) process.stdout.write(`${JSON.stringify(event)}\n`);
      else display.handle(event);
    });
    if (!opts.json) process.stdout.write(formatSummary(summary));
    return summary;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
