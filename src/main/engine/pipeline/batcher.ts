/**
 * Dynamic batching: how many rows go into one write. A batch is bounded by
 * rows (options.batch.maxRows) and bytes (options.batch.maxBytes), sized from
 * the bytes per row seen so far, and shrunk when the target is slow to take it
 * (a write should take well under a second or two: a stuck batch is retried,
 * a checkpoint comes often, memory stays flat), grown back when it is fast.
 * So a table of 10 MB JSON values and one of 20-byte rows both stay bounded.
 */
import type { Row } from '../types.js';
import { approximateBytes } from './rateLimit.js';

/** Beyond ~10k rows a batch costs more in garbage collection than it saves in round trips (measured). */
export const SWEET_SPOT_ROWS = 10_000;
const SLOW_MS = 2_000;
const FAST_MS = 300;

export class BatchSizer {
  private bytesPerRow = 0;
  private target: number;

  constructor(
    private readonly maxRows: number,
    private readonly maxBytes: number,
  ) {
    this.target = Math.min(maxRows, SWEET_SPOT_ROWS);
  }

  /** Rows the next batch should hold. */
  get rows(): number {
    return this.target;
  }

  get bytes(): number {
    return this.maxBytes;
  }

  /** After a write of `rows` rows, `bytes` bytes that took `ms`. */
  observe(rows: number, bytes: number, ms: number): void {
    if (rows === 0) return;
    const perRow = bytes / rows;
    this.bytesPerRow = this.bytesPerRow ? this.bytesPerRow * 0.7 + perRow * 0.3 : perRow;
    const byBytes = Math.max(1, Math.floor(this.maxBytes / Math.max(1, this.bytesPerRow)));
    const ceiling = Math.min(this.maxRows, SWEET_SPOT_ROWS, byBytes);
    if (ms > SLOW_MS) this.target = Math.max(1, Math.floor(rows / 2));
    else if (ms < FAST_MS) this.target = Math.ceil(Math.max(this.target, rows) * 1.5);
    this.target = Math.max(1, Math.min(this.target, ceiling));
  }
}

/**
 * Regroups the reader's batches into write batches of the sizer's current
 * size. Yields rows with their approximate byte size (measured once, used for
 * sizing, the rate limit and metrics).
 */
export async function* writeBatches(reads: AsyncIterable<Row[]>, sizer: BatchSizer): AsyncGenerator<{ rows: Row[]; bytes: number }> {
  let buffer: Row[] = [];
  let bytes = 0;
  for await (const read of reads) {
    const readBytes = approximateBytes(read);
    if (buffer.length === 0 && read.length === sizer.rows) {
      // The usual case: the reader's batch is the write batch.
      yield { rows: read, bytes: readBytes };
      continue;
    }
    buffer = buffer.length ? buffer.concat(read) : read;
    bytes += readBytes;
    while (buffer.length >= sizer.rows || (bytes >= sizer.bytes && buffer.length > 0)) {
      const take = Math.min(buffer.length, sizer.rows);
      const out = take === buffer.length ? buffer : buffer.slice(0, take);
      const outBytes = take === buffer.length ? bytes : Math.round((bytes * take) / buffer.length);
      buffer = take === buffer.length ? [] : buffer.slice(take);
      bytes -= outBytes;
      yield { rows: out, bytes: outBytes };
    }
  }
  if (buffer.length) yield { rows: buffer, bytes };
}
