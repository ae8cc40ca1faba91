/**
 * Row values as JSON that round-trips exactly: bigints and bytes are tagged,
 * so a dead-lettered row retried later is the row that was read.
 */
type Value = null | string | number | bigint | boolean | Uint8Array;

export function encodeValues(values: readonly Value[]): string {
  return JSON.stringify(values.map(encode));
}

export function decodeValues(json: string): Value[] {
  return (JSON.parse(json) as unknown[]).map(decode);
}

function encode(v: Value): unknown {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (v instanceof Uint8Array) return { $hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
  return v;
}

function decode(v: unknown): Value {
  if (v && typeof v === 'object') {
    const o = v as Record<string, string>;
    if ('$bigint' in o) return BigInt(o.$bigint);
    if ('$hex' in o) return Buffer.from(o.$hex, 'hex');
    if ('$number' in o) return Number(o.$number);
  }
  return v as Value;
}
