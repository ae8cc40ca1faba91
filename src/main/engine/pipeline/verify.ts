/**
 * Compare source and target after a run: row counts, and every row's
 * normalized values, merge-joined by key in chunks of key ranges. Reports the
 * key ranges that differ.
 */
import type { BucketSet, Fingerprint, Session } from '../dialects/dialect.js';
import { bucketWhere } from './compareKeys.js';
import { isTransient } from '../errors.js';
import type { Row, TableInfo, Value } from '../types.js';
import { normalizerFor, type Normalizer } from './normalize.js';
import type { TablePlan } from './plan.js';
import { yieldToEventLoop } from './stage.js';

export interface VerifyResult {
  method: 'count' | 'checksum';
  ok: boolean;
  sourceRows: number;
  targetRows: number;
  /** Human-readable differing key ranges, at most 10. */
  mismatches: string[];
}

export interface VerifyOptions {
  batchRows: number;
  /** options.batch.maxBytes: the two sides together hold about this much of the table at a time. */
  batchBytes?: number;
  signal?: AbortSignal;
  /** Keys (JSON of the raw key values) of rows this run dead-lettered: missing from the target on purpose. */
  deadKeys?: Set<string>;
  deadLettered?: number;
  /**
   * Incremental tables after a run: compare only the source rows past the run's
   * starting watermark (what it copied); the target holds earlier runs' rows too.
   */
  since?: { column: string; value: Value; rowsRead: number };
  /** Told the source rows compared so far, every CHUNK_ROWS rows: a long verification shows progress. */
  onProgress?(rowsCompared: number): void;
  /** Compare only the keys past `after` and up to `through` (a range of checksumByRanges). */
  after?: Row;
  through?: Row;
  /**
   * A delta run (compare.ts): only these key ranges were staged and applied;
   * the rest of the table matched by the range hashes computed in the run's
   * snapshot (`unchangedRows` source rows) and was not touched.
   */
  delta?: { ranges: { after?: Row; through?: Row; buckets?: BucketSet }[]; unchangedRows: number };
  /** Extra conditions on each side's rows (a delta range's buckets, in each engine's SQL). */
  sourceWhere?: string;
  targetWhere?: string;
}

/** Rows a range of checksumByRanges is sized for: a few tenths of a second of the servers' time. */
const RANGE_ROWS = 250_000;

const CHUNK_ROWS = 10_000;
const MAX_REPORTED = 10;

export async function verifyTable(
  plan: TablePlan,
  source: Session,
  target: Session,
  method: 'count' | 'checksum',
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const rows = await verifyRows(plan, source, target, method, opts);
  if (!plan.createTarget) return rows;
  // A table the run created must be the table the plan promised, not only hold its rows.
  const shape = shapeDifferences(plan, await target.describeTable(plan.targetName));
  return shape.length ? { ...rows, ok: false, mismatches: [...shape, ...rows.mismatches].slice(0, MAX_REPORTED) } : rows;
}

/** How a table the run created differs from its plan: its columns and their order, NOT NULLs, primary key (one catalog query). */
export function shapeDifferences(plan: TablePlan, info: TableInfo | undefined): string[] {
  if (!info) return [`the table ${plan.targetLabel} the run created is not in the target`];
  const out: string[] = [];
  const planned = (plan.tableColumns ?? plan.targetColumns).map((c) => c.name);
  const actual = info.columns.map((c) => c.name);
  const extra = actual.filter((n) => !planned.includes(n));
  const missing = planned.filter((n) => !actual.includes(n));
  if (extra.length) out.push(`the created table ${plan.targetLabel} has columns the plan does not: ${extra.join(', ')}`);
  if (missing.length) out.push(`the created table ${plan.targetLabel} lacks the planned columns ${missing.join(', ')}`);
  if (!extra.length && !missing.length && planned.join('\u0000') !== actual.join('\u0000')) {
    out.push(`the created table ${plan.targetLabel} has its columns in the order ${actual.join(', ')}, not ${planned.join(', ')}`);
  }
  const nullable = plan.targetColumns.filter((c) => !c.nullable && info.columns.find((d) => d.name === c.name)?.nullable === true).map((c) => c.name);
  if (nullable.length) out.push(`the created table ${plan.targetLabel} allows NULL in ${nullable.join(', ')}, which the plan makes NOT NULL`);
  if (plan.key.join('\u0000') !== info.primaryKey.join('\u0000')) {
    const has = info.primaryKey.length ? `(${info.primaryKey.join(', ')})` : 'none';
    const wants = plan.key.length ? `(${plan.key.join(', ')})` : 'none';
    out.push(`the created table ${plan.targetLabel} has primary key ${has}, the plan ${wants}`);
  }
  return out;
}

