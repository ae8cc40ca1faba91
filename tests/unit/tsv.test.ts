import { describe, expect, it } from 'vitest';
import { TsvTranscoder } from '../../src/main/engine/dialects/postgres/tsv.js';

/** COPY text of two rows: every escape COPY TO writes, and an escaped backslash before an f. */
const COPY_TEXT = Buffer.from('1\ta\\fb\\vc\\\\f\\N\\t\\n\\r\\b\\\\\n2\t\\N\t\\\\v\\f\n', 'latin1');
const TSV = Buffer.from('1\ta\fb\u000bc\\\\f\\N\\t\\n\\r\\b\\\\\n2\t\\N\t\\\\v\f\n', 'latin1');

describe('COPY text as tsv', () => {
  it('puts \\f and \\v back as their bytes and leaves every other escape as it is', () => {
    const t = new TsvTranscoder();
    expect(t.push(COPY_TEXT).toString('latin1')).toBe(TSV.toString('latin1'));
    t.finish();
  });

  it('gives the same bytes however COPY splits its output into chunks', () => {
    for (let a = 0; a <= COPY_TEXT.length; a++) {
      for (let b = a; b <= COPY_TEXT.length; b++) {
        const t = new TsvTranscoder();
        const out = Buffer.concat([COPY_TEXT.subarray(0, a), COPY_TEXT.subarray(a, b), COPY_TEXT.subarray(b)].map((c) => t.push(c)));
        t.finish();
        expect(out.toString('latin1'), `split at ${a}, ${b}`).toBe(TSV.toString('latin1'));
      }
    }
  });

  it('returns a chunk without escapes to rewrite as it is (no copy)', () => {
    const chunk = Buffer.from('1\tplain\\ttext\n');
    expect(new TsvTranscoder().push(chunk)).toBe(chunk);
  });
});
