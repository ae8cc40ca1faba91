/**
 * Row hashes that mean the same on every engine (as datafold's data-diff
 * does it: each column printed in one normalized text per type, the row's
 * SHA-256, its first 15 hex digits summed per key range; SHA-256, not md5:
 * MariaDB's SHA2 costs a third less than its MD5). PostgreSQL and
 * MySQL/MariaDB print and hash in SQL (Session.bucketHashes); SQLite, being
 * local, is read and hashed here, the same way.
 *
 * What "the same value" means is the target's: a decimal into a column of a
 * fixed scale is compared without trailing zeros (the target stores 1.5 as
 * 1.50), into one that keeps any scale (PostgreSQL's numeric, SQLite's text)
 * as printed; text is compared by its characters (case and trailing spaces
 * count); timestamps to the microsecond in UTC; NULL is not ''.
 */
import { createHash } from 'node:crypto';
import { BARE_HASH_KINDS, type BucketHash, type BucketRequest, type BucketSet, type HashKind, type KeyHash, type Session } from '../dialects/dialect.js';
import type { Column, LogicalType, Row, Value } from '../types.js';
import { canonicalDecimal, canonicalTemporal } from './normalize.js';

export type { HashKind } from '../dialects/dialect.js';

/** Each column's kind for a source → target pair, or why the rows cannot be hashed alike. */
export function hashKinds(
  columns: Column[],
  targetColumns: Column[],
  source: Session,
  target: Session,
): { kinds: HashKind[] } | { reason: string } {
  const sameEngine = source.dialect.engine === target.dialect.engine;
  const native = (t: string) => t.toLowerCase().replace(/\s+/g, ' ').trim();
  const kinds: HashKind[] = [];
  const sameType = (c: Column, d: Column) => native(c.nativeType) === native(d.nativeType) && JSON.stringify(c.type) === JSON.stringify(d.type);
  // One engine, the same types: the engine's own text of every value (PostgreSQL hashes the row's text at once).
  // (and both servers hash native rows alike: a MySQL without CRC32C and a MariaDB with it take the per-type path).
  const nativeAlike = sameEngine && source.nativeRowHash === target.nativeRowHash;
  const printsAlike = (c: Column, d: Column) => sameType(c, d) || !!source.printsAlike?.(c, d);
  if (nativeAlike && columns.length === targetColumns.length && columns.every((c, i) => printsAlike(c, targetColumns[i]))) return { kinds: columns.map(() => 'native') };
  for (const [i, c] of columns.entries()) {
    const d = targetColumns[i];
    if (sameEngine && sameType(c, d)) {
      kinds.push(kindFor(c.type, d.type, target) ?? 'native');
      continue;
    }
    let kind = kindFor(c.type, d.type, target);
    // Decimals of one fixed scale on both servers print that many digits on both: as printed, not stripped (a cast fewer a value).
    if (kind === 'dec' && c.type.kind === 'decimal' && d.type.kind === 'decimal' && c.type.scale !== undefined && c.type.scale === d.type.scale && source.dialect.engine !== 'sqlite' && target.dialect.engine !== 'sqlite') kind = 'decx';
    if (!kind) {
      return {
        reason: `column "${c.name}" (${c.nativeType || 'no type'} → ${d.nativeType || 'no type'}): ${source.dialect.engine === target.dialect.engine ? 'its two types' : `${source.dialect.engine} and ${target.dialect.engine}`} print its values differently, so rows cannot be hashed alike`,
      };
    }
    kinds.push(kind);
  }
  return { kinds };
}