async function verifyRows(
  plan: TablePlan,
  source: Session,
  target: Session,
  method: 'count' | 'checksum',
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const where = plan.spec.where;
  const exactSet = (plan.mode === 'replace' || plan.mode === 'mirror') && !opts.since;
  if (method === 'count' || plan.orderBy.length === 0) {
    const sourceRows = opts.since ? opts.since.rowsRead : await source.countRows(plan.sourceName, where);
    const targetRows = await target.countRows(plan.targetName);
    const expected = sourceRows - (opts.deadLettered ?? 0);
    const ok = exactSet && !where ? expected === targetRows : targetRows >= expected;
    return {
      method: 'count',
      ok,
      sourceRows,
      targetRows,
      mismatches: ok ? [] : [`the source has ${sourceRows} rows${where ? ' (within "where")' : ''}, the target ${targetRows}`],
    };
  }
  if (opts.delta) return checksumDelta(plan, source, target, exactSet, opts, opts.delta);
  if (exactSet && !where && !opts.deadLettered && sameShape(plan, source, target)) return checksumByRanges(plan, source, target, opts);
  return checksumTable(plan, source, target, exactSet && !where, opts);
}

/**
 * One engine, the same column types in the same order: a row prints the same
 * text on both sides exactly when it holds the same values, so the servers
 * can sum the rows up themselves (Session.fingerprint).
 */
function sameShape(plan: TablePlan, source: Session, target: Session): boolean {
  const native = (t: string) => t.toLowerCase().replace(/\s+/g, ' ').trim();
  return (
    source.fingerprint !== undefined &&
    target.fingerprint !== undefined &&
    source.dialect.engine === target.dialect.engine &&
    // Text the source decodes (a table's "encoding") sums up as its bytes there: compared row by row.
    plan.columns.every((c) => !c.encoding) &&
    plan.columns.length === plan.targetColumns.length &&
    plan.columns.every((c, i) => {
      const d = plan.targetColumns[i];
      return JSON.stringify(c.type) === JSON.stringify(d.type) && native(c.nativeType) === native(d.nativeType);
    })
  );
}

/**
 * The table in key ranges (from the engine's statistics; one range without
 * them): each side's servers sum each range's rows up at once, on their own
 * cores, and only a range whose sums differ is read and compared row by row,
 * which names the rows. Equal sums cannot hide a difference short of a 64-bit
 * hash collision; sums that differ for another reason (servers that print or
 * hash a value their own way) only send the range to that comparison, as does
 * a server that cannot sum rows up.
 */
async function checksumByRanges(plan: TablePlan, source: Session, target: Session, opts: VerifyOptions): Promise<VerifyResult> {
  const key = plan.orderBy.length === 1 ? plan.columns.find((c) => c.name === plan.orderBy[0]) : undefined;
  const count = Math.ceil((plan.estimate ?? 0) / RANGE_ROWS) - 1;
  const bounds = key && count > 0 && source.keyQuantiles ? ((await source.keyQuantiles(plan.sourceName, key, count)) ?? []) : [];
  // (after, through] ranges; the first and last open, so that no key of either side is left out.
  const ranges = [...bounds.map((b, i) => ({ after: i ? [bounds[i - 1]] : undefined, through: [b] as Row | undefined })), { after: bounds.length ? [bounds[bounds.length - 1]] : undefined, through: undefined }];
  let sourceRows = 0;
  let targetRows = 0;
  const mismatches: string[] = [];
  for (const { after, through } of ranges) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
    const range = { after, through, batchRows: 1 };
    let sums: Fingerprint[] | undefined;
    try {
      sums = await Promise.all([
        source.fingerprint!({ ...range, table: plan.sourceName, columns: plan.columns, orderBy: plan.orderBy }),
        target.fingerprint!({ ...range, table: plan.targetName, columns: plan.targetColumns, orderBy: plan.key }),
      ]);
    } catch (err) {
      if (isTransient(err) || opts.signal?.aborted) throw err;
    }
    const [s, t] = sums ?? [];
    if (s && t && s.rows === t.rows && s.hash === t.hash) {
      sourceRows += s.rows;
      targetRows += t.rows;
    } else {
      const before = sourceRows;
      const v = await checksumTable(plan, source, target, true, { ...opts, after, through, onProgress: (n) => opts.onProgress?.(before + n) });
      sourceRows += v.sourceRows;
      targetRows += v.targetRows;
      mismatches.push(...v.mismatches);
    }
    opts.onProgress?.(sourceRows);
  }
  return { method: 'checksum', ok: mismatches.length === 0, sourceRows, targetRows, mismatches: mismatches.slice(0, MAX_REPORTED) };
}

