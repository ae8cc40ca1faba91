import { EXIT, exitCodeFor } from '../../shared/events.js';
import { startRun } from '../runs/runner.js';
import { ProgressDisplay, formatSummary } from './display.js';
import { formatProblems, loadJobFile } from './jobFile.js';
import { openStore } from './state.js';

export async function runCommand(args: string[], opts: { json?: boolean; state?: string }): Promise<number> {
  if (args.length !== 1) {
    process.stderr.write('usage: dbferry run JOB.json [--json] [--state DIR]\n');
    return EXIT.invalid;
  }
  const job = loadJobFile(args[0]);
  if (!job.ok) {
    process.stderr.write(formatProblems(job.path, job.problems));
    return EXIT.invalid;
  }
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write('\ndbferry: stopping… (the target is left as it was; press Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const display = new ProgressDisplay(process.stderr);
  try {
    const { done } = startRun(store, job.spec, {
      baseDir: job.baseDir,
      signal: controller.signal,
      onEvent: (event) => {
        if (opts.json) process.stdout.write(`${JSON.stringify(event)}\n`);
        else display.handle(event);
      },
    });
    const summary = await done;
    if (!opts.json) process.stdout.write(formatSummary(summary));
    return exitCodeFor(summary);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store.close();
  }
}
