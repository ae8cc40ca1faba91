/** The keys staged in a run, to refuse a key the source holds twice, and how a duplicate reads. */
import type { LogicalType, Value } from '../../types.js';
import { plainOrText } from './decimal.js';
import { INTEGER_TEXT } from './numbers.js';
import { show } from './text.js';

/** V8 refuses a Set beyond 2^24 entries; a new one is started well before. */
const KEYS_PER_SET = 8_000_000;

/** Strings in as many Sets as it takes. */
class StringSet {
  private sets: Set<string>[] = [new Set()];

  /** Remember `k`; false when it was there. */
  add(k: string): boolean {
    const sets = this.sets;
    for (let i = 0; i < sets.length; i++) if (sets[i].has(k)) return false;
    let last = sets[sets.length - 1];
    if (last.size >= KEYS_PER_SET) sets.push((last = new Set()));
    last.add(k);
    return true;
  }

  get size(): number {
    let n = 0;
    for (const s of this.sets) n += s.size;
    return n;
  }
}

/**
 * Safe integers in an open-addressing hash table of doubles: 16 to 32 bytes
 * a key outside the JS heap, where a Set of numbers takes about 40 on the heap
 * (and stops at 2^24 entries).
 */
class IntegerSet {
  private slots = new Float64Array(1 << 16);
  private mask = (1 << 16) - 1;
  private count = 0;
  /** 0 marks an empty slot, so the key 0 is kept apart. */
  private hasZero = false;

  add(k: number): boolean {
    if (k === 0) {
      if (this.hasZero) return false;
      this.hasZero = true;
      return true;
    }
    const slots = this.slots;
    for (let i = IntegerSet.hash(k) & this.mask; ; i = (i + 1) & this.mask) {
      const here = slots[i];
      if (here === k) return false;
      if (here === 0) {
        slots[i] = k;
        if (++this.count * 2 > slots.length) this.grow();
        return true;
      }
    }
  }

  get size(): number {
    return this.count + (this.hasZero ? 1 : 0);
  }

  private static hash(k: number): number {
    const low = k >>> 0;
    const high = Math.floor(k / 4294967296) | 0;
    const h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
    return h ^ (h >>> 15);
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (const k of old) {
      if (k === 0) continue;
      let i = IntegerSet.hash(k) & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = k;
    }
  }
}

/**
 * Safe integers as they usually come, in increasing order (reads are ordered
 * by the key): runs of consecutive values, 16 bytes a run, so a dense id
 * column is one run and a sparse one 16 bytes a key, appended in order.
 * A key at or below the largest seen goes to the hash table, after a binary
 * search of the runs.
 */
class IntegerRuns {
  private starts = new Float64Array(1024);
  private ends = new Float64Array(1024);
  private runs = 0;
  private max = -Infinity;
  private outOfOrder = new IntegerSet();

  add(k: number): boolean {
    if (k > this.max) {
      if (k === this.max + 1) this.ends[this.runs - 1] = k;
      else {
        if (this.runs === this.starts.length) this.grow();
        this.starts[this.runs] = k;
        this.ends[this.runs++] = k;
      }
      this.max = k;
      return true;
    }
    return !this.inRuns(k) && this.outOfOrder.add(k);
  }

  get size(): number {
    let n = this.outOfOrder.size;
    for (let i = 0; i < this.runs; i++) n += this.ends[i] - this.starts[i] + 1;
    return n;
  }

  private inRuns(k: number): boolean {
    let lo = 0;
    let hi = this.runs - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] > k) hi = mid - 1;
      else if (this.ends[mid] < k) lo = mid + 1;
      else return true;
    }
    return false;
  }

  private grow(): void {
    const starts = new Float64Array(this.starts.length * 2);
    const ends = new Float64Array(this.ends.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}

/**
 * The keys staged in this run, to refuse a key the source holds twice.
 *
 * Memory (measured on Node 20 by the test's benchmark): a one-column integer
 * key (within 2^53) read in key order costs 16 bytes a gap between
 * consecutive ids, nothing for a dense id column (IntegerRuns); out of order,
 * 16 to 32 bytes a key. Any other key is kept as one flat string in a Set:
 * about 50 bytes plus the key's length (10 million keys of 20 characters are
 * about 700 MB). Switch tracking off (trackKeys: false) for such tables; the target's
 * unique index still refuses duplicates at apply time, only not row by row.
 * Keys compare exactly as values; a case-insensitive collation in the target
 * may still find two keys equal, which its unique index refuses at apply.
 */
export class KeyTracker {
  private integers = new IntegerRuns();
  private strings = new StringSet();
  private readonly add_: (key: readonly Value[]) => boolean;

  constructor(types: LogicalType[]) {
    const parts = types.map(keyPart);
    if (types.length === 1 && types[0].kind === 'integer') {
      this.add_ = (key) => {
        const k = integerKey(key[0]);
        return typeof k === 'number' ? this.integers.add(k) : this.strings.add(k);
      };
    } else {
      const pieces: Array<string | number> = [];
      this.add_ = (key) => {
        pieces.length = 0;
        // Length-prefixed, so ("a:1", "b") and ("a", "1:b") stay apart. join() copies into one
        // flat string: a key read as a slice of a driver's buffer must not keep the buffer alive.
        for (let i = 0; i < parts.length; i++) {
          const p = parts[i](key[i]);
          pieces.push(p.length, ':', p);
        }
        return this.strings.add(pieces.join(''));
      };
    }
  }

  /** Remember the key; false when it was seen before. */
  add(key: readonly Value[]): boolean {
    return this.add_(key);
  }

  get size(): number {
    return this.integers.size + this.strings.size;
  }

  clear(): void {
    this.integers = new IntegerRuns();
    this.strings = new StringSet();
  }
}

/** An integer key as a number when safe, else as text (an integer column never holds other text). */
function integerKey(v: Value): number | string {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : String(v);
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : BigInt(v).toString();
  }
  if (typeof v === 'bigint') return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return String(v);
}

function keyPart(type: LogicalType): (v: Value) => string {
  if (type.kind === 'integer') return (v) => String(integerKey(v));
  if (type.kind === 'decimal') return (v) => (typeof v === 'boolean' ? (v ? '1' : '0') : plainOrText(String(v)));
  return (v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : String(v));
}

export function duplicateKeyReason(names: string[], values: Value[]): string {
  if (names.length === 1) return `${names[0]} ${show(values[0])} appears twice in the source`;
  return `key (${names.join(', ')}) = (${values.map(show).join(', ')}) appears twice in the source`;
}
