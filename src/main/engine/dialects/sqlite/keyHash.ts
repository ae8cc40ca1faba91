/**
 * A key's hash bucket in SQLite's SQL (KeyHash, dialect.ts; why:
 * ../../pipeline/compareKeys.ts): SQLite has no SHA-256, so the connection
 * gets a function that computes the key's hash as rowHash.ts does (the same
 * text, the same digest as PostgreSQL's and MySQL/MariaDB's SQL), and a delta
 * run's reads of differing buckets filter by it.
 */
import type Database from 'better-sqlite3';
import type { Column } from '../../types.js';
import type { BucketSet, HashKind, KeyHash } from '../dialect.js';
import { quoteAnsi } from '../base.js';
import { bucketSetParts, keyHashValue } from '../../pipeline/rowHash.js';

export const KEY_HASH = 'dbferry_key_hash';

/** Kinds a SQLite key column is hashed as: its text and integers read alike in SQL and in a row. */
export const SQLITE_KEY_KINDS: HashKind[] = ['text', 'int'];

const registered = new WeakSet<Database.Database>();

/** KEY_HASH(kinds, value, …): kinds is the key columns' hash kinds joined by ','. */
export function registerKeyHash(db: Database.Database): void {
  if (registered.has(db)) return;
  db.function(KEY_HASH, { deterministic: true, varargs: true, safeIntegers: true }, (kinds: unknown, ...values: unknown[]) => {
    const hash: KeyHash = { fn: 'sha256', kinds: String(kinds).split(',') as HashKind[] };
    return keyHashValue(hash, values.map((v) => (v === undefined ? null : (v as string | bigint | number | Buffer | null))));
  });
  registered.add(db);
}

export function keyBucketCondition(columns: Column[], set: BucketSet): string {
  const hash = set.keyHash!;
  if (hash.fn !== 'sha256' || hash.kinds.some((k) => !SQLITE_KEY_KINDS.includes(k))) throw new Error(`SQLite cannot compute a key hash of ${hash.fn} over ${hash.kinds.join(', ')}`);
  const { levels } = bucketSetParts(set);
  const call = `${KEY_HASH}('${hash.kinds.join(',')}', ${columns.map((c) => quoteAnsi(c.name)).join(', ')})`;
  return `(${levels.map((l) => `(${call} % ${l.width}) IN (${l.ids.join(', ')})`).join(' OR ')})`;
}
