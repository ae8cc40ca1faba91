/**
 * Backslash escaping of big values as UTF-8 bytes, for the bulk-load text
 * formats (PostgreSQL COPY text, MySQL LOAD DATA). A value of tens of MB is
 * escaped outside the JavaScript heap, where as a string it would be copied
 * whole twice more (escaped, then joined into its line). No byte of a
 * multi-byte UTF-8 character is below 0x80, so escaping bytes is exact.
 */

/** For each byte, the letter written after a backslash in its place, or 0 when it goes as is. */
export function escapeTable(pairs: Record<string, string>): Uint8Array {
  const table = new Uint8Array(256);
  for (const [from, to] of Object.entries(pairs)) table[from.charCodeAt(0)] = to.charCodeAt(0);
  return table;
}

export function escapeBytes(bytes: Buffer, table: Uint8Array): Buffer {
  let extra = 0;
  for (let i = 0; i < bytes.length; i++) if (table[bytes[i]]) extra++;
  if (!extra) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + extra);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const escaped = table[b];
    if (escaped) {
      out[o++] = 0x5c;
      out[o++] = escaped;
    } else out[o++] = b;
  }
  return out;
}

/** `bytes` in slices of `size` (views, not copies). */
export function* slices(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
