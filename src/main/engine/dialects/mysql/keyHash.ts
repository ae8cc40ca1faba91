/**
 * A key's hash bucket in MySQL/MariaDB's SQL (KeyHash, dialect.ts; why:
 * ../../pipeline/compareKeys.ts). Each key column printed in utf8mb4 as
 * rowHash.ts's hashText prints it for its kind, so that PostgreSQL and
 * dbferry's own code put the same key in the same bucket.
 */
import type { Column } from '../../types.js';
import type { BucketSet, HashKind, KeyHash } from '../dialect.js';
import { quoteBacktick } from '../base.js';
import { bucketSetParts } from '../../pipeline/rowHash.js';

function keyPiece(kind: HashKind, column: Column, x: string): string {
  const chars = `CONVERT(${x} USING utf8mb4)`;
  switch (kind) {
    case 'text':
      return chars;
    case 'textfixed':
      return `TRIM(TRAILING ' ' FROM ${chars})`;
    case 'uuid':
      return `LOWER(CAST(${x} AS CHAR CHARACTER SET utf8mb4))`;
    case 'bytes':
      return `LOWER(HEX(${x}))`;
    case 'date':
      return `CONVERT(DATE_FORMAT(${x}, '%Y-%m-%d') USING utf8mb4)`;
    default:
      if (column.type.kind === 'binary') return `CONCAT('x', LOWER(HEX(${x})))`;
      return `CAST(${x} AS CHAR CHARACTER SET utf8mb4)`;
  }
}

/** The key's 60-bit hash, an unsigned integer (only 'sha256': a 'pg' hash has no MySQL form). */
export function keyHashSql(columns: Column[], hash: KeyHash): string {
  if (hash.fn !== 'sha256') throw new Error(`MySQL cannot compute a key hash of kind ${hash.fn}`);
  const pieces = columns.map((c, i) => keyPiece(hash.kinds[i], c, quoteBacktick(c.name)));
  const text = pieces.length === 1 ? pieces[0] : `CONCAT(${pieces.map((p) => `COALESCE(CONCAT(CHAR_LENGTH(${p}), ':', ${p}), '-')`).join(', ')})`;
  // SHA2, not MD5: MariaDB's MD5 costs 2-4× as much (1M short keys: 2.6 s against 0.6 s).
  return `CAST(CONV(LEFT(SHA2(${text}, 256), 15), 16, 10) AS UNSIGNED)`;
}

/** The key's bucket of a level of `width` buckets. */
export function keyBucketSql(columns: Column[], hash: KeyHash, width: bigint | string): string {
  return `(${keyHashSql(columns, hash)} MOD ${BigInt(width).toString()})`;
}

export function keyBucketCondition(columns: Column[], set: BucketSet): string {
  const { levels } = bucketSetParts(set);
  return `(${levels.map((l) => `${keyBucketSql(columns, set.keyHash!, l.width)} IN (${l.ids.join(', ')})`).join(' OR ')})`;
}
