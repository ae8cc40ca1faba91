/**
 * PostgreSQL's COPY text as the interchange format 'tsv' (what MySQL's
 * LOAD DATA reads with FIELDS TERMINATED BY '\t' ESCAPED BY '\\'): tab
 * between fields, a newline after each row, \N for NULL, backslash escapes.
 * The two agree on every escape COPY TO writes (\\ \b \n \r \t) but two:
 * COPY writes form feed and vertical tab as \f and \v, which LOAD DATA would
 * read as the letters f and v. Those two are put back as their bytes, which
 * LOAD DATA takes as they are. Bytes only: no value is decoded.
 *
 * Values come out in the forms every 'tsv' reader takes: booleans as 1 and 0,
 * everything else as PostgreSQL prints it (DateStyle is ISO).
 */
import type { Column } from '../../types.js';

const BACKSLASH = 0x5c;
const REPLACE: Record<number, number> = { 0x66 /* f */: 0x0c, 0x76 /* v */: 0x0b };

/** The select-list expression for a column of `s` in 'tsv' form. */
export function tsvExpression(column: Column, quoted: string): string {
  return column.type.kind === 'boolean' ? `s.${quoted}::int` : `s.${quoted}`;
}

/** Rewrites COPY text chunks into 'tsv'. */
export class TsvTranscoder {
  /** The last chunk ended on a backslash, held back: its escape continues in this one. */
  private held = false;

  push(input: Buffer): Buffer {
    const chunk = this.held ? Buffer.concat([Buffer.of(BACKSLASH), input]) : input;
    this.held = false;
    let out: Buffer | undefined;
    let written = 0;
    let from = 0;
    let end = chunk.length;
    for (let at = chunk.indexOf(BACKSLASH); at >= 0; at = chunk.indexOf(BACKSLASH, at + 2)) {
      if (at === chunk.length - 1) {
        this.held = true;
        end = at;
        break;
      }
      const replacement = REPLACE[chunk[at + 1]];
      if (replacement === undefined) continue;
      out ??= Buffer.allocUnsafe(chunk.length);
      written += chunk.copy(out, written, from, at);
      out[written++] = replacement;
      from = at + 2;
    }
    if (!out) return end === chunk.length ? chunk : chunk.subarray(0, end);
    written += chunk.copy(out, written, from, end);
    return out.subarray(0, written);
  }

  /** The end of the COPY: nothing may be held back (COPY ends every row with a newline). */
  finish(): void {
    if (this.held) throw new Error('COPY text ended inside an escape');
  }
}
