/**
 * 'json-rows', the pass-through format into SQLite (dialect.ts: rawReads and
 * rawWrites): each row a JSON array of its values followed by ",\n", so that
 * any run of whole rows, its last ",\n" cut and put between [ and ], is one
 * JSON array of rows. SQLite has no bulk load of its own, but it parses JSON
 * in C: `INSERT … SELECT value->>0, … FROM jsonb_each(jsonb(?))` stores a
 * batch of rows with no value ever becoming a JavaScript object (1M rows of
 * the bench's `orders` in 1.2 s, against 1.6 s bound one by one from
 * JavaScript and 1.5 s for `sqlite3 .import`).
 *
 * Integers and booleans (1 and 0) are JSON numbers, which SQLite reads as
 * INTEGER; every other value is a JSON string of its text form, which SQLite
 * reads as TEXT; NULL is null. Those are the values and storage classes the
 * row path binds, and the target column's affinity then treats both alike.
 * The columns are those 'tsv' carries (tsv.ts): their text forms are the row
 * path's values. A source writes a value outside them (a date of 'infinity',
 * a numeric NaN) as an error, which stops the read: the chunk then goes row
 * by row, where validation decides.
 */
import { tsvCarries, tsvPair } from './tsv.js';

export const JSON_ROWS = 'json-rows';

/** The bytes that end each row. */
export const ROW_END = ',\n';

export const jsonRowsCarries = tsvCarries;
export const jsonRowsPair = tsvPair;

const NEWLINE = 0x0a;
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/**
 * Cuts a stream of 'json-rows' bytes into JSON arrays of whole rows, each of
 * at least `minBytes` (but the last): what one INSERT takes.
 */
export class JsonRowsBatcher {
  private pieces: Uint8Array[] = [];
  private held = 0;

  constructor(private readonly minBytes: number) {}

  /** The arrays complete with this chunk. */
  push(chunk: Uint8Array): Buffer[] {
    this.pieces.push(chunk);
    this.held += chunk.byteLength;
    if (this.held < this.minBytes) return [];
    const end = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).lastIndexOf(NEWLINE);
    // No row ends in this chunk: a row longer than a batch; wait for its end.
    if (end < 0) return [];
    const rest = chunk.subarray(end + 1);
    this.pieces[this.pieces.length - 1] = chunk.subarray(0, end + 1);
    const out = this.array();
    this.pieces = rest.byteLength ? [rest] : [];
    this.held = rest.byteLength;
    return [out];
  }

  /** What is left: whole rows, or an error when the stream stopped inside one. */
  finish(): Buffer | undefined {
    if (this.held === 0) return undefined;
    const last = this.pieces[this.pieces.length - 1];
    if (last[last.byteLength - 1] !== NEWLINE) throw new Error('the json-rows stream ended inside a row');
    return this.array();
  }

  /** The held rows as one JSON array: their last ",\n" becomes "]". */
  private array(): Buffer {
    const all = Buffer.concat([OPEN, ...this.pieces, CLOSE]);
    // "…],\n]" → "…]\n ]": the comma after the last row goes, JSON allows the whitespace.
    all[all.length - 3] = 0x20;
    return all;
  }
}
