import { describe, expect, it } from 'vitest';
import { narrower } from '../../src/main/engine/pipeline/compare.js';
import { bucketList } from '../../src/main/engine/dialects/postgres/read.js';
import type { BucketHash } from '../../src/main/engine/dialects/dialect.js';

/** Every level's width from `w` down to single keys. */
function levels(w: bigint): bigint[] {
  const out = [w];
  while (out[out.length - 1] > 1n) out.push(narrower(out[out.length - 1]));
  return out;
}

describe('bisection of differing buckets', () => {
  it('narrows a bucket of 32 keys through buckets of 4, each width dividing the one above', () => {
    expect(levels(32n)).toEqual([32n, 4n, 1n]);
    expect(levels(1024n)).toEqual([1024n, 32n, 4n, 1n]);
    expect(levels(160n)).toEqual([160n, 5n, 1n]);
    expect(levels(64n)).toEqual([64n, 2n, 1n]);
    expect(levels(16n)).toEqual([16n, 4n, 1n]);
    expect(levels(4n)).toEqual([4n, 1n]);
    for (const w of [32n, 1024n, 160n, 96n, 24n, 5n, 2n ** 40n]) {
      const ws = levels(w);
      for (let i = 1; i < ws.length; i++) expect(ws[i - 1] % ws[i], `${ws.join(' → ')}`).toBe(0n);
    }
  });
});

describe('PostgreSQL bucket lists', () => {
  it('reads ids, counts and exact sums, hex ids as signed 64-bit', () => {
    const out: BucketHash[] = [];
    bucketList('0:20:-18446744073709551616123,ff:1:42,ffffffffffffffff:2:0', true, out);
    expect(out).toEqual([
      { bucket: 0n, rows: 32, hash: '-18446744073709551616123' },
      { bucket: 255n, rows: 1, hash: '42' },
      { bucket: -1n, rows: 2, hash: '0' },
    ]);
    bucketList('123456789012345678901234567890:a:7', false, out);
    expect(out[3]).toEqual({ bucket: 123456789012345678901234567890n, rows: 10, hash: '7' });
    expect(() => bucketList('12:3', true, [])).toThrow(/not a bucket hash/);
  });
});
