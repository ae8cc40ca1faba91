/**
 * Compare before copying for keys that are not one integer column: text keys
 * (char(3) codes, varchar ids in MySQL's _ci collations), uuids, composite keys.
 *
 * Why buckets of a hash of the key, not ranges of it. An integer key splits
 * by arithmetic, and every engine agrees which range holds a key. Text does
 * not: PostgreSQL's collation, MySQL's utf8mb4_general_ci ('a' = 'A', and
 * 'a' = 'a ' under PAD SPACE) and SQLite's BINARY order keys differently, and
 * a mirror deletes the target keys absent from the source within the ranges
 * that differ: were a key's range decided differently on the two sides, a row
 * the source has could be deleted. Ranges in byte order on both sides
 * (COLLATE "C", CAST AS BINARY) would agree, but MySQL cannot read such a
 * range through its index (a _ci key's index is in collation order), and
 * splitting text ranges needs quantiles of the key besides. So a key's bucket
 * is hash(key) mod N, computed from the key's own text on each side
 * (KeyHash, dialect.ts): membership needs no ordering at all, and N × 32 per
 * level nests (a bucket of one level lies in one bucket of the level above),
 * so bisection works as for integers. The price: a set of buckets is no key
 * range, so reading it (staging, a mirror's gone keys, verification) scans
 * the table once per chunk with the hash as a filter; the differing buckets
 * are therefore staged in as few chunks as possible (one up to 50,000 buckets).
 * The compare's own levels scan the whole table as the integer path does.
 *
 * Why that is safe. A target row is deleted only if its bucket differs and no
 * staged source row has its key by the TARGET's own equality (SQL, its
 * collation: 'ABC' staged keeps 'abc' in a _ci table, as the full path does).
 * Suppose the source had a key s equal (by the target) to such a target key
 * t, but s was not staged: s lies in a bucket whose count and hash sum
 * matched, so the target holds a row r there whose normalized text is s's.
 * If the normalization only equates values the target's key equality equates
 * (below), r's key equals s's, hence t's: r and t are one row (then t's bucket
 * is r's, which matched: a contradiction) or two target rows with equal keys
 * (impossible under the key). So each key column's hash kind must never call
 * two values equal that the target tells apart: exact text, integers,
 * decimals, bytes, dates are safe anywhere; 'textfixed' (trailing spaces
 * dropped) only into a char(n) column, or MySQL's PAD SPACE collations; 'uuid'
 * (lower case) only into a uuid column or a case-insensitive collation. A
 * key hash that tells apart more than the target does (exact case into a _ci
 * table) costs buckets that differ for nothing, never a wrong delete.
 *
 * A SQLite side hashes its rows in process and reads its differing buckets
 * with a function of dbferry's that computes the key's hash (sqlite/keyHash.ts):
 * text and integer key columns only; others take the full path, and the plan says so.
 */
import type { BucketSet, KeyHash, Session } from '../dialects/dialect.js';
import type { Column } from '../types.js';
import type { CompareOptions, CompareResult, KeyRange } from './compare.js';
import { hashKinds, type HashKind } from './rowHash.js';
import { SQLITE_KEY_KINDS } from '../dialects/sqlite/keyHash.js';
import type { TablePlan } from './plan.js';

/** Is the key one integer column (the ranges of compare.ts)? */
export function integerKey(plan: Pick<TablePlan, 'orderBy' | 'key' | 'columns' | 'targetColumns'>): boolean {
  if (plan.orderBy.length !== 1 || plan.key.length !== 1) return false;
  const i = plan.columns.findIndex((c) => c.name === plan.orderBy[0]);
  return i >= 0 && plan.columns[i].type.kind === 'integer' && plan.targetColumns[i]?.type.kind === 'integer' && plan.targetColumns[i].name === plan.key[0];
}

/** Kinds a key column may be hashed by whatever the target (they equate only equal values). */
const SAFE_KEY_KINDS: HashKind[] = ['int', 'dec', 'decx', 'text', 'bytes', 'date', 'time', 'ts', 'native'];

