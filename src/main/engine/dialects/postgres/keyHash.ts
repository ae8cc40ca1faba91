/**
 * A key's hash bucket in PostgreSQL's SQL (KeyHash, dialect.ts; why:
 * ../../pipeline/compareKeys.ts). Each key column printed as rowHash.ts's
 * hashText prints it for its kind, so that MySQL/MariaDB and dbferry's own
 * code put the same key in the same bucket.
 */
import type { Column } from '../../types.js';
import type { BucketSet, HashKind, KeyHash } from '../dialect.js';
import { quoteAnsi as q } from '../base.js';
import { bucketSetParts } from '../../pipeline/rowHash.js';

function keyPiece(kind: HashKind, column: Column, x: string): string {
  switch (kind) {
    case 'textfixed':
      return `rtrim(${x}::text, ' ')`;
    case 'uuid':
      return `lower(${x}::text)`;
    case 'bytes':
      return `encode(${x}, 'hex')`;
    case 'date':
      // YYYY-MM-DD under DateStyle ISO (connect.ts), as to_char(x, 'YYYY-MM-DD') for every date MySQL can hold, at less CPU (read.ts hashValue).
      return `${x}::text`;
    case 'native':
      return column.type.kind === 'binary' ? `'x' || encode(${x}, 'hex')` : `${x}::text`;
    default:
      return `${x}::text`;
  }
}

/** The key's 60-bit hash, a non-negative int8; `prefix` qualifies the columns ('s.'). */
export function keyHashSql(columns: Column[], hash: KeyHash, prefix = ''): string {
  const pieces = columns.map((c, i) => keyPiece(hash.kinds[i], c, `${prefix}${q(c.name)}`));
  const text = pieces.length === 1 ? pieces[0] : pieces.map((p) => `coalesce(length(${p})::text || ':' || ${p}, '-')`).join(' || ');
  if (hash.fn === 'pg') return `(hashtextextended(${text}, 0) & 1152921504606846975)`;
  // The digest's first 15 hex digits: its first 8 bytes' 16, as an int8, shifted and masked to 60 bits; 0.08 s a
  // million less than all 64 digits made and 15 cut off by characters (left) and parsed as bit(60).
  return `(((('x' || encode(substring(sha256(convert_to(${text}, 'UTF8')) from 1 for 8), 'hex'))::bit(64)::int8) >> 4) & 1152921504606846975)`;
}

/** The key's bucket of a level of `width` buckets. */
export function keyBucketSql(columns: Column[], hash: KeyHash, width: bigint | string, prefix = ''): string {
  return `(${keyHashSql(columns, hash, prefix)} % ${BigInt(width).toString()}::int8)`;
}

export function keyBucketCondition(columns: Column[], set: BucketSet): string {
  const { levels } = bucketSetParts(set);
  return `(${levels.map((l) => `${keyBucketSql(columns, set.keyHash!, l.width)} IN (${l.ids.map((i) => `${i}::int8`).join(', ')})`).join(' OR ')})`;
}
