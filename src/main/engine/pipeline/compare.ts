/**
 * Compare before copying: find the key ranges where source and target
 * differ without moving a row. Both servers hash their rows at once, grouped
 * into buckets of the key (rowHash.ts: the same text for the same value on
 * every engine), a bucket's row count and hash sum against the other side's;
 * a bucket that differs and still holds many rows is split again (32 ways;
 * the last step to single keys through buckets of 4: narrower),
 * until buckets are small. Only the differing buckets' rows are then staged
 * (their key ranges are the table's chunks), and a mirror deletes only within
 * them. `dbferry plan --diff` reads the differing ranges' rows from both sides
 * and says what a run would insert, update and delete.
 */
import { RowCursor } from './verify.js';
import type { PlannedDiff } from '../../../shared/events.js';
import type { BucketHash, BucketRequest, BucketSet, Session } from '../dialects/dialect.js';
import type { Row, Value } from '../types.js';
import { normalizerFor } from './normalize.js';
import type { TablePlan } from './plan.js';
import { bucketHashes, hashKinds, hashText, keyBig, type HashKind } from './rowHash.js';
import { bucketWhere, compareByKeyHash, integerKey, keyHashEligibility } from './compareKeys.js';

export interface KeyRange {
  /** Exclusive lower bound on the key (none: from the first row). */
  after?: Row;
  /** Inclusive upper bound (none: to the last row). */
  through?: Row;
  /** Only the key buckets that differ within the bounds (a range of scattered buckets is one read). */
  buckets?: BucketSet;
}

export interface CompareResult {
  /** The key ranges that differ, in key order, neighbours merged. */
  ranges: KeyRange[];
  sourceRows: number;
  targetRows: number;
  /** Source rows within the differing ranges: what a delta run stages. */
  differingSourceRows: number;
  differingTargetRows: number;
  /** Source rows in ranges whose hashes matched: left as they are. */
  unchangedRows: number;
  /** Hash queries per side (levels of bisection). */
  levels: number;
  /** Buckets that differ (what is staged, grouped into `ranges`). */
  buckets: number;
  /** Sides whose first level was hashed in two halves at once, on a helper session too (CompareOptions.helpers). */
  halves?: Array<'source' | 'target'>;
  /** Set when the comparison stopped early: more than the allowed share of rows differs. */
  tooMuch?: string;
  /** CompareOptions.extraKeys outside every differing bucket, staged as keys of their own. */
  addedKeys?: bigint[];
  /** Found from the servers' row versions (syncState.ts): the keys written since the last sync, and whether key hashes then looked for keys only one side has. */
  byVersions?: { written: number; keyHashes: boolean };
}

export interface CompareOptions {
  /** Split buckets that differ until they hold about this many rows (DBFERRY_COMPARE_ROWS). */
  leafRows?: number;
  /** Stop once more than this share of the rows lies in differing buckets (a full copy costs less); 1: never. */
  maxDifferingShare?: number;
  /** At most this many ranges: the closest ones are merged (a range is a chunk to stage). */
  maxRanges?: number;
  signal?: AbortSignal;
  /**
   * A second session on a side's server (the source's in the run's snapshot):
   * the first level, a scan of the whole table, is hashed there in two halves
   * of the key at once (splitHashes in dialect.ts).
   */
  helpers?: { source?: Session; target?: Session };
  /** Keys that may differ whatever their buckets' hashes say (rows written since the last sync, syncState.ts): staged too. */
  extraKeys?: bigint[];
}

const FACTOR = 32n;
/** Buckets one hash query may return per side. */
const MAX_BUCKETS = 65_536;
/**
 * Leaf size of an integer key: a differing bucket of more rows is hashed again
 * in narrower buckets, down to single keys. That level reads only the differing buckets' keys
 * through the key's index, and staging what differs costs far more per row
 * than hashing it: 0.1% of 1M rows changed, scattered, in buckets of 32 keys
 * staged and compared 32,000 rows where 2,000 changed.
 */
export const DEFAULT_LEAF_ROWS = 1;
/** Rows a bucket of the first level holds: its hashes (a row each) are most of what a comparison moves over the network. */
const FIRST_LEVEL_ROWS = 32;
/** Leaf size of hashed key buckets (compareKeys.ts): a level there scans the whole table again. */
export const DEFAULT_KEY_HASH_LEAF_ROWS = 32;
export const DEFAULT_MAX_RANGES = 64;

