/**
 * PostgreSQL's COPY text format, both ways. In that format a raw tab only
 * separates fields and a raw newline only ends rows (data tabs and newlines
 * are escaped), and UTF-8 never uses those bytes inside a character, so rows
 * can be cut on bytes before decoding.
 */
import { FerryError } from '../../errors.js';
import { escapeBytes, escapeTable } from '../escapeBytes.js';
import type { Row } from '../../types.js';
import type { Decoder } from './types.js';

const NL = 0x0a;
const TAB = 0x09;
/** A chunk of COPY output this big holds big values: parsed field by field from the bytes. */
const BIG_LINES = 4 << 20;

/** Turns COPY TO STDOUT chunks (any boundaries) into rows of canonical values. */
export class CopyTextParser {
  /** Bytes of a row not yet complete: pieces, joined once its newline arrives (a 10 MB value comes in ~64 KB chunks). */
  private rest: Buffer[] = [];

  /**
   * `binary[i]`: column i is bytea, whose hex text has only its leading "\\" escaped.
   * `shapes[i]`: SHAPE_INT / SHAPE_BOOL columns are decoded in place (the hot path).
   */
  constructor(
    private readonly decoders: Decoder[],
    private readonly binary: boolean[],
    private readonly shapes: number[] = [],
  ) {}

  /** Parse every complete row in `chunk`, keeping a partial last row for later. */
  push(chunk: Buffer, out: Row[]): void {
    const last = chunk.lastIndexOf(NL);
    if (last < 0) {
      this.rest.push(chunk);
      return;
    }
    const buf = this.rest.length ? Buffer.concat([...this.rest, chunk]) : chunk;
    const end = buf.length - (chunk.length - last - 1);
    this.rest = end < buf.length ? [Buffer.from(buf.subarray(end))] : [];
    if (end > BIG_LINES) this.parseBigLines(buf.subarray(0, end), out);
    else this.parseLines(buf.toString('utf8', 0, end), out);
  }

  /**
   * Lines of big values: fields are cut from the bytes (a tab or newline byte is
   * never part of a multi-byte character) and each decoded once, unescaped as
   * bytes. As one string, a 20 MB value would be held three times over.
   */
  private parseBigLines(buf: Buffer, out: Row[]): void {
    const { decoders, binary } = this;
    const n = decoders.length;
    let pos = 0;
    while (pos < buf.length) {
      const row: Row = new Array(n);
      for (let i = 0; i < n; i++) {
        const stop = buf.indexOf(i === n - 1 ? NL : TAB, pos);
        if (stop < 0) throw new FerryError('internal', `COPY output row has fewer than ${n} fields`);
        const field = buf.subarray(pos, stop);
        if (field.length === 2 && field[0] === BACKSLASH && field[1] === 78 /* N */) row[i] = null;
        else if (!field.includes(BACKSLASH)) row[i] = decoders[i](field.toString('utf8'));
        else if (binary[i] && field[0] === BACKSLASH && field[1] === BACKSLASH && field[2] === 120 /* x */) row[i] = decoders[i](field.toString('latin1', 1));
        else row[i] = decoders[i](unescapeCopyBytes(field));
        pos = stop + 1;
      }
      out.push(row);
    }
  }

  /** Call at end of stream: a partial row left over means the stream was cut. */
  finish(): void {
    if (this.rest.some((b) => b.length > 0)) {
      throw new FerryError('internal', 'COPY output ended in the middle of a row');
    }
  }

  private parseLines(text: string, out: Row[]): void {
    const { decoders, binary, shapes } = this;
    const n = decoders.length;
    let pos = 0;
    const end = text.length;
    if (n === 0) {
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) out.push([]);
      return;
    }
    while (pos < end) {
      const row: Row = new Array(n);
      for (let i = 0; i < n; i++) {
        const stop = i === n - 1 ? text.indexOf('\n', pos) : text.indexOf('\t', pos);
        if (stop < 0) throw new FerryError('internal', `COPY output row has fewer than ${n} fields`);
        const len = stop - pos;
        const first = text.charCodeAt(pos);
        if (first === BACKSLASH && len === 2 && text.charCodeAt(pos + 1) === 78 /* N */) row[i] = null;
        else if (shapes[i] === SHAPE_INT && len < 16) row[i] = parseSmallInt(text, pos, stop);
        else if (shapes[i] === SHAPE_BOOL && len === 1) row[i] = first === 116; /* t */
        else {
          const field = text.slice(pos, stop);
          if (field.indexOf('\\') < 0) row[i] = decoders[i](field);
          else if (binary[i] && field.startsWith('\\\\x')) row[i] = decoders[i](field.slice(1));
          else row[i] = decoders[i](unescapeCopyText(field));
        }
        pos = stop + 1;
      }
      out.push(row);
    }
  }
}