function kindFor(s: LogicalType, t: LogicalType, target: Session): HashKind | undefined {
  // A SQLite column of no declared type holds what the other side's type says.
  const a = s.kind === 'any' ? t : s;
  const b = t.kind === 'any' ? a : t;
  const is = (x: LogicalType, ...kinds: string[]) => kinds.includes(x.kind);
  // A boolean into an integer (MySQL's TINYINT(1)) is stored as 1 or 0.
  if ((b.kind === 'integer' && is(a, 'integer', 'boolean')) || (b.kind === 'boolean' && a.kind === 'integer')) return 'int';
  if (b.kind === 'decimal' && is(a, 'decimal', 'integer')) {
    // The target keeps the scale it is given (PostgreSQL's numeric without one, SQLite's text): 1.50 is not 1.5 there.
    return b.scale === undefined || target.dialect.engine === 'sqlite' ? 'decx' : 'dec';
  }
  if (b.kind === 'boolean' && is(a, 'boolean')) return 'bool';
  if (is(b, 'text', 'enum') && is(a, 'text', 'enum')) return (a.kind === 'text' && a.fixed) || (b.kind === 'text' && b.fixed) ? 'textfixed' : 'text';
  if ((b.kind === 'uuid' && is(a, 'uuid', 'text')) || (a.kind === 'uuid' && b.kind === 'text')) return 'uuid';
  if (b.kind === 'binary' && a.kind === 'binary' && !b.fixed && !a.fixed) return 'bytes';
  if (b.kind === 'date' && a.kind === 'date') return 'date';
  if (b.kind === 'time' && a.kind === 'time') return 'time';
  if (b.kind === 'timestamp' && a.kind === 'timestamp') return 'ts';
  return undefined;
}

function text(v: Value): string {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return String(v);
}

