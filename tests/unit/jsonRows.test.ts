import { describe, expect, it } from 'vitest';
import { JsonRowsBatcher, ROW_END } from '../../src/main/engine/dialects/jsonRows.js';

const rows = (n: number, from = 1) => Array.from({ length: n }, (_, i) => [from + i, `row ${from + i}`, i % 3 === 0 ? null : 'x\n"y"']);
const stream = (values: unknown[][]) => Buffer.from(values.map((r) => JSON.stringify(r) + ROW_END).join(''));

/** Feed `bytes` in pieces of `size`, as a socket would, and parse every array the batcher hands out. */
function batches(bytes: Buffer, size: number, minBytes: number): unknown[][][] {
  const batcher = new JsonRowsBatcher(minBytes);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(...batcher.push(bytes.subarray(at, at + size)));
  const last = batcher.finish();
  if (last) out.push(last);
  return out.map((b) => JSON.parse(b.toString('utf8')));
}

describe('json-rows batches', () => {
  it('are JSON arrays of whole rows, whatever the pieces the bytes arrive in, every row once and in order', () => {
    const all = rows(500);
    for (const size of [1, 7, 64, 1000, 1 << 20]) {
      for (const minBytes of [1, 100, 4096, 1 << 20]) {
        const got = batches(stream(all), size, minBytes);
        expect(got.flat(), `pieces of ${size}, batches of ${minBytes}`).toEqual(all);
        // Every batch but the last holds at least minBytes of rows.
        for (const b of got.slice(0, -1)) expect(stream(b).length + 1, `pieces of ${size}`).toBeGreaterThanOrEqual(Math.min(minBytes, size));
      }
    }
  });

  it('hold a row longer than a batch whole, and a stream without rows gives none', () => {
    const long = [[1, 'a'.repeat(10_000)], [2, 'b']];
    expect(batches(stream(long), 512, 100).flat()).toEqual(long);
    expect(batches(Buffer.alloc(0), 10, 10)).toEqual([]);
  });

  it('refuse a stream that ends inside a row', () => {
    const batcher = new JsonRowsBatcher(1 << 20);
    batcher.push(Buffer.from('[1, "a"],\n[2, "b"'));
    expect(() => batcher.finish()).toThrow(/ended inside a row/);
  });
});
