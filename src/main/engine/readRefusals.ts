/**
 * Rows a reader could read but not faithfully: a SQLite TEXT value whose bytes
 * are not UTF-8 (a latin1 0x96 from an old application) arrives in JavaScript
 * with U+FFFD in place of the bytes, and would be stored changed. The reader
 * marks such a row with the reason; validation refuses it with that reason,
 * so it is dead-lettered like any value the target cannot hold.
 */
import type { Row } from './types.js';

const refusals = new WeakMap<Row, string>();

export function refuseRow(row: Row, reason: string): void {
  const earlier = refusals.get(row);
  refusals.set(row, earlier ? `${earlier}; ${reason}` : reason);
}

export function readRefusal(row: Row): string | undefined {
  return refusals.get(row);
}

/** Where the first byte that is not part of a UTF-8 sequence is: its offset and value, or undefined when all are. */
export function firstInvalidUtf8(bytes: Uint8Array): { offset: number; byte: number } | undefined {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return { offset: i, byte: b };
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return { offset: i, byte: b };
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((b === 0xe0 && bytes[i + 1] < 0xa0) || (b === 0xed && bytes[i + 1] > 0x9f) || (b === 0xf0 && bytes[i + 1] < 0x90) || (b === 0xf4 && bytes[i + 1] > 0x8f)) return { offset: i, byte: b };
    i += need + 1;
  }
  return undefined;
}