function stripFraction(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** A value's text for its kind (NULL: null), as the SQL of every engine prints it. */
export function hashText(kind: HashKind, v: Value): string | null {
  if (v === null) return null;
  switch (kind) {
    case 'int':
      return typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v === 'boolean' ? (v ? '1' : '0') : canonicalDecimal(text(v));
    case 'dec':
      return canonicalDecimal(text(v));
    case 'decx':
      return typeof v === 'number' || typeof v === 'bigint' ? String(v) : text(v).trim();
    case 'bool': {
      if (typeof v === 'boolean') return v ? '1' : '0';
      const s = text(v).toLowerCase();
      return s === '0' || s === 'f' || s === 'false' ? '0' : '1';
    }
    case 'text':
      return text(v);
    case 'textfixed':
      return text(v).replace(/ +$/, '');
    case 'uuid':
      return text(v).toLowerCase();
    case 'bytes':
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : Buffer.from(String(v), 'utf8').toString('hex');
    case 'date':
      return text(v).slice(0, 10);
    case 'time':
      return stripFraction(text(v).trim());
    case 'ts': {
      // Canonical timestamps carry "+00:00" when they have a zone (always UTC): the time in UTC, no zone.
      const s = canonicalTemporal(text(v)).replace(/\+00:00$/, '');
      return stripFraction(s);
    }
    case 'native':
      if (v instanceof Uint8Array) return `x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
      return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  }
}

/**
 * The text a row is hashed as: each column's piece, '|' between them; a
 * piece is '-' for NULL, a bare kind's text, or any other kind's length in
 * characters, ':' and its text.
 */
export function rowText(kinds: HashKind[], row: Value[]): string {
  let out = '';
  for (let i = 0; i < kinds.length; i++) {
    if (i) out += '|';
    const t = hashText(kinds[i], row[i]);
    out += t === null ? '-' : BARE_HASH_KINDS.has(kinds[i]) ? t : `${codePoints(t)}:${t}`;
  }
  return out;
}

function codePoints(s: string): number {
  let n = s.length;
  // Surrogate pairs are one character to the servers.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** The row's 60-bit hash, as every engine computes it: the first 15 hex digits of the SHA-256 of its text's UTF-8. */
export function rowHash(kinds: HashKind[], row: Value[]): bigint {
  return BigInt(`0x${createHash('sha256').update(rowText(kinds, row), 'utf8').digest('hex').slice(0, 15)}`);
}

/** Integer key value as a bigint. */
export function keyBig(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return BigInt(text(v).split('.')[0]);
}

/** Floor division of bigints (the servers' buckets start at lo, so the dividend is never negative there). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/**
 * A key's 60-bit hash as the servers compute it for KeyHash 'sha256'
 * (../dialects/*\/keyHash.ts): one column, its kind's text; more, each as its
 * length in characters, ':' and its text, or '-' for NULL; the first 15 hex
 * digits of the SHA-256 of its UTF-8.
 */
export function keyHashValue(hash: KeyHash, values: Value[]): bigint {
  if (hash.fn !== 'sha256') throw new Error(`a key hash of kind ${hash.fn} is computed by PostgreSQL only`);
  let text: string;
  if (values.length === 1) text = hashText(hash.kinds[0], values[0]) ?? '';
  else {
    text = '';
    for (let i = 0; i < values.length; i++) {
      const t = hashText(hash.kinds[i], values[i]);
      text += t === null ? '-' : `${codePoints(t)}:${t}`;
    }
  }
  return BigInt(`0x${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 15)}`);
}

/** BucketRequest answered by reading the rows here: SQLite's side, or any engine without bucketHashes. */
export async function bucketHashesInProcess(session: Session, req: BucketRequest): Promise<BucketHash[]> {
  const keyIdx = req.columns.findIndex((c) => c.name === req.orderBy[0]);
  const { lo, width, within, keyHash } = req.buckets;
  const keyIdxs = req.orderBy.map((k) => req.columns.findIndex((c) => c.name === k));
  // A row's bucket of a level `w` wide: of its key's hash (compareKeys.ts), or of its integer key from lo.
  const bucketOf = keyHash ? (row: Row, w: bigint) => keyHashValue(keyHash, keyIdxs.map((i) => row[i] as Value)) % w : (row: Row, w: bigint) => floorDiv(keyBig(row[keyIdx] as Value) - lo, w);
  const ids = within ? new Set(within.ids.map(String)) : undefined;
  const sums = new Map<bigint, { rows: number; hash: bigint }>();
  for await (const batch of session.readRows({ ...req, batchRows: Math.max(req.batchRows, 5_000) })) {
    for (const row of batch) {
      if (ids && !ids.has(String(bucketOf(row, within!.width)))) continue;
      const b = bucketOf(row, width);
      const h = rowHash(req.kinds, row);
      const s = sums.get(b);
      if (s) {
        s.rows++;
        s.hash += h;
      } else sums.set(b, { rows: 1, hash: h });
    }
  }
  return [...sums].map(([bucket, s]) => ({ bucket, rows: s.rows, hash: s.hash.toString() }));
}

/** The integers of a BucketSet, checked to be integers before they go into SQL. */
export function bucketSetParts(set: BucketSet): { lo: string; levels: Array<{ width: string; ids: string[] }> } {
  const int = (s: string) => {
    if (!/^-?\d+$/.test(s)) throw new Error(`not an integer in a bucket set: ${JSON.stringify(s)}`);
    return s;
  };
  return { lo: int(set.lo), levels: set.levels.map((l) => ({ width: int(l.width), ids: l.ids.map(int) })) };
}

/** Is this key in the set (as the servers' conditions decide it)? */
export function inBucketSet(set: BucketSet, key: Value): boolean {
  const k = keyBig(key) - BigInt(set.lo);
  if (k < 0n) return false;
  return set.levels.some((l) => l.ids.includes(String(k / BigInt(l.width))));
}

/** A fast membership test for many keys. */
export function bucketSetTest(set: BucketSet): (key: Value) => boolean {
  const lo = BigInt(set.lo);
  const levels = set.levels.map((l) => ({ width: BigInt(l.width), ids: new Set(l.ids) }));
  return (key) => {
    const k = keyBig(key) - lo;
    return k >= 0n && levels.some((l) => l.ids.has(String(k / l.width)));
  };
}

export function bucketHashes(session: Session, req: BucketRequest): Promise<BucketHash[]> {
  return session.bucketHashes ? session.bucketHashes(req) : bucketHashesInProcess(session, req);
}
