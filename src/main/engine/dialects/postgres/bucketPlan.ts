/**
 * How PostgreSQL runs a range-hash query (read.ts bucketHashes) fast.
 *
 * - GROUP BY a bucket expression has no statistics: the planner takes every
 *   row for a group (10M "groups" for a 10M-row table, where there are at most
 *   65,536) and picks a sort of the whole table, spilled to disk with the
 *   default work_mem, over a hash aggregate: 13 s where the hash aggregate
 *   takes 4 s of one core at 10M rows. For the statement only: no sort
 *   (enable_sort off, the hash aggregate is the only other plan), and
 *   work_mem at least 32MB (a bucket's state is about 300 bytes: 65,536
 *   buckets in about 20MB, in memory; more spill to disk as they would).
 * - A level below the first hashes only the buckets that differed above: read
 *   through the key's index, one key range per bucket (a join of their ids),
 *   where a condition on every row's bucket read the whole table again. The
 *   planner's estimate for such ranges is millions of rows: no JIT for it
 *   (compiling costs more than reading the few thousand rows).
 */
import type { BucketRequest, BucketSet } from '../dialect.js';
import { quoteAnsi as q } from '../base.js';
import { bucketSetParts } from '../../pipeline/rowHash.js';

/** Planner settings for one hash statement: name, value (an SQL expression). */
export function bucketSettings(within: boolean): Array<[string, string]> {
  const settings: Array<[string, string]> = [
    ['enable_sort', "'off'"],
    ['work_mem', "CASE WHEN pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('32MB') THEN '32MB' ELSE current_setting('work_mem') END"],
  ];
  if (within) settings.push(['jit', "'off'"]);
  return settings;
}

/**
 * The rows of the buckets `within` names, for a one-column integer key within
 * int8 (narrow): `select` joined to the buckets' ids, each id a key range
 * [lo + id × width, lo + id × width + width - 1] that the key's index serves.
 * The ids are distinct (one bucket each), so every row comes once. Undefined
 * where the bucket condition stays (hashed keys, keys beyond int8).
 */
export function withinFrom(req: BucketRequest, select: string): string | undefined {
  const { lo, within, narrow, keyHash } = req.buckets;
  if (!within || !narrow || keyHash || req.orderBy.length !== 1) return undefined;
  const ids = [...new Set(within.ids.map((i) => i.toString()))];
  const key = `s.${q(req.orderBy[0])}`;
  const first = `${lo.toString()}::int8 + w.b * ${within.width.toString()}::int8`;
  return (
    `unnest('{${ids.join(',')}}'::int8[]) AS w(b) JOIN (${select}) AS s ` +
    `ON ${key} >= ${first} AND ${key} <= ${first} + ${(within.width - 1n).toString()}::int8`
  );
}

/**
 * A bucket set's keys as key ranges (merged where they touch), for a
 * condition the key's index serves: a delta run's chunk of neighbouring
 * buckets (a clustered change) is one range, read through the index, where a
 * condition on every row's bucket read the whole table for each chunk.
 * Undefined past `max` ranges (scattered buckets): each OR arm costs the
 * planner and every row's recheck, and a long OR is what JIT compiles slowest.
 */
export function bucketRanges(set: BucketSet, max: number): Array<[bigint, bigint]> | undefined {
  if (!set.narrow || set.keyHash) return undefined;
  const { lo, levels } = bucketSetParts(set);
  const base = BigInt(lo);
  const all: Array<[bigint, bigint]> = [];
  for (const { width, ids } of levels) {
    const w = BigInt(width);
    for (const id of ids) {
      const first = base + BigInt(id) * w;
      all.push([first, first + w - 1n]);
    }
  }
  all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [from, to] of all) {
    const last = out[out.length - 1];
    if (last && from <= last[1] + 1n) {
      if (to > last[1]) last[1] = to;
    } else {
      if (out.length === max) return undefined;
      out.push([from, to]);
    }
  }
  return out;
}

/**
 * A bucket set's keys one by one, for `key = ANY(array)` (index lookups), when
 * they are at most `max`: scattered single-key leaves of a delta run (3,000
 * keys of a 0.1% change: an index lookup each, where the list of bucket ids
 * was tested on every row of the table). Undefined past `max` or beyond int8.
 */
export function bucketKeys(set: BucketSet, max: number): bigint[] | undefined {
  const ranges = bucketRanges(set, Number.MAX_SAFE_INTEGER);
  if (!ranges) return undefined;
  let n = 0n;
  for (const [a, b] of ranges) {
    n += b - a + 1n;
    if (n > BigInt(max)) return undefined;
  }
  const keys: bigint[] = [];
  for (const [a, b] of ranges) for (let k = a; k <= b; k++) keys.push(k);
  return keys;
}
