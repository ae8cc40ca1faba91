/**
 * A chunk worker (worker_threads): its own source and target sessions, the
 * source joined to the run's snapshot; copies the chunks the main thread
 * sends, one at a time, read → validate → write to staging, and reports every
 * batch, refused row, warning and retry. It never touches the store.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type { Session } from '../dialects/dialect.js';
import { FerryError } from '../errors.js';
import { Endpoint } from '../pipeline/endpoint.js';
import { copyChunk, snapshotLost, toWire, Validators, verifyRetrying } from './lane.js';
import type { ChunkTask, FromWorker, LaneConfig, SnapshotJoin, ToWorker } from './protocol.js';

if (!parentPort) throw new Error('chunkWorker runs in a worker thread');
const port = parentPort;

let config: LaneConfig | undefined;
let source: Endpoint | undefined;
let target: Endpoint | undefined;
let join: SnapshotJoin | undefined;
let cancel = new AbortController();
const validators = new Validators();
const grants = new Map<number, () => void>();
let nextRequest = 0;

const send = (m: FromWorker) => port.postMessage(m);

/**
 * A full garbage collection, for after a batch of big values: V8 frees a
 * dead multi-megabyte string only at its next major GC, and until then the
 * lane holds every one it has read (40 values of 10 MB: 266 MB peak). Got
 * through a fresh context, the one way to reach gc() without starting
 * Node with --expose-gc.
 */
const collect: (() => void) | undefined = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();
/** A batch this big (bytes of values) is followed by a collection. */
const WIDE_BATCH_BYTES = 4 * 1024 * 1024;

async function joinSnapshot(session: Session): Promise<void> {
  if (join?.kind === 'import') await session.joinSnapshot!(join.id);
  else await session.beginSnapshot();
}

/**
 * A new session joins the run's snapshot again. PostgreSQL: while the main
 * session holds the exported snapshot; when that connection dropped too, the
 * snapshot is gone for good and the session reads as of now (`lost` says so).
 */
async function rejoinSnapshot(session: Session, lost: () => void): Promise<void> {
  try {
    await joinSnapshot(session);
  } catch (err) {
    if (join?.kind !== 'import') throw err;
    lost();
    await session.beginSnapshot();
  }
}

async function runChunk(task: ChunkTask): Promise<void> {
  if (!source || !target || !config) throw new FerryError('internal', 'chunk worker used before it was opened');
  const src = source;
  const takeTokens = config.rateLimited
    ? (rows: number, bytes: number) =>
        new Promise<void>((resolve) => {
          const request = ++nextRequest;
          grants.set(request, resolve);
          send({ type: 'take', request, rows, bytes });
        })
    : undefined;
  let lastBytes = 0;
  const checkpoint = await copyChunk(
    task,
    src,
    target,
    {
      onBatch: (c) => {
        send({ type: 'batch', task: task.id, checkpoint: c });
        const bytes = c.bytes ?? 0;
        if (bytes - lastBytes >= WIDE_BATCH_BYTES) collect?.();
        lastBytes = bytes;
      },
      onRejected: (row, reasons, stage, batch) => send({ type: 'rejected', task: task.id, row, reasons, stage, batch }),
      onWarning: (message) => send({ type: 'warning', task: task.id, message }),
      onRetry: (attempt, delayMs, message) => send({ type: 'retry', task: task.id, attempt, delayMs, message }),
      takeTokens,
    },
    {
      signal: cancel.signal,
      retry: config.retry,
      validator: validators.for(task, target.session),
      reopenSource: async () => {
        const session = await src.reopen();
        await rejoinSnapshot(session, () =>
          send({ type: 'warning', task: task.id, message: snapshotLost(task.plan.sourceLabel) }),
        );
        return session;
      },
    },
  );
  send({ type: 'chunk-done', task: task.id, checkpoint });
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'open':
      config = m.config;
      source = await Endpoint.open(m.config.source.url, m.config.source.options);
      target = await Endpoint.open(m.config.target.url, m.config.target.options);
      send({ type: 'opened' });
      return;
    case 'snapshot':
      join = m.join;
      await joinSnapshot(source!.session);
      send({ type: 'snapshot-joined' });
      return;
    case 'chunk':
      cancel = new AbortController();
      try {
        await runChunk(m.task);
      } catch (err) {
        send({ type: 'failed', task: m.task.id, error: toWire(err) });
      }
      return;
    case 'verify':
      cancel = new AbortController();
      try {
        // Without the run's snapshot, the table is compared as it is now.
        const rejoin = (session: Session) => rejoinSnapshot(session, () => undefined);
        const onProgress = (rowsCompared: number) => send({ type: 'verifying', task: m.task.id, rowsCompared });
        send({ type: 'verified', task: m.task.id, result: await verifyRetrying(m.task, source!, target!, cancel.signal, config!.retry, rejoin, onProgress) });
      } catch (err) {
        send({ type: 'failed', task: m.task.id, error: toWire(err) });
      }
      return;
    case 'tokens':
      grants.get(m.request)?.();
      grants.delete(m.request);
      return;
    case 'cancel':
      cancel.abort();
      return;
    case 'close':
      await Promise.allSettled([source?.close(), target?.close()]);
      send({ type: 'closed' });
      port.close();
      return;
  }
}

port.on('message', (m: ToWorker) => {
  handle(m).catch((err: unknown) => send({ type: 'failed', error: toWire(err) }));
});