/** A MySQL/MariaDB collation that ignores trailing spaces (PAD SPACE): all but the NO PAD ones. */
function padSpace(collation: string | undefined): boolean {
  return !!collation && !/nopad|_0900_|^utf8mb4_(ja|zh)_/i.test(collation);
}

/** Why a key column's hash kind would equate values the target keeps apart, if it would. */
function unsafeKind(kind: HashKind, column: Column, target: Session): string | undefined {
  if (SAFE_KEY_KINDS.includes(kind)) return undefined;
  const engine = target.dialect.engine;
  if (kind === 'textfixed') {
    const fixed = column.type.kind === 'text' && column.type.fixed;
    if ((engine === 'postgres' && fixed) || (engine === 'mysql' && (fixed || padSpace(column.collation)))) return undefined;
    return `key column "${column.name}" is compared without trailing spaces, which the target's ${column.nativeType} keeps apart`;
  }
  if (kind === 'uuid') {
    if (column.type.kind === 'uuid' || /_ci$/i.test(column.collation ?? '')) return undefined;
    return `key column "${column.name}" is a uuid compared in lower case, which the target's ${column.nativeType} keeps apart from upper case`;
  }
  return `key column "${column.name}" (${column.nativeType}) cannot be a key of hashed buckets`;
}

/**
 * Why a SQLite side cannot hash this key column in SQL, if it cannot: its
 * function (sqlite/keyHash.ts) sees the stored values, which are what a row
 * read holds for text and integers only (not for a column decoded from another
 * encoding, nor for dates, decimals or bytes, which reading converts).
 */
function sqliteKeyProblem(kind: HashKind, columns: Column[], sessions: Session[]): string | undefined {
  for (const [i, session] of sessions.entries()) {
    if (session.dialect.engine !== 'sqlite') continue;
    const c = columns[i];
    if (!SQLITE_KEY_KINDS.includes(kind) || !['text', 'integer'].includes(c.type.kind) || c.encoding) {
      return `key column "${c.name}" (${c.nativeType || 'no type'}) of a SQLite table: SQLite hashes key buckets of text or integer columns only`;
    }
  }
  return undefined;
}

/**
 * Can this table be compared by buckets of a hash of its key; if not, why.
 * `plan` has a key, an existing target, the job's columns (compareEligibility).
 */
export function keyHashEligibility(plan: TablePlan, source: Session, target: Session): { kinds: HashKind[] } | { reason: string } {
  const positions = plan.orderBy.map((k) => plan.columns.findIndex((c) => c.name === k));
  if (plan.orderBy.length !== plan.key.length || positions.some((i, j) => i < 0 || plan.targetColumns[i]?.name !== plan.key[j])) {
    return { reason: 'its key is not the target key (key buckets need the same key on both sides)' };
  }
  for (const session of [source, target]) {
    if (!session.keyBucketCondition || !session.bucketHashes) {
      return { reason: `${session.dialect.engine} cannot hash a key that is not one integer column in SQL yet (key buckets)` };
    }
  }
  const hashed = hashKinds(plan.columns, plan.targetColumns, source, target);
  if (!('kinds' in hashed)) return hashed;
  for (const i of positions) {
    const why = unsafeKind(hashed.kinds[i], plan.targetColumns[i], target) ?? sqliteKeyProblem(hashed.kinds[i], [plan.columns[i], plan.targetColumns[i]], [source, target]);
    if (why) return { reason: why };
  }
  return hashed;
}

export function keyHashOf(plan: TablePlan, source: Session, target: Session, kinds: HashKind[]): KeyHash {
  const keyKinds = plan.orderBy.map((k) => kinds[plan.columns.findIndex((c) => c.name === k)]);
  return { kinds: keyKinds, fn: source.dialect.engine === 'postgres' && target.dialect.engine === 'postgres' ? 'pg' : 'sha256' };
}