/** A delta run: its applied key ranges compared row by row; the rest were equal by range hashes in the run's snapshot. */
async function checksumDelta(plan: TablePlan, source: Session, target: Session, exactSet: boolean, opts: VerifyOptions, delta: NonNullable<VerifyOptions['delta']>): Promise<VerifyResult> {
  let sourceRows = delta.unchangedRows;
  let targetRows = delta.unchangedRows;
  const mismatches: string[] = [];
  for (const { after, through, buckets } of delta.ranges) {
    const before = sourceRows;
    const sourceWhere = bucketWhere(source, plan.columns, plan.orderBy, buckets);
    const targetWhere = bucketWhere(target, plan.targetColumns, plan.key, buckets);
    const v = await checksumTable(plan, source, target, exactSet, { ...opts, delta: undefined, after, through, sourceWhere, targetWhere, onProgress: (n) => opts.onProgress?.(before + n) });
    sourceRows += v.sourceRows;
    targetRows += v.targetRows;
    mismatches.push(...v.mismatches);
  }
  opts.onProgress?.(sourceRows);
  return { method: 'checksum', ok: mismatches.length === 0, sourceRows, targetRows, mismatches: mismatches.slice(0, MAX_REPORTED) };
}

/** Rows of a read in order, a batch at a time: peek at the next, take it. */
export class RowCursor {
  private iterator: AsyncIterator<Row[]>;
  private batch: Row[] = [];
  private pos = 0;
  done = false;
  constructor(iterable: AsyncIterable<Row[]>) {
    this.iterator = iterable[Symbol.asyncIterator]();
  }
  /** The next row when it is at hand, without a wait: most rows (an await per row was a tenth of a verification's time). */
  get current(): Row | undefined {
    return this.batch[this.pos];
  }
  async peek(): Promise<Row | undefined> {
    while (this.pos >= this.batch.length) {
      if (this.done) return undefined;
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return undefined;
      }
      this.batch = next.value;
      this.pos = 0;
    }
    return this.batch[this.pos];
  }
  take(): void {
    this.pos++;
  }
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

function compareKeys(a: (string | null)[], b: (string | null)[], numeric: boolean[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    if (numeric[i]) {
      const d = BigInt(x.split('.')[0]) - BigInt(y.split('.')[0]);
      if (d !== 0n) return d < 0n ? -1 : 1;
      continue;
    }
    const c = Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8'));
    if (c !== 0) return c;
  }
  return 0;
}

