/**
 * The main thread's side of a chunk worker: starts it, hands it chunks, and
 * turns its messages into the run's callbacks (which write the store).
 */
import { Worker } from 'node:worker_threads';
import { builtWorker } from '../builtWorker.js';
import { FerryError } from '../errors.js';
import type { ChunkCheckpoint } from '../pipeline/stage.js';
import { fromWire, type ChunkEvents, type Lane } from './lane.js';
import type { VerifyResult } from '../pipeline/verify.js';
import type { ChunkTask, FromWorker, LaneConfig, SnapshotJoin, ToWorker, VerifyTask } from './protocol.js';

const ENTRY = 'chunkWorker.js';

/**
 * Each worker's heap is capped: left alone, V8 lets every isolate grow to
 * hundreds of MB before it collects (measured: ~280 MB a lane for 1M rows).
 * A lane holds about two write batches and their encoded form, so the cap
 * follows options.batch.maxBytes. A small young generation costs nothing here.
 */
function heapLimits(config: LaneConfig): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  const batchMb = config.batchBytes / 1e6;
  // A single row may be bigger than a batch (a 10 MB value), held a few times over while it is
  // decoded and encoded: the floor leaves room for that whatever batch.maxBytes says.
  return { maxOldGenerationSizeMb: Math.ceil(Math.max(160, 64 + 8 * batchMb)), maxYoungGenerationSizeMb: 16 };
}

/** The built chunk worker (out/main/chunkWorker.js); undefined when not built. */
export function workerEntry(): string | undefined {
  return builtWorker(ENTRY);
}

interface Pending {
  task: { id: number };
  events: ChunkEvents & { onVerifying?(rowsCompared: number): void };
  /** With the chunk's checkpoint or the table's verify result. */
  resolve(result: ChunkCheckpoint | VerifyResult): void;
  reject(err: unknown): void;
  /** An error raised by the run's own callbacks: reported once the worker has stopped. */
  stopWith?: unknown;
}

export class WorkerLane implements Lane {
  readonly kind = 'worker';
  private current?: Pending;
  private waiting?: { type: FromWorker['type']; resolve(): void; reject(err: unknown): void };
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    private readonly heapMb: number,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.die(this.explain(err)));
    worker.on('exit', (code) => {
      this.exited = true;
      this.die(new FerryError('internal', `a chunk worker stopped unexpectedly (exit code ${code})`));
    });
  }

  /** Start a worker and open its sessions (no snapshot yet: see joinSnapshot). */
  static async open(entry: string, config: LaneConfig): Promise<WorkerLane> {
    const lane = new WorkerLane(new Worker(entry, { resourceLimits: heapLimits(config) }), heapLimits(config).maxOldGenerationSizeMb);
    try {
      await lane.request({ type: 'open', config }, 'opened');
    } catch (err) {
      await lane.close();
      throw err;
    }
    return lane;
  }

  joinSnapshot(join: SnapshotJoin): Promise<void> {
    return this.request({ type: 'snapshot', join }, 'snapshot-joined');
  }

  run(task: ChunkTask, events: ChunkEvents, signal: AbortSignal): Promise<ChunkCheckpoint> {
    return this.dispatch<ChunkCheckpoint>({ type: 'chunk', task }, events, signal);
  }

  verify(task: VerifyTask, signal: AbortSignal, onProgress?: (rowsCompared: number) => void): Promise<VerifyResult> {
    const none = () => undefined;
    return this.dispatch<VerifyResult>({ type: 'verify', task }, { onBatch: none, onRejected: none, onWarning: none, onRetry: none, onVerifying: onProgress }, signal);
  }

  /** Hand the worker its one task; cancelled with `signal`. */
  private dispatch<T extends ChunkCheckpoint | VerifyResult>(m: Extract<ToWorker, { type: 'chunk' | 'verify' }>, events: Pending['events'], signal: AbortSignal): Promise<T> {
    if (this.current) throw new FerryError('internal', 'a lane does one task at a time');
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.post({ type: 'cancel' });
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => signal.removeEventListener('abort', onAbort);
      this.current = {
        task: m.task,
        events,
        resolve: (r) => (done(), resolve(r as T)),
        reject: (e) => (done(), reject(e)),
      };
      this.post(m);
      if (signal.aborted) onAbort();
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    try {
      await this.request({ type: 'close' }, 'closed');
    } catch {
      // It is going away either way.
    }
    await this.worker.terminate();
  }

  private post(m: ToWorker): void {
    if (!this.exited) this.worker.postMessage(m);
  }

  private request(m: ToWorker, answer: FromWorker['type']): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting = { type: answer, resolve, reject };
      this.post(m);
    });
  }

  private onMessage(m: FromWorker): void {
    if (this.waiting && m.type === this.waiting.type) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve();
      return;
    }
    if (m.type === 'failed' && m.task === undefined) {
      const err = fromWire(m.error);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.reject(err);
      } else this.current?.reject(err);
      return;
    }
    const p = this.current;
    if (!p) return;
    if (m.type === 'take') {
      const grant = () => this.post({ type: 'tokens', request: m.request });
      if (!p.events.takeTokens) return grant();
      p.events.takeTokens(m.rows, m.bytes).then(grant, grant);
      return;
    }
    if (!('task' in m) || m.task !== p.task.id) return;
    if (m.type === 'chunk-done' || m.type === 'verified' || m.type === 'failed') {
      this.current = undefined;
      if (p.stopWith !== undefined) p.reject(p.stopWith);
      else if (m.type === 'chunk-done') p.resolve(m.checkpoint);
      else if (m.type === 'verified') p.resolve(m.result);
      else p.reject(fromWire(m.error));
      return;
    }
    if (p.stopWith !== undefined) return;
    try {
      if (m.type === 'batch') p.events.onBatch(m.checkpoint);
      else if (m.type === 'rejected') p.events.onRejected(m.row, m.reasons, m.stage, m.batch);
      else if (m.type === 'warning') p.events.onWarning(m.message);
      else if (m.type === 'retry') p.events.onRetry(m.attempt, m.delayMs, m.message);
      else if (m.type === 'verifying') p.events.onVerifying?.(m.rowsCompared);
    } catch (err) {
      // The run said stop (a limit on refused rows): the worker stops, then the chunk fails with this.
      p.stopWith = err;
      this.post({ type: 'cancel' });
    }
  }

  private explain(err: Error): unknown {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_WORKER_OUT_OF_MEMORY') return err;
    return new FerryError('internal', `a chunk worker ran out of memory (its heap is capped at ${this.heapMb} MB so that parallel lanes stay bounded)`, {
      hint: 'a value of the table may be too big to hold a few times over; raise options.batch.maxBytes (the cap grows with it, 8 MB of batch for 64 MB of heap)',
    });
  }

  private die(err: unknown): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(err);
    const p = this.current;
    this.current = undefined;
    p?.reject(p.stopWith ?? err);
  }
}
