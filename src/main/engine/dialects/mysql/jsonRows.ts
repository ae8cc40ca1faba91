/**
 * MySQL/MariaDB as a 'json-rows' source (../jsonRows.ts): the server builds
 * each row's JSON array itself (CONCAT and JSON_QUOTE), so a row reaches this
 * process as one string of bytes, which is copied on as it is.
 *
 * Each value goes as the row path stores it from mysql2: integers as numbers,
 * decimals, dates and DATETIMEs as strings of the server's text (a DATETIME's
 * fraction without its trailing zeros, as values.ts trimFraction), text as
 * JSON strings. SQLite's columns take any value, so the row path stores a
 * zero or impossible date as MySQL prints it, and so does this. A value the
 * row path cannot store (an unsigned BIGINT past SQLite's INTEGER, which JSON
 * would turn into a REAL) is not written: in its place goes a marker that
 * JSON text never holds raw (0x1E, the column's number, 0x1F, the value,
 * 0x1F), the reader stops on it with an error naming the column and the
 * value, and the chunk goes row by row, where it is dead-lettered.
 */
import type { Column } from '../../types.js';
import { FerryError } from '../../errors.js';
import { quoteBacktick } from '../base.js';

const MARK = 0x1e;
const END = 0x1f;
const mark = (byte: number) => `CHAR(${byte} USING ascii)`;

/** The largest value SQLite's INTEGER holds. */
const INT64_MAX = '9223372036854775807';

/** The marker in place of the value `x` of column number `index`. */
function refuse(index: number, x: string): string {
  return `CONCAT(${mark(MARK)}, '${index}', ${mark(END)}, ${x}, ${mark(END)})`;
}

/** One column's JSON text; `index` is its place in the row. */
export function jsonRowsExpression(column: Column, index: number): string {
  const x = quoteBacktick(column.name);
  const orNull = (json: string) => (column.nullable ? `COALESCE(${json}, 'null')` : json);
  /** x when `ok`, else refused. */
  const checked = (ok: string, json: string) => `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${ok} THEN ${json} ELSE ${refuse(index, x)} END`;
  const t = column.type;
  switch (t.kind) {
    case 'integer': {
      // YEAR and ZEROFILL print leading zeros ("0000", "00042"), which JSON numbers cannot have; + 0 prints the number.
      const number = /zerofill|^\s*year/i.test(column.nativeType) ? `(${x} + 0)` : x;
      if (t.unsigned && t.bytes === 8) return checked(`${x} <= ${INT64_MAX}`, `CONCAT(${number})`);
      return orNull(`CONCAT(${number})`);
    }
    case 'decimal':
    case 'date':
      // Digits, points, dashes: a JSON string as printed.
      return orNull(`CONCAT('"', ${x}, '"')`);
    case 'text':
      if (!t.fixed) return orNull(`JSON_QUOTE(${x})`);
      break;
    case 'timestamp': {
      // "…:00.500000" → "…:00.5", "…:00.000000" → "…:00": the fraction's trailing zeros, then a bare point, go.
      const text = t.precision === 0 ? x : `TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM ${x}))`;
      if (!t.withTimeZone) return orNull(`CONCAT('"', ${text}, '"')`);
      // TIMESTAMP, read as UTC (the session's zone is +00:00), with the offset the row path gives it (values.ts
      // decodeTimestamptz); the zero TIMESTAMP is not an instant and goes without one.
      return orNull(`CONCAT('"', ${text}, IF(${x} = 0, '', '+00:00'), '"')`);
    }
  }
  throw new FerryError('internal', `column "${column.name}": ${column.nativeType} is not read as json-rows`);
}

/** The select-list expression of a row's JSON text, "[" and its values; the reader closes it. */
export function jsonRowsOpen(columns: Column[]): string {
  return `CONCAT('[', ${columns.map((c, i) => jsonRowsExpression(c, i)).join(", ',', ")})`;
}

/** The refusal in `bytes`, if there is one: an error that names the column and its value. */
export function jsonRowsRefusal(bytes: Buffer, columns: Column[]): FerryError | undefined {
  const at = bytes.indexOf(MARK);
  if (at < 0) return undefined;
  const sep = bytes.indexOf(END, at);
  const end = bytes.indexOf(END, sep + 1);
  const column = columns[Number(bytes.toString('latin1', at + 1, sep))];
  const value = bytes.toString('utf8', sep + 1, end);
  return new FerryError('data', `column ${column?.name} holds ${JSON.stringify(value)}, which the pass-through does not carry`);
}
