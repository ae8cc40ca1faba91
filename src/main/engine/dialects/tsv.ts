/**
 * 'tsv', the text pass-through format (dialect.ts: rawReads/rawWrites): a tab
 * between fields, a newline after each row, \N for NULL, backslash escapes
 * \\ \t \n \r \0 (and \b), every other byte as it is; each value in its text
 * form. PostgreSQL's COPY text and MySQL's LOAD DATA (ESCAPED BY '\\') both
 * read it, PostgreSQL's COPY text output is it once \f and \v are put back
 * (postgres/tsv.ts), MySQL's text protocol values become it by escaping.
 *
 * Only kinds whose text form every engine here prints and parses alike go
 * this way; anything else (floats, binary, JSON, time zones, zero dates) is
 * decoded and validated row by row.
 */
import type { Column } from '../types.js';
import { escapeTable } from './escapeBytes.js';

export const TSV = 'tsv';

/** A column whose values travel as 'tsv' text and mean the same to every engine. */
export function tsvCarries(c: Column): boolean {
  switch (c.type.kind) {
    case 'integer':
    case 'decimal':
    case 'boolean':
    case 'date':
      return true;
    case 'text':
      return !c.type.fixed;
    case 'timestamp':
      return !c.type.withTimeZone;
    default:
      return false;
  }
}

/** A timestamp with time zone, which a source that reads it as UTC text (MySQL's TIMESTAMP) may pass on: see tsvPair. */
export function isTimestamptz(c: Column): boolean {
  return c.type.kind === 'timestamp' && c.type.withTimeZone;
}

/**
 * A source column's 'tsv' text goes into this target column as it is (booleans print as 1 and 0).
 * A timestamp with time zone goes into one too, as UTC text without an offset, which every target
 * here reads as UTC (PostgreSQL's sessions run in UTC, dbferry keeps them in MySQL as UTC
 * DATETIMEs); only a source whose rawReadable says so writes it (MySQL's TIMESTAMP).
 */
export function tsvPair(source: Column, target: Column): boolean {
  if (isTimestamptz(source) && isTimestamptz(target)) return true;
  if (!tsvCarries(source) || !tsvCarries(target)) return false;
  return source.type.kind === target.type.kind || (source.type.kind === 'boolean' && target.type.kind === 'integer');
}

const BACKSLASH = 0x5c;
/** The bytes 'tsv' escapes, and the letter after the backslash: what LOAD DATA's ESCAPED BY '\\' needs. */
export const TSV_ESCAPES = escapeTable({ '\\': '\\', '\t': 't', '\n': 'n', '\r': 'r', '\0': '0' });

const CAPACITY = 512 * 1024;

/** 'tsv' bytes written into a growing buffer, handed out in pieces. */
export class TsvWriter {
  private buf = Buffer.allocUnsafe(CAPACITY);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  /** ASCII text as it is (dbferry's own counters and separators). */
  text(s: string): void {
    this.room(s.length);
    this.at += this.buf.write(s, this.at, 'latin1');
  }

  /** Bytes as they are (a 'json-rows' line the server built). */
  bytes(v: Uint8Array): void {
    this.room(v.length);
    this.buf.set(v, this.at);
    this.at += v.length;
  }

  /** A value's bytes, escaped; null is \N. */
  value(v: Uint8Array | null): void {
    if (v === null) {
      this.room(2);
      this.buf[this.at++] = BACKSLASH;
      this.buf[this.at++] = 0x4e;
    } else this.valueAt(v, 0, v.length);
  }

  /** The value in bytes [start, end) of `src`, escaped: read in place (a driver's packet), no copy of it made first. */
  valueAt(src: Uint8Array, start: number, end: number): void {
    const buf = (this.room((end - start) * 2), this.buf);
    let at = this.at;
    for (let i = start; i < end; i++) {
      const b = src[i];
      const e = TSV_ESCAPES[b];
      if (e === 0) buf[at++] = b;
      else {
        buf[at++] = BACKSLASH;
        buf[at++] = e;
      }
    }
    this.at = at;
  }

  /** What is written, once it holds at least `min` bytes (and anything at all). */
  take(min: number): Buffer | undefined {
    if (this.at === 0 || this.at < min) return undefined;
    const out = this.buf.subarray(0, this.at);
    this.buf = Buffer.allocUnsafe(CAPACITY);
    this.at = 0;
    return out;
  }
}
