/**
 * options.rateLimit: a token bucket per run over rows and bytes written, so a
 * copy from production takes no more than the DBA allows. One bucket serves
 * every table of the run; a burst of up to one second's allowance is allowed.
 */
import type { Row } from '../types.js';

export class RateLimiter {
  private rowTokens: number;
  private byteTokens: number;
  private last: number;

  constructor(
    private readonly rowsPerSecond: number,
    private readonly bytesPerSecond: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.rowTokens = rowsPerSecond;
    this.byteTokens = bytesPerSecond;
    this.last = now();
  }

  get active(): boolean {
    return this.rowsPerSecond > 0 || this.bytesPerSecond > 0;
  }

  get measuresBytes(): boolean {
    return this.bytesPerSecond > 0;
  }

  /** Wait until `rows` rows of `bytes` bytes may be written. */
  async take(rows: number, bytes: number): Promise<void> {
    this.refill();
    this.rowTokens -= this.rowsPerSecond > 0 ? rows : 0;
    this.byteTokens -= this.bytesPerSecond > 0 ? bytes : 0;
    const waitRows = this.rowsPerSecond > 0 && this.rowTokens < 0 ? (-this.rowTokens / this.rowsPerSecond) * 1000 : 0;
    const waitBytes = this.bytesPerSecond > 0 && this.byteTokens < 0 ? (-this.byteTokens / this.bytesPerSecond) * 1000 : 0;
    const wait = Math.max(waitRows, waitBytes);
    if (wait > 0) await this.sleep(wait);
  }

  private refill(): void {
    const now = this.now();
    const seconds = (now - this.last) / 1000;
    this.last = now;
    if (this.rowsPerSecond > 0) this.rowTokens = Math.min(this.rowsPerSecond, this.rowTokens + seconds * this.rowsPerSecond);
    if (this.bytesPerSecond > 0) this.byteTokens = Math.min(this.bytesPerSecond, this.byteTokens + seconds * this.bytesPerSecond);
  }
}

/** About how many bytes a batch carries: text and binary by length, other values by their width. */
export function approximateBytes(rows: Row[]): number {
  let bytes = 0;
  for (const row of rows) {
    for (const v of row) {
      if (typeof v === 'string') bytes += v.length;
      else if (v instanceof Uint8Array) bytes += v.byteLength;
      else bytes += 8;
    }
  }
  return bytes;
}
