/**
 * The apply's progress, step by step. Most steps are one server statement
 * (INSERT … SELECT, DELETE, CREATE TABLE … AS, an index build) that says
 * nothing until it ends, and splitting them into key-range batches costs more
 * than it shows (measured: an INSERT … SELECT of 1M staged rows in 10 ranges
 * took 2.4× as long, each range a scan of the unindexed staging table). So a
 * running step is reported by name with its elapsed time, and its rows done
 * are estimated from its row count at the rate the server has shown: the
 * apply's earlier steps, else the rate the rows were staged at. A step's rows
 * are counted exactly when it ends, and the estimate never passes them.
 */
import type { StagedTable } from './apply.js';
import type { ApplyWatcher, StepMeter, StepWatch } from './applyWatch.js';

export interface ApplyStepProgress {
  /** What the apply is doing to the table now. */
  step: string;
  stepElapsedMs: number;
  /** Staged rows applied so far: exact at the end of each step, estimated within one. */
  rowsApplied: number;
  /** Rows per second the server works through (measured over the apply's finished steps, else estimated). */
  rowsPerSecond: number;
  /** Time left for the table's apply, estimated from its rows. */
  etaMs?: number;
}

type Report = (table: StagedTable, progress: ApplyStepProgress) => void;

export class ApplyTracker {
  private workRows = 0;
  private workMs = 0;
  private readonly applied = new Map<StagedTable, number>();
  /** Rows of the write step still to come, per table, for the ETA. */
  private readonly toWrite = new Map<StagedTable, number>();

  constructor(
    private readonly report: Report,
    /** Rows per second before any step has ended (the staging rate into this target). */
    private readonly seedRate: number,
    private readonly everyMs = 1000,
    /** Reads the rows a running step has done where the server tells (applyWatch.ts). */
    private readonly watcher?: ApplyWatcher,
  ) {}

  /** A table whose staged rows will be written: they count in its ETA until written. */
  expect(table: StagedTable, rows: number): void {
    this.toWrite.set(table, rows);
  }

  private rate(): number {
    return this.workMs >= 200 ? (this.workRows / this.workMs) * 1000 : this.seedRate;
  }

  /**
   * Run one step of the apply: `rows` it works through, and whether they are
   * the table's staged rows going in (they then count as applied).
   */
  async step<T>(tables: StagedTable | StagedTable[], name: string, rows: number, applies: boolean, fn: () => Promise<T>, watch?: StepWatch): Promise<T> {
    const list = Array.isArray(tables) ? tables : [tables];
    const meter: StepMeter | undefined = await this.watcher?.meter(rows, watch);
    const started = Date.now();
    let reading = false;
    let finished = false;
    let shown = 0;
    const emit = (done: number, elapsed: number, rate: number) => {
      for (const t of list) {
        const writeLeft = (applies ? 0 : (this.toWrite.get(t) ?? 0)) + Math.max(0, rows - done);
        this.report(t, {
          step: name,
          stepElapsedMs: elapsed,
          rowsApplied: (this.applied.get(t) ?? 0) + (applies ? done : 0),
          rowsPerSecond: Math.round(rate),
          etaMs: rate > 0 ? Math.round((writeLeft / rate) * 1000) : undefined,
        });
      }
    };
    emit(0, 0, this.rate());
    const tick = async () => {
      const measured = meter ? await meter.read() : undefined;
      if (finished) return;
      const elapsed = Date.now() - started;
      if (measured !== undefined) {
        // Measured: the step's own rate, and never back.
        shown = Math.max(shown, Math.min(Math.floor(rows * 0.99), measured));
        emit(shown, elapsed, elapsed > 0 && shown > 0 ? (shown / elapsed) * 1000 : this.rate());
        return;
      }
      shown = Math.max(shown, estimateDone(rows, elapsed, this.rate()));
      // Past the expected time the estimate slows: the rate it implies is what the ETA goes by.
      emit(shown, elapsed, Math.min(this.rate(), elapsed > 0 ? (shown / elapsed) * 1000 : 0) || this.rate());
    };
    const timer = setInterval(() => {
      if (reading) return;
      reading = true;
      void tick()
        .catch(() => undefined)
        .finally(() => (reading = false));
    }, this.everyMs);
    timer.unref?.();
    try {
      const value = await fn();
      const ms = Date.now() - started;
      clearInterval(timer);
      finished = true;
      this.workRows += rows;
      this.workMs += ms;
      emit(rows, ms, this.rate());
      if (applies) {
        for (const t of list) {
          this.applied.set(t, (this.applied.get(t) ?? 0) + rows);
          this.toWrite.delete(t);
        }
      }
      return value;
    } finally {
      clearInterval(timer);
    }
  }
}

/**
 * Rows a step of `rows` has done after `elapsedMs`, at `rate` rows/s: in
 * proportion up to 90% of the expected time, then ever slower towards 99%,
 * so a step slower than expected keeps moving and never shows done.
 */
export function estimateDone(rows: number, elapsedMs: number, rate: number): number {
  if (rows <= 0 || rate <= 0) return 0;
  const expected = (rows / rate) * 1000;
  const knee = 0.9 * expected;
  const fraction = elapsedMs <= knee ? elapsedMs / expected : 0.9 + 0.09 * (1 - Math.exp(-(elapsedMs - knee) / expected));
  return Math.floor(rows * Math.min(0.99, fraction));
}