export function leafRowsFromEnv(fallback = DEFAULT_LEAF_ROWS): number {
  const n = Number(process.env.DBFERRY_COMPARE_ROWS);
  return Number.isInteger(n) && n >= 1 ? n : fallback;
}

/**
 * A table with rules checks every source row on every run (a rule added
 * since the last run refuses rows that did not change): under "auto" it is
 * not compared first, so that it still does.
 */
export function rulesCheckEveryRow(plan: Pick<TablePlan, 'spec'>, compare: string): string | undefined {
  return compare === 'auto' && Object.keys(plan.spec.rules ?? {}).length ? 'its rules check every source row on every run (options.compare "always" compares it all the same)' : undefined;
}

/** Can this table be compared by range hashes; if not, why. */
export function compareEligibility(plan: TablePlan, source: Session, target: Session): { kinds: HashKind[] } | { reason: string } {
  if (plan.createTarget) return { reason: 'the target table is new' };
  if (plan.key.length === 0 || plan.orderBy.length === 0) return { reason: 'the table has no key' };
  if (plan.columns.length !== plan.targetColumns.length) return { reason: 'the job copies other columns than the table has' };
  if (plan.incremental) return { reason: 'an incremental table already reads only the rows past its watermark' };
  // Any other key: buckets of a hash of the key, where that is safe (compareKeys.ts).
  if (!integerKey(plan)) return keyHashEligibility(plan, source, target);
  return hashKinds(plan.columns, plan.targetColumns, source, target);
}

