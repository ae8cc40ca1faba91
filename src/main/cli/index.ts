/**
 * `dbferry`: the command line. Same engine and store as the desktop app.
 * Exit codes: 0 done and verified, 3 done with dead letters, 1 failed (target
 * rolled back), 2 invalid spec or arguments (nothing touched), 130 interrupted.
 */
import { parseArgs } from 'node:util';
import { EXIT } from '../../shared/events.js';
import { planCommand } from './plan.js';
import { runCommand } from './run.js';
import { runsCommand } from './runs.js';

const USAGE = `usage: dbferry <command> [options]

  run JOB.json [--json] [--state DIR]   run a job; progress on stderr
      [--queue redis://… [--detach]]    … or put it on a queue for workers and follow it
  plan JOB.json [--json] [--diff]       preflight: what would change, every problem at once
                                        (--diff: and the rows a run would insert, update, delete)
  resume RUN_ID [--job JOB.json]        continue an interrupted or cancelled run
  verify JOB.json [--json]              compare source and target now
  runs [--json] [--limit N]             history of runs
      [--queue redis://…]               … or the queue's runs: queued, active, finished, failed
  schedules [--json]                    saved jobs' cron schedules and their next runs
  dead-letters list|retry|discard|export [--run ID]   rows that did not make it
  backups list|restore RUN_ID           undo a run
  ui [--port N] [--queue redis://…]     the app in a browser (127.0.0.1); runs schedules
                                        (with --queue: Run now and schedules go to the queue)
  worker --queue redis://host:6379[/db] [--concurrency N] [--per-server N] [--name NAME]
                                        execute queued runs here (SIGTERM: checkpoint, give back)
  requeue RUN_ID --queue redis://…      put a failed queued run back on the queue

Options:
  --state DIR   where history lives (default: the app's data folder; or DBFERRY_HOME)
  --json        one JSON event a line on stdout
  -h, --help    this help
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? EXIT.ok : EXIT.invalid;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        state: { type: 'string' },
        port: { type: 'string' },
        limit: { type: 'string' },
        job: { type: 'string' },
        run: { type: 'string' },
        out: { type: 'string' },
        all: { type: 'boolean', default: false },
        diff: { type: 'boolean', default: false },
        queue: { type: 'string' },
        detach: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'per-server': { type: 'string' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`dbferry ${command}: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.invalid;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  switch (command) {
    case 'run':
      return runCommand(positionals, values);
    case 'plan':
      return planCommand(positionals, values);
    case 'runs':
      return runsCommand(values);
    case 'schedules':
      return (await import('./schedules.js')).schedulesCommand(values);
    case 'resume':
      return (await import('./resume.js')).resumeCommand(positionals, values);
    case 'verify':
      return (await import('./verify.js')).verifyCommand(positionals, values);
    case 'backups':
      return (await import('./backups.js')).backupsCommand(positionals, values);
    case 'dead-letters':
      return (await import('./deadLetters.js')).deadLettersCommand(positionals, values);
    case 'requeue':
      return (await import('./queuedRuns.js')).requeueCommand(positionals, values);
    case 'worker':
      return (await import('./worker.js')).workerCommand(values);
    case 'ui': {
      const { uiCommand } = await import('./ui.js');
      const port = values.port === undefined ? undefined : Number(values.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
        process.stderr.write(`dbferry ui: --port must be a port number, not "${values.port}"\n`);
        return EXIT.invalid;
      }
      const { stateDir } = await import('./state.js');
      return uiCommand({ port, stateDir: stateDir(values.state), queue: values.queue });
    }
    default:
      process.stderr.write(`dbferry: unknown command "${command}"\n\n${USAGE}`);
      return EXIT.invalid;
  }
}

// `dbferry runs | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dbferry: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = EXIT.failed;
  },
);