const BACKSLASH = 92;
/** Column shapes the parser decodes in place, without cutting a string out first. */
export const SHAPE_OTHER = 0;
export const SHAPE_INT = 1;
export const SHAPE_BOOL = 2;

/** An integer of at most 15 characters ("-" and digits, as PostgreSQL prints it): always a safe integer. */
function parseSmallInt(text: string, start: number, stop: number): number {
  let i = start;
  const negative = text.charCodeAt(i) === 45;
  if (negative) i++;
  let v = 0;
  for (; i < stop; i++) v = v * 10 + (text.charCodeAt(i) - 48);
  return negative ? -v : v;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\',
};

/** Undo COPY text escapes: \b \f \n \r \t \v \\, \ooo octal and \xhh hex bytes. */
export function unescapeCopyText(field: string): string {
  if (/\\(?:[0-7]|x[0-9a-fA-F])/.test(field)) return unescapeBytes(field);
  return field.replace(/\\(.)/gs, (_, c: string) => SIMPLE_ESCAPES[c] ?? c);
}

/** Octal and hex escapes stand for bytes of the (UTF-8) encoding, so decode at byte level. */
function unescapeBytes(field: string): string {
  return unescapeCopyBytes(Buffer.from(field, 'utf8'));
}

/** unescapeCopyText on the field's UTF-8 bytes, decoded once at the end. */
function unescapeCopyBytes(src: Buffer): string {
  const out = Buffer.alloc(src.length);
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c !== 0x5c || i + 1 >= src.length) {
      out[o++] = c;
      continue;
    }
    const d = String.fromCharCode(src[++i]);
    if (d >= '0' && d <= '7') {
      let v = 0;
      let k = 0;
      for (; k < 3 && i < src.length && src[i] >= 0x30 && src[i] <= 0x37; k++, i++) v = v * 8 + (src[i] - 0x30);
      i--;
      out[o++] = v & 0xff;
    } else if (d === 'x' && /[0-9a-fA-F]/.test(String.fromCharCode(src[i + 1] ?? 0))) {
      let v = 0;
      let k = 0;
      for (i++; k < 2 && i < src.length && /[0-9a-fA-F]/.test(String.fromCharCode(src[i])); k++, i++) {
        v = v * 16 + parseInt(String.fromCharCode(src[i]), 16);
      }
      i--;
      out[o++] = v;
    } else {
      out[o++] = (SIMPLE_ESCAPES[d] ?? d).charCodeAt(0);
    }
  }
  return out.toString('utf8', 0, o);
}

const NEEDS_ESCAPE = /[\\\t\n\r\0]/;

/**
 * One field in COPY text format. `text` is already in PostgreSQL input syntax
 * (types.ts toPgText); null means NULL. NUL cannot be stored in PostgreSQL text.
 */
export function escapeCopyField(text: string | null, column: string): string {
  if (text === null) return '\\N';
  if (!NEEDS_ESCAPE.test(text)) return text;
  if (text.includes('\0')) throw nulError(column);
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

const COPY_BYTE_ESCAPES = escapeTable({ '\\': '\\', '\t': 't', '\n': 'n', '\r': 'r' });

/** escapeCopyField for a big value as UTF-8 bytes (escapeBytes.ts). */
export function escapeCopyBytes(bytes: Buffer, column: string): Buffer {
  if (bytes.includes(0)) throw nulError(column);
  return escapeBytes(bytes, COPY_BYTE_ESCAPES);
}

function nulError(column: string): FerryError {
  return new FerryError('data', `column "${column}" has a value with a NUL character (\\0), which PostgreSQL cannot store in text`, {
    hint: 'strip NUL characters at the source, or map the column to a binary type (bytea)',
  });
}