function keyValue(n: bigint): Value {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

async function keySpan(session: Session, table: string, key: string, where?: string): Promise<[bigint, bigint] | undefined> {
  const r = await session.query(`SELECT min(${key}), max(${key}) FROM ${table}${where ? ` WHERE (${where})` : ''}`);
  const [lo, hi] = r.rows[0] ?? [];
  if (lo === null || lo === undefined || hi === null || hi === undefined) return undefined;
  return [keyBig(lo), keyBig(hi)];
}

/**
 * The key ranges where the two tables differ, found by hashing buckets of the
 * key on both servers at once. Both sides are read as they are now (the
 * source in the run's snapshot where there is one).
 */
export async function compareTable(plan: TablePlan, source: Session, target: Session, kinds: HashKind[], opts: CompareOptions = {}): Promise<CompareResult> {
  const share = opts.maxDifferingShare ?? 1;
  const maxRanges = opts.maxRanges ?? DEFAULT_MAX_RANGES;
  if (!integerKey(plan)) return compareByKeyHash(plan, source, target, kinds, Math.max(1, opts.leafRows ?? leafRowsFromEnv(DEFAULT_KEY_HASH_LEAF_ROWS)), { ...opts, maxRanges });
  const leafRows = Math.max(1, opts.leafRows ?? leafRowsFromEnv());
  const keyName = plan.orderBy[0];
  const where = plan.spec.where;
  const [s, t] = await Promise.all([
    keySpan(source, source.quoteTable(plan.sourceName), source.quoteIdentifier(keyName), where),
    keySpan(target, target.quoteTable(plan.targetName), target.quoteIdentifier(plan.key[0])),
  ]);
  const empty: CompareResult = { ranges: [], sourceRows: 0, targetRows: 0, differingSourceRows: 0, differingTargetRows: 0, unchangedRows: 0, levels: 0, buckets: 0 };
  if (!s && !t) return empty;
  const lo = s && t ? (s[0] < t[0] ? s[0] : t[0]) : (s ?? t)![0];
  const hi = s && t ? (s[1] > t[1] ? s[1] : t[1]) : (s ?? t)![1];
  // Sized by the source's keys: keys only the target holds far past them (a mirror deletes those) take buckets of their own.
  const span = (s ? s[1] : hi) - lo + 1n;
  const estimate = Math.max(plan.estimate ?? 0, plan.targetInfo?.rowEstimate ?? 0, 1);
  // The first level's buckets hold about FIRST_LEVEL_ROWS rows (or the leaf size, if larger): what it returns crosses the network.
  const buckets = BigInt(Math.min(MAX_BUCKETS, Math.max(1, Math.ceil(estimate / Math.max(leafRows, FIRST_LEVEL_ROWS)))));
  let width = nested((span + buckets - 1n) / buckets);

  const narrow = lo >= -(2n ** 62n) && hi < 2n ** 62n;
  const out: CompareResult = { ...empty };
  /** Differing leaf buckets: their first key, width and id. */
  const differing: Leaf[] = [];
  let within: { width: bigint; ids: bigint[] } | undefined;
  for (let level = 0; ; level++) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
    const req = { buckets: { lo, width, within, narrow }, kinds, batchRows: 10_000 };
    // The first level's last bucket of the source's keys: a helper session hashes the upper half of them.
    const split = within ? undefined : ((s ? s[1] : hi) - lo) / width;
    const [sh, th] = await Promise.all([
      hashSide(source, opts.helpers?.source, { ...req, table: plan.sourceName, columns: plan.columns, orderBy: plan.orderBy, where }, split, () => (out.halves ??= []).push('source')),
      hashSide(target, opts.helpers?.target, { ...req, table: plan.targetName, columns: plan.targetColumns, orderBy: plan.key }, split, () => (out.halves ??= []).push('target')),
    ]);
    out.levels++;
    if (level === 0) {
      out.sourceRows = sh.reduce((n, b) => n + b.rows, 0);
      out.targetRows = th.reduce((n, b) => n + b.rows, 0);
    }
    const again: bigint[] = [];
    let againRows = 0;
    const differs = (id: bigint, a: BucketHash | undefined, b: BucketHash | undefined) => {
      const rows = Math.max(a?.rows ?? 0, b?.rows ?? 0);
      if (rows > leafRows && width > 1n) {
        again.push(id);
        againRows += a?.rows ?? 0;
      } else {
        differing.push({ from: lo + id * width, width, id, rows: a?.rows ?? 0 });
        out.differingSourceRows += a?.rows ?? 0;
        out.differingTargetRows += b?.rows ?? 0;
      }
    };
    // Tens of thousands of buckets a level: one map, each bucket looked up once.
    const tMap = new Map<bigint, BucketHash>();
    for (const b of th) tMap.set(b.bucket, b);
    for (const a of sh) {
      const b = tMap.get(a.bucket);
      if (b) tMap.delete(a.bucket);
      if (b && a.rows === b.rows && a.hash === b.hash) out.unchangedRows += a.rows;
      else differs(a.bucket, a, b);
    }
    for (const b of tMap.values()) differs(b.bucket, undefined, b);
    const sBuckets = sh.length;
    const tBuckets = th.length;
    // The rows found to differ so far and those still to split, against the whole table.
    const shareNow = (out.differingSourceRows + againRows) / Math.max(1, out.sourceRows);
    // A level of a few big buckets (the estimate was low) says little yet: split them before judging.
    const judged = !again.length || sBuckets + tBuckets >= 2 * Number(FACTOR);
    if (share < 1 && judged && shareNow > share) {
      out.tooMuch = `${Math.round(shareNow * 100)}% of the rows lie in key ranges that differ`;
      return out;
    }
    if (!again.length) break;
    within = { width, ids: again };
    width = narrower(width);
  }
  if (opts.extraKeys?.length) {
    const covered = coverage(differing);
    out.addedKeys = opts.extraKeys.filter((k) => !covered(k));
    for (const k of out.addedKeys) differing.push({ from: k, width: 1n, id: k - lo, rows: 1 });
  }
  out.buckets = differing.length;
  out.ranges = toChunks(differing, lo, hi, narrow, maxRanges);
  return out;
}