async function checksumTable(
  plan: TablePlan,
  source: Session,
  target: Session,
  exactSet: boolean,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const normalizers: Normalizer[] = plan.columns.map((c) => normalizerFor(c.type));
  const keyIdx = plan.orderBy.map((k) => plan.columns.findIndex((c) => c.name === k));
  const numeric = keyIdx.map((i) => plan.columns[i].type.kind === 'integer');
  const batchRows = Math.min(opts.batchRows, 5_000);
  // Bounded in bytes too: a batch of 5,000 rows of 10 MB values would not fit in a lane's heap.
  const batchBytes = opts.batchBytes === undefined ? undefined : Math.max(1, Math.floor(opts.batchBytes / 2));
  const { after, through } = opts;
  const both = (a?: string, b?: string) => (a && b ? `(${a}) AND (${b})` : (a ?? b));
  const src = new RowCursor(source.readRows({ table: plan.sourceName, columns: plan.columns, orderBy: plan.orderBy, where: both(plan.spec.where, opts.sourceWhere), since: opts.since, after, through, batchRows, batchBytes }));
  const tgt = new RowCursor(target.readRows({ table: plan.targetName, columns: plan.targetColumns, orderBy: plan.key, where: opts.targetWhere, after, through, batchRows, batchBytes }));
  // Only keys are normalized for every row; other values only when they are not identical as read.
  const keyOf = (row: Row) => keyIdx.map((i) => normalizers[i](row[i] as Value));
  // One integer key read as a number on both sides (the usual table) is compared as it is: no key is normalized
  // for a row, only for the labels of messages (keyOf of the last row).
  const intKey = keyIdx.length === 1 && numeric[0] ? keyIdx[0] : -1;
  const compareRows = (s: Row | undefined, t: Row | undefined): number => {
    if (!s) return 1;
    if (!t) return -1;
    if (intKey >= 0) {
      const a = s[intKey];
      const b = t[intKey];
      if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
    }
    return compareKeys(keyOf(s), keyOf(t), numeric);
  };
  const firstDifference = (a: Row, b: Row): number => {
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x === y) continue;
      if (normalizers[i](x as Value) !== normalizers[i](y as Value)) return i;
    }
    return -1;
  };
  const mismatches: string[] = [];
  let sourceRows = 0;
  let targetRows = 0;
  let chunkStart: string | undefined;
  let chunkRows = 0;
  let chunkBad: string | undefined;
  /** The row of the last key compared: its label is made only when a message needs it. */
  let lastRow: Row | undefined;
  const label = (row: Row | undefined) => (row ? keyOf(row).map((v) => v ?? 'NULL').join(', ') : '');
  const closeChunk = () => {
    if (chunkBad && mismatches.length < MAX_REPORTED) mismatches.push(`keys ${chunkStart} … ${label(lastRow)}: ${chunkBad}`);
    chunkStart = undefined;
    chunkRows = 0;
    chunkBad = undefined;
  };
  const isDead = (row: Row) => opts.deadKeys !== undefined && opts.deadKeys.size > 0 && opts.deadKeys.has(deadKey(keyIdx.map((i) => row[i])));
  try {
    for (;;) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
      const s = src.current ?? (await src.peek());
      const t = tgt.current ?? (await tgt.peek());
      if (!s && !t) break;
      const cmp = compareRows(s, t);
      lastRow = cmp <= 0 ? s : t;
      if (chunkStart === undefined) chunkStart = label(lastRow);
      if (cmp === 0) {
        src.take();
        tgt.take();
        sourceRows++;
        targetRows++;
        const col = firstDifference(s!, t!);
        // A dead-lettered row was not applied: the target keeps its earlier version, on purpose.
        if (col >= 0 && !chunkBad && !isDead(s!)) {
          const show = (v: Value) => JSON.stringify(normalizers[col](v));
          chunkBad = `row ${label(lastRow)} differs in "${plan.columns[col].name}" (source ${show(s![col] as Value)}, target ${show(t![col] as Value)})`;
        }
      } else if (cmp < 0) {
        src.take();
        sourceRows++;
        if (!chunkBad && !isDead(s!)) chunkBad = `row ${label(lastRow)} is missing in the target`;
      } else {
        tgt.take();
        targetRows++;
        if (exactSet && !chunkBad) chunkBad = `row ${label(lastRow)} is in the target but not in the source`;
      }
      if (++chunkRows >= CHUNK_ROWS) {
        closeChunk();
        opts.onProgress?.(sourceRows);
        await yieldToEventLoop();
      }
    }
    if (chunkStart !== undefined) closeChunk();
  } finally {
    await src.close();
    await tgt.close();
  }
  return { method: 'checksum', ok: mismatches.length === 0, sourceRows, targetRows, mismatches };
}

/** How dead-lettered keys are remembered for verification. */
export function deadKey(key: Row): string {
  return JSON.stringify(key.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? v.toString() : v)));
}