/** The key columns of one side, in key order. */
export function keyColumns(columns: Column[], key: string[]): Column[] {
  return key.map((k) => columns.find((c) => c.name === k)!);
}

/**
 * This side's condition for a set of buckets, integer ranges' or hashed; `key`
 * names this side's key columns in key order.
 */
export function bucketWhere(session: Session, columns: Column[], key: string[], set: BucketSet | undefined): string | undefined {
  if (!set) return undefined;
  if (set.keyHash) {
    if (!session.keyBucketCondition) throw new Error(`${session.dialect.engine} cannot read buckets of a key hash`);
    return session.keyBucketCondition(keyColumns(columns, key), set);
  }
  return session.bucketCondition ? session.bucketCondition(key[0], set) : undefined;
}

const FACTOR = 32n;
const MAX_BUCKETS = 65_536;
/** Buckets one chunk reads (one scan each): the IN list of a statement. */
const CHUNK_BUCKETS = 50_000;
/** Past this many differing source rows, a chunk per this many (a resume loses less). */
const CHUNK_ROWS = 1_000_000;

/** The smallest power of two at least n. */
function pow2(n: number): bigint {
  let p = 1n;
  while (p < BigInt(Math.ceil(n))) p *= 2n;
  return p;
}

/**
 * compareTable (compare.ts) for a key bucketed by its hash: the same levels,
 * counts and hash sums per bucket on both servers at once, 32 ways per level.
 */
export async function compareByKeyHash(plan: TablePlan, source: Session, target: Session, kinds: HashKind[], leafRows: number, opts: CompareOptions): Promise<CompareResult> {
  const share = opts.maxDifferingShare ?? 1;
  const where = plan.spec.where;
  const keyHash = keyHashOf(plan, source, target, kinds);
  const out: CompareResult = { ranges: [], sourceRows: 0, targetRows: 0, differingSourceRows: 0, differingTargetRows: 0, unchangedRows: 0, levels: 0, buckets: 0 };
  const estimate = Math.max(plan.estimate ?? 0, plan.targetInfo?.rowEstimate ?? 0, 1);
  let width = pow2(Math.min(MAX_BUCKETS, Math.max(1, estimate / leafRows)));
  /** Differing leaves by level width. */
  const leaves = new Map<bigint, { ids: bigint[]; rows: number }>();
  let within: { width: bigint; ids: bigint[] } | undefined;
  for (let level = 0; ; level++) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('cancelled');
    const req = { buckets: { lo: 0n, width, within, narrow: true, keyHash }, kinds, batchRows: 10_000 };
    const [sh, th] = await Promise.all([
      source.bucketHashes!({ ...req, table: plan.sourceName, columns: plan.columns, orderBy: plan.orderBy, where }),
      target.bucketHashes!({ ...req, table: plan.targetName, columns: plan.targetColumns, orderBy: plan.key }),
    ]);
    out.levels++;
    const sMap = new Map(sh.map((b) => [b.bucket, b]));
    const tMap = new Map(th.map((b) => [b.bucket, b]));
    if (level === 0) {
      out.sourceRows = sh.reduce((n, b) => n + b.rows, 0);
      out.targetRows = th.reduce((n, b) => n + b.rows, 0);
    }
    const again: bigint[] = [];
    let againRows = 0;
    // Past 2^60 buckets a hash of 60 bits splits no further.
    const deeper = width * FACTOR <= 2n ** 60n;
    for (const id of new Set([...sMap.keys(), ...tMap.keys()])) {
      const a = sMap.get(id);
      const b = tMap.get(id);
      if (a && b && a.rows === b.rows && a.hash === b.hash) {
        out.unchangedRows += a.rows;
        continue;
      }
      const rows = Math.max(a?.rows ?? 0, b?.rows ?? 0);
      if (rows > leafRows && deeper) {
        again.push(id);
        againRows += a?.rows ?? 0;
      } else {
        const leaf = leaves.get(width) ?? { ids: [], rows: 0 };
        leaf.ids.push(id);
        leaf.rows += a?.rows ?? 0;
        leaves.set(width, leaf);
        out.buckets++;
        out.differingSourceRows += a?.rows ?? 0;
        out.differingTargetRows += b?.rows ?? 0;
      }
    }
    const shareNow = (out.differingSourceRows + againRows) / Math.max(1, out.sourceRows);
    const judged = !again.length || sMap.size + tMap.size >= 2 * Number(FACTOR);
    if (share < 1 && judged && shareNow > share) {
      out.tooMuch = `${Math.round(shareNow * 100)}% of the rows lie in key buckets that differ`;
      return out;
    }
    if (!again.length) break;
    within = { width, ids: again };
    width *= FACTOR;
  }
  out.ranges = toChunks(leaves, keyHash, out.differingSourceRows, opts.maxRanges ?? 64);
  return out;
}

