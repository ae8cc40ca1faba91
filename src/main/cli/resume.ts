import { EXIT, exitCodeFor } from '../../shared/events.js';
import { RunError, resumeRun } from '../runs/runner.js';
import { watchRun } from './run.js';
import { optionalJob } from './jobFile.js';
import { openStore } from './state.js';

export async function resumeCommand(args: string[], opts: { json?: boolean; state?: string; job?: string }): Promise<number> {
  if (args.length !== 1) {
    process.stderr.write('usage: dbferry resume RUN_ID [--job JOB.json] [--json] [--state DIR]\n');
    return EXIT.invalid;
  }
  const spec = optionalJob(opts.job);
  if (spec === null) return EXIT.invalid;
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  try {
    const summary = await watchRun(opts, (signal, onEvent) => resumeRun(store, args[0], { spec, signal, onEvent }).done);
    return exitCodeFor(summary);
  } catch (err) {
    if (err instanceof RunError) {
      process.stderr.write(`dbferry resume: ${err.message}\n`);
      return EXIT.invalid;
    }
    throw err;
  } finally {
    store.close();
  }
}
