/**
 * Compare source and target after a run: row counts, and every row's
 * normalized values, merge-joined by key in chunks of key ranges. Reports the
 * key ranges that differ.
 */
import type { Session } from '../dialects/dialect.js';
import type { Row, Value } from '../types.js';
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
  signal?: AbortSignal;
  /** Keys (JSON of the raw key values) of rows this run dead-lettered: missing from the target on purpose. */
  deadKeys?: Set<string>;
  deadLettered?: number;
}

const CHUNK_ROWS = 10_000;
const MAX_REPORTED = 10;

export async function verifyTable(
  plan: TablePlan,
  source: Session,
  target: Session,
  method: 'count' | 'checksum',
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const where = plan.spec.where;
  const exactSet = plan.mode === 'replace' || plan.mode === 'mirror';
  if (method === 'count' || plan.orderBy.length === 0) {
    const sourceRows = await source.countRows(plan.sourceName, where);
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
  return checksumTable(plan, source, target, exactSet && !where, opts);
}

class Cursor {
  private iterator: AsyncIterator<Row[]>;
  private batch: Row[] = [];
  private pos = 0;
  done = false;
  constructor(iterable: AsyncIterable<Row[]>) {
    this.iterator = iterable[Symbol.asyncIterator]();
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
  const src = new Cursor(source.readRows({ table: plan.sourceName, columns: plan.columns, orderBy: plan.orderBy, where: plan.spec.where, batchRows }));
  const tgt = new Cursor(target.readRows({ table: plan.targetName, columns: plan.targetColumns, orderBy: plan.key, batchRows }));
  const normalize = (row: Row) => row.map((v, i) => normalizers[i](v as Value));
  const keyOf = (n: (string | null)[]) => keyIdx.map((i) => n[i]);
  const mismatches: string[] = [];
  let sourceRows = 0;
  let targetRows = 0;
  let chunkStart: string | undefined;
  let chunkRows = 0;
  let chunkBad: string | undefined;
  const label = (k: (string | null)[]) => k.map((v) => v ?? 'NULL').join(', ');
  const closeChunk = (end: string) => {
    if (chunkBad && mismatches.length < MAX_REPORTED) mismatches.push(`keys ${chunkStart} … ${end}: ${chunkBad}`);
    chunkStart = undefined;
    chunkRows = 0;
    chunkBad = undefined;
  };
  try {
    let lastKey = '';
    for (;;) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
      const s = await src.peek();
      const t = await tgt.peek();
      if (!s && !t) break;
      const sn = s ? normalize(s) : undefined;
      const tn = t ? normalize(t) : undefined;
      const cmp = sn && tn ? compareKeys(keyOf(sn), keyOf(tn), numeric) : sn ? -1 : 1;
      const key = label(keyOf((cmp <= 0 ? sn : tn) as (string | null)[]));
      if (chunkStart === undefined) chunkStart = key;
      lastKey = key;
      if (cmp === 0) {
        src.take();
        tgt.take();
        sourceRows++;
        targetRows++;
        const a = JSON.stringify(sn);
        const b = JSON.stringify(tn);
        // A dead-lettered row was not applied: the target keeps its earlier version, on purpose.
        const dead = a !== b && opts.deadKeys?.has(deadKey(keyIdx.map((i) => s![i])));
        if (a !== b && !dead && !chunkBad) {
          const col = plan.columns.findIndex((_c, i) => sn![i] !== tn![i]);
          chunkBad = `row ${key} differs in "${plan.columns[col].name}" (source ${JSON.stringify(sn![col])}, target ${JSON.stringify(tn![col])})`;
        }
      } else if (cmp < 0) {
        src.take();
        sourceRows++;
        const dead = opts.deadKeys?.has(deadKey(keyIdx.map((i) => s![i])));
        if (!chunkBad && !dead) chunkBad = `row ${key} is missing in the target`;
      } else {
        tgt.take();
        targetRows++;
        if (exactSet && !chunkBad) chunkBad = `row ${key} is in the target but not in the source`;
      }
      if (++chunkRows >= CHUNK_ROWS) {
        closeChunk(key);
        await yieldToEventLoop();
      }
    }
    if (chunkStart !== undefined) closeChunk(lastKey);
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
