/** Throttles progress events and measures a table's rows per second. */
export class Progress {
  private readonly started = Date.now();
  private last = 0;

  constructor(private readonly everyMs = 250) {}

  due(): boolean {
    const now = Date.now();
    if (now - this.last < this.everyMs) return false;
    this.last = now;
    return true;
  }

  rate(rows: number): number {
    const seconds = (Date.now() - this.started) / 1000;
    return seconds > 0 ? Math.round(rows / seconds) : 0;
  }
}