/** Differing buckets as chunks: each chunk is a scan of the table, so as few as the rows allow. */
function toChunks(leaves: Map<bigint, { ids: bigint[]; rows: number }>, keyHash: KeyHash, rows: number, maxChunks: number): KeyRange[] {
  const all = [...leaves].flatMap(([width, l]) => l.ids.map((id) => ({ width, id })));
  if (!all.length) return [];
  const chunks = Math.min(maxChunks, Math.max(Math.ceil(all.length / CHUNK_BUCKETS), Math.ceil(rows / CHUNK_ROWS)));
  const per = Math.ceil(all.length / chunks);
  const out: KeyRange[] = [];
  for (let i = 0; i < all.length; i += per) {
    const levels = new Map<bigint, string[]>();
    for (const { width, id } of all.slice(i, i + per)) {
      const ids = levels.get(width) ?? [];
      ids.push(id.toString());
      levels.set(width, ids);
    }
    const buckets: BucketSet = { lo: '0', narrow: true, keyHash, levels: finest(levels) };
    out.push({ buckets });
  }
  return out;
}

/** Ids a chunk's set may list when its buckets are all named at the finest level. */
const MAX_FLAT_IDS = 200_000;

/**
 * A set's buckets named at its finest level where the list stays short: a
 * bucket of width w is the buckets id + k × w of the finest width, and the
 * condition then hashes each key once, not once per level (which costs a
 * scan's worth of hashing per level on MariaDB).
 */
function finest(levels: Map<bigint, string[]>): BucketSet['levels'] {
  const widths = [...levels.keys()];
  const top = widths.reduce((a, b) => (a > b ? a : b), 0n);
  let count = 0n;
  for (const [width, ids] of levels) count += BigInt(ids.length) * (top / width);
  if (levels.size <= 1 || count > BigInt(MAX_FLAT_IDS)) return [...levels].map(([width, ids]) => ({ width: width.toString(), ids }));
  const out: string[] = [];
  for (const [width, ids] of levels) {
    for (const id of ids) for (let k = BigInt(id); k < top; k += width) out.push(k.toString());
  }
  return [{ width: top.toString(), ids: out }];
}

/**
 * A mirror's gone keys within a set of hashed buckets: the target keys there
 * that no staged row has, by the target's own key equality (its collation),
 * found in one statement.
 */
export function goneInBucketsSql(target: Session, plan: TablePlan, staging: Parameters<Session['quoteTable']>[0], gone: Parameters<Session['quoteTable']>[0], set: BucketSet): string {
  const q = (n: string) => target.quoteIdentifier(n);
  const keys = plan.key.map(q);
  const match = plan.key.map((k) => `s.${q(k)} = x.${q(k)}`).join(' AND ');
  const cond = bucketWhere(target, plan.targetColumns, plan.key, set)!;
  return (
    `INSERT INTO ${target.quoteTable(gone)} (${keys.join(', ')}) SELECT ${keys.map((k) => `x.${k}`).join(', ')} FROM ${target.quoteTable(plan.targetName)} AS x ` +
    `WHERE ${cond} AND NOT EXISTS (SELECT 1 FROM ${target.quoteTable(staging)} AS s WHERE ${match})`
  );
}
