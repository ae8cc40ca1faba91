/**
 * `dbferry run JOB --queue redis://…`: put the run on the queue and follow it
 * to its end, whichever worker executes it, with the same progress, --json
 * events, summary and exit code as a local run; `--detach` returns at once.
 */
import { randomUUID } from 'node:crypto';
import { EXIT, exitCodeFor, type RunSummary } from '../../shared/events.js';
import { secretProblems } from '../queue/queuedRun.js';
import { probeRedis } from '../queue/redisProbe.js';
import { parseQueueUrl, QueueUrlError, type QueueLocation } from '../queue/redisUrl.js';
import { RunQueue } from '../queue/runQueue.js';
import { ProgressDisplay, formatSummary } from './display.js';
import type { LoadedJob } from './jobFile.js';

/** The parsed --queue URL, or undefined after saying what is wrong with it. */
export function queueLocation(command: string, url: string): QueueLocation | undefined {
  try {
    return parseQueueUrl(url);
  } catch (err) {
    if (!(err instanceof QueueUrlError)) throw err;
    process.stderr.write(`dbferry ${command}: ${err.message}\n`);
    return undefined;
  }
}

/** A queue that answers, or undefined after saying why not (exit 1). */
export async function openRunQueue(command: string, location: QueueLocation): Promise<RunQueue | undefined> {
  const unreachable = await probeRedis(location);
  if (unreachable) {
    process.stderr.write(`dbferry ${command}: ${unreachable}\n`);
    return undefined;
  }
  return new RunQueue(location);
}

export async function queuedRunCommand(job: Extract<LoadedJob, { ok: true }>, opts: { json?: boolean; queue: string; detach?: boolean }): Promise<number> {
  const location = queueLocation('run', opts.queue);
  if (!location) return EXIT.invalid;
  const problems = secretProblems(job.spec);
  if (problems.length) {
    process.stderr.write(`dbferry run: cannot queue ${job.path}:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return EXIT.invalid;
  }
  const queue = await openRunQueue('run', location);
  if (!queue) return EXIT.failed;
  try {
    const runId = randomUUID();
    const since = opts.detach ? '$' : await queue.lastEventId();
    await queue.add({ runId, spec: job.spec, baseDir: job.baseDir });
    if (opts.detach) {
      process.stdout.write(opts.json ? `${JSON.stringify({ type: 'queued', runId, queue: location.label })}\n` : `${runId}\n`);
      return EXIT.ok;
    }
    if (!opts.json) process.stderr.write(`dbferry: queued run ${runId} on ${location.label}; waiting for a worker (Ctrl-C stops waiting, the run goes on)\n`);
    const summary = await follow(queue, runId, since, opts);
    if (!summary) return EXIT.interrupted;
    if (!opts.json) process.stdout.write(formatSummary(summary));
    return exitCodeFor(summary);
  } finally {
    await queue.close();
  }
}

/** Follow until the run ends; undefined when the person stopped following (Ctrl-C). */
async function follow(queue: RunQueue, runId: string, since: string, opts: { json?: boolean }): Promise<RunSummary | undefined> {
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write(`\ndbferry: no longer following run ${runId}; it goes on in the queue (\`dbferry runs --queue …\` shows it)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const display = new ProgressDisplay(process.stderr);
  try {
    return await queue.follow(
      runId,
      (event) => {
        if (opts.json) process.stdout.write(`${JSON.stringify(event)}\n`);
        else display.handle(event);
      },
      { signal: controller.signal, since },
    );
  } catch (err) {
    if (controller.signal.aborted) return undefined;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