/** Is a key within one of these buckets? */
function coverage(leaves: Leaf[]): (key: bigint) => boolean {
  const sorted = [...leaves].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  return (key) => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const l = sorted[mid];
      if (key < l.from) hi = mid - 1;
      else if (key >= l.from + l.width) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

/**
 * One side's buckets of a level. With a helper session and a first level of
 * more than two buckets, the buckets below the middle one of the source's keys
 * are hashed on the side's own session and the rest on the helper, at once: a
 * MariaDB statement runs on one core, and its hashes of 1M rows took 3 s where
 * PostgreSQL's took 0.6 s. The halves end on a bucket's edge, so each bucket
 * is summed whole on one session. A helper that fails hands its half back.
 */
async function hashSide(session: Session, helper: Session | undefined, req: BucketRequest, lastBucket: bigint | undefined, halved: () => void): Promise<BucketHash[]> {
  if (!helper || lastBucket === undefined || lastBucket < 2n) return bucketHashes(session, req);
  const { lo, width } = req.buckets;
  const middle = lo + ((lastBucket + 1n) / 2n) * width;
  const key = session.quoteIdentifier(req.orderBy[0]);
  const half = (condition: string): BucketRequest => ({ ...req, where: req.where ? `(${req.where}) AND ${condition}` : condition });
  const lower = half(`${key} < ${middle}`);
  const upper = half(`${key} >= ${middle}`);
  const [a, b] = await Promise.allSettled([bucketHashes(session, lower), bucketHashes(helper, upper)]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') return a.value.concat(await bucketHashes(session, upper));
  halved();
  return a.value.concat(b.value);
}

export interface Leaf {
  from: bigint;
  width: bigint;
  id: bigint;
  rows: number;
}

/** Source rows a chunk of differing buckets is given at most, and buckets. */
const CHUNK_ROWS = 200_000;
const CHUNK_BUCKETS = 4_096;

/**
 * Differing buckets as chunks to stage: neighbours in key order grouped into
 * a chunk of bounds and the buckets within them (its read filters by bucket),
 * up to CHUNK_ROWS rows or CHUNK_BUCKETS buckets; the first and last chunk
 * open at their outer end.
 */
export function toChunks(leaves: Leaf[], lo: bigint, hi: bigint, narrow: boolean, maxChunks: number, maxBuckets = CHUNK_BUCKETS): KeyRange[] {
  const sorted = [...leaves].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const total = sorted.reduce((n, l) => n + l.rows, 0);
  const rowsPer = Math.max(CHUNK_ROWS, Math.ceil(total / Math.max(1, maxChunks)));
  const groups: Leaf[][] = [];
  let rows = 0;
  for (const l of sorted) {
    const g = groups[groups.length - 1];
    if (g && g.length < maxBuckets && rows + l.rows <= rowsPer) {
      g.push(l);
      rows += l.rows;
    } else {
      groups.push([l]);
      rows = l.rows;
    }
  }
  return groups.map((g, i) => {
    const from = g[0].from;
    const last = g[g.length - 1];
    const to = last.from + last.width - 1n;
    const levels = new Map<bigint, string[]>();
    for (const l of g) {
      const ids = levels.get(l.width) ?? [];
      ids.push(l.id.toString());
      levels.set(l.width, ids);
    }
    return {
      ...(i === 0 && from <= lo ? {} : { after: [keyValue(from - 1n)] }),
      ...(i === groups.length - 1 && to >= hi ? {} : { through: [keyValue(to)] }),
      buckets: { lo: lo.toString(), narrow, levels: [...levels].map(([width, ids]) => ({ width: width.toString(), ids })) },
    };
  });
}

/**
 * A bucket width of the form q × 32^j (q ≤ 32), at least `w`: each level's
 * width divides the one above (q × 32^(j-1), …, q, then 1; narrower), so a bucket lies
 * in exactly one bucket of every level above it.
 */
function nested(w: bigint): bigint {
  if (w <= 1n) return 1n;
  let p = 1n;
  while (p * FACTOR <= w) p *= FACTOR;
  return ((w + p - 1n) / p) * p;
}

/**
 * The next level's width below `w` (one that divides it): w / 32 while that
 * is more than one key; the last step to single keys through buckets of 4
 * keys where a bucket is 16 to 32 keys wide. A bucket of 32 keys that differs by a
 * key or two (a scattered change) returns 8 buckets of 4, then 4 single keys
 * for each of those that differs, where single keys at once returned all 32:
 * a third of the hashes a level moves over a remote link, for a round trip
 * more (a bucket whose keys all differ costs a quarter more).
 */
export function narrower(w: bigint): bigint {
  if (w > FACTOR && w % FACTOR === 0n) return w / FACTOR;
  if (w >= MIDDLE_FROM && w % MIDDLE === 0n) return MIDDLE;
  return 1n;
}

/** The width between a level of MIDDLE_FROM to 32 keys (a multiple of MIDDLE) and single keys. */
const MIDDLE = 4n;
const MIDDLE_FROM = 16n;

// --- plan --diff ---------------------------------------------------------------

export type TableDiff = PlannedDiff;

const EXAMPLES = 5;

/**
 * What a run would do to one table, found without writing: the differing
 * ranges (compareTable) read row by row on both sides, or every row where
 * range hashes cannot be used.
 */
export async function diffTable(
  plan: TablePlan,
  source: Session,
  target: Session,
  opts: CompareOptions & { byVersions?: () => Promise<CompareResult | { reason: string }> } = {},
): Promise<TableDiff> {
  const diff: TableDiff = { inserted: 0, updated: 0, deleted: 0, unchanged: 0, examples: { inserted: [], updated: [], deleted: [] }, method: '' };
  if (plan.createTarget) {
    diff.inserted = await source.countRows(plan.sourceName, plan.spec.where);
    diff.method = 'the table is new: every row is inserted';
    return diff;
  }
  if (plan.key.length === 0 || plan.orderBy.length === 0) {
    diff.inserted = await source.countRows(plan.sourceName, plan.spec.where);
    if (plan.mode === 'replace') diff.deleted = await target.countRows(plan.targetName);
    diff.method = 'the table has no key: rows cannot be matched';
    return diff;
  }
  const eligible = compareEligibility(plan, source, target);
  const kinds = 'kinds' in eligible ? eligible.kinds : undefined;
  let ranges: KeyRange[] = [{}];
  if (kinds) {
    // The rows written since the last sync, where its record of both tables' row versions holds (syncState.ts).
    const byVersions = await opts.byVersions?.();
    const c = byVersions && 'ranges' in byVersions ? byVersions : await compareTable(plan, source, target, kinds, { ...opts, maxDifferingShare: 1 });
    ranges = c.ranges;
    diff.unchanged += c.unchangedRows;
    const buckets = `the rows of the ${c.buckets} key bucket${c.buckets === 1 ? '' : 's'} that may differ`;
    const v = c.byVersions;
    diff.method = v
      ? `rows written since the last sync, by both servers' row versions (${v.written} key${v.written === 1 ? '' : 's'})${v.keyHashes ? ', and range hashes of the key alone for keys only one side has' : ''}, then ${buckets}`
      : `range hashes on both servers (${c.levels} level${c.levels === 1 ? '' : 's'}), then the rows of the ${c.buckets} key bucket${c.buckets === 1 ? '' : 's'} that differ${byVersions && 'reason' in byVersions ? ` (row versions not used: ${byVersions.reason})` : ''}`;
  } else diff.method = `every row compared (${'reason' in eligible ? eligible.reason : ''})`;
  for (const range of ranges) await diffRange(plan, source, target, kinds, range, diff, opts.signal);
  if (plan.mode === 'upsert') {
    diff.kept = diff.deleted;
    diff.deleted = 0;
    diff.examples.deleted = [];
  } else if (plan.mode === 'append') {
    diff.note = 'append inserts every source row; rows whose key the target has are refused as duplicates';
  } else if (plan.mode === 'replace') {
    diff.note = 'replace rewrites the whole table (swap or DELETE + INSERT); these are the rows whose content changes';
  }
  return diff;
}

async function diffRange(plan: TablePlan, source: Session, target: Session, kinds: HashKind[] | undefined, range: KeyRange, diff: TableDiff, signal?: AbortSignal): Promise<void> {
  const srcText = plan.columns.map((c, i) => (kinds ? (v: Value) => hashText(kinds[i], v) : normalizerFor(c.type)));
  // Without kinds, both sides are normalized by the source column's type, as verification does.
  const tgtText = plan.targetColumns.map((_c, i) => (kinds ? (v: Value) => hashText(kinds[i], v) : normalizerFor(plan.columns[i].type)));
  const keyIdx = plan.orderBy.map((k) => plan.columns.findIndex((c) => c.name === k));
  const numeric = keyIdx.map((i) => plan.columns[i].type.kind === 'integer');
  const keyOf = (row: Row, side: 's' | 't') => keyIdx.map((i) => (side === 's' ? srcText : tgtText)[i](row[i] as Value));
  const label = (row: Row) => keyIdx.map((i) => (row[i] === null ? 'NULL' : row[i] instanceof Uint8Array ? Buffer.from(row[i] as Uint8Array).toString('hex') : String(row[i]))).join(', ');
  const cmp = (a: (string | null)[], b: (string | null)[]) => {
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
  };
  const only = (session: Session, side: 's' | 't') => bucketWhere(session, side === 's' ? plan.columns : plan.targetColumns, side === 's' ? plan.orderBy : plan.key, range.buckets);
  const both = (a?: string, b?: string) => (a && b ? `(${a}) AND (${b})` : (a ?? b));
  const read = (session: Session, side: 's' | 't') =>
    session.readRows({
      table: side === 's' ? plan.sourceName : plan.targetName,
      columns: side === 's' ? plan.columns : plan.targetColumns,
      orderBy: side === 's' ? plan.orderBy : plan.key,
      where: side === 's' ? both(plan.spec.where, only(session, 's')) : only(session, 't'),
      after: range.after,
      through: range.through,
      batchRows: 5_000,
    });
  const inserted = (s: Row) => {
    diff.inserted++;
    if (diff.examples.inserted.length < EXAMPLES) diff.examples.inserted.push(label(s));
  };
  const deleted = (t: Row) => {
    diff.deleted++;
    if (diff.examples.deleted.length < EXAMPLES) diff.examples.deleted.push(label(t));
  };
  const matched = (s: Row, t: Row) => {
    const columns = plan.columns.filter((_col, i) => srcText[i](s[i] as Value) !== tgtText[i](t[i] as Value)).map((col) => col.name);
    if (columns.length) {
      diff.updated++;
      if (diff.examples.updated.length < EXAMPLES) diff.examples.updated.push({ key: label(s), columns });
    } else diff.unchanged++;
  };
  // Keys apart by their bytes may be one key to the target (MariaDB 'Red' = 'red '): such a pair is an update there.
  const targetKey = plan.key.map((k) => plan.targetColumns.find((c) => c.name === k)!);
  const pairing = !!target.keyIdentities && targetKey.some((c) => !!c && (c.type.kind === 'text' || c.type.kind === 'enum') && !!c.collation);
  const onlySource: Row[] = [];
  const onlyTarget: Row[] = [];
  const src = new RowCursor(read(source, 's'));
  const tgt = new RowCursor(read(target, 't'));
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
      const s = await src.peek();
      const t = await tgt.peek();
      if (!s && !t) break;
      const c = !s ? 1 : !t ? -1 : cmp(keyOf(s, 's'), keyOf(t, 't'));
      if (c < 0) {
        if (pairing && onlySource.length < PAIRED_KEYS) onlySource.push(s!);
        else inserted(s!);
        src.take();
      } else if (c > 0) {
        if (pairing && onlyTarget.length < PAIRED_KEYS) onlyTarget.push(t!);
        else deleted(t!);
        tgt.take();
      } else {
        matched(s!, t!);
        src.take();
        tgt.take();
      }
    }
  } finally {
    await src.close();
    await tgt.close();
  }
  if (!onlySource.length || !onlyTarget.length) {
    onlySource.forEach(inserted);
    onlyTarget.forEach(deleted);
    return;
  }
  const keyValues = (rows: Row[]) => rows.map((r) => keyIdx.map((i) => r[i] as Value));
  const [sIds, tIds] = await Promise.all([target.keyIdentities!(targetKey, keyValues(onlySource)), target.keyIdentities!(targetKey, keyValues(onlyTarget))]);
  const waiting = new Map<string, Row[]>();
  onlyTarget.forEach((t, i) => waiting.set(tIds[i], [...(waiting.get(tIds[i]) ?? []), t]));
  onlySource.forEach((s, i) => {
    const t = waiting.get(sIds[i])?.shift();
    if (t) matched(s, t);
    else inserted(s);
  });
  for (const rest of waiting.values()) rest.forEach(deleted);
}

/** Keys only one side has, per range, paired by the target's key equality at most this many (more: counted apart). */
const PAIRED_KEYS = 10_000;
