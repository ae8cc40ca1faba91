/**
 * The main thread's side of sqliteCheckWorker: runs a check query on the
 * source file in a worker thread and answers with its one row (or none).
 * The worker keeps the process alive only while a check is running.
 */
import { Worker } from 'node:worker_threads';
import { builtWorker } from '../../builtWorker.js';
import type { SqliteValue } from './values.js';

export interface CheckRequest {
  id: number;
  file: string;
  sql: string;
  params: SqliteValue[];
}

export type CheckReply = { id: number; row: unknown[] | null; error?: undefined } | { id: number; error: string };

const ENTRY = 'sqliteCheckWorker.js';
/** Looked up once: every pass-through chunk asks whether the worker is there. */
let entry: string | null | undefined;
const workerFile = () => (entry === undefined ? (entry = builtWorker(ENTRY) ?? null) : entry);

export class SqliteChecker {
  private worker?: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve(row: unknown[] | null): void; reject(err: Error): void }>();

  /** Whether the worker is built (it is not when the engine runs from its sources unbuilt). */
  static available(): boolean {
    return workerFile() !== null;
  }

  /** The first row of `sql` on `file`, or null. */
  query(file: string, sql: string, params: SqliteValue[]): Promise<unknown[] | null> {
    const worker = this.start();
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, file, sql, params } satisfies CheckRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error('the check was stopped'));
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const file = workerFile();
    if (!file) throw new Error(`${ENTRY} is not built`);
    const worker = new Worker(file);
    worker.on('message', (m: CheckReply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.row);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.fail(new Error(`the SQLite check worker stopped (exit code ${code})`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
