/**
 * PostgreSQL as a 'json-rows' source (../jsonRows.ts): the server builds each
 * row's JSON array itself, so the rows cost this process
 * nothing but their bytes, and the work runs on the server's core beside the
 * target's writing.
 *
 * Each value goes as the row path would read it from COPY text (DateStyle
 * ISO): integers as numbers, booleans as 1 and 0, the rest as the strings of
 * their text form. A value the row path's validation might refuse or read
 * another way (a numeric NaN or infinity, a date or timestamp that is infinite,
 * BC or past year 9999) is not written: the select fails on it with an error
 * naming the column, and the chunk goes row by row.
 *
 * The rows go out through COPY's CSV format with a delimiter and a quote
 * character that JSON text never holds raw (control characters are escaped
 * in JSON), so no field is quoted and no byte escaped: COPY's output is the
 * JSON, a newline after each row.
 */
import pg from 'pg';
import type { Column } from '../../types.js';
import { FerryError } from '../../errors.js';
import { ROW_END } from '../jsonRows.js';
import { quoteAnsi as q } from '../base.js';

/** COPY … TO STDOUT options that write each row's one field as it is. */
export const JSON_ROWS_COPY = "(FORMAT csv, DELIMITER E'\\x1e', QUOTE E'\\x1f')";

/** Fails the select on `x`, naming the column: a cast of a message to int cannot succeed (and is never folded: it reads x). */
function refuse(column: Column, x: string): string {
  const message = `dbferry: column ${column.name} holds `;
  return `((${pg.escapeLiteral(message)} || ${x}::text || ', which the pass-through does not carry')::int)::text`;
}

/** One column's JSON text, of `s`. */
export function jsonRowsExpression(column: Column): string {
  const x = `s.${q(column.name)}`;
  const orNull = (json: string) => (column.nullable ? `coalesce(${json}, 'null')` : json);
  // A JSON string of text that holds no quote, backslash or control character: numbers, dates and times as PostgreSQL prints them.
  const guarded = (ok: string) => `CASE WHEN ${x} IS NULL THEN 'null' WHEN ${ok} THEN '"' || ${x} || '"' ELSE ${refuse(column, x)} END`;
  switch (column.type.kind) {
    case 'integer':
      return orNull(`${x}::text`);
    case 'text':
      return orNull(`to_json(${x})::text`);
    case 'boolean':
      return `CASE WHEN ${x} THEN '1' WHEN NOT ${x} THEN '0' ELSE 'null' END`;
    case 'decimal':
      // NaN - NaN and Infinity - Infinity are NaN: only a finite value gives 0.
      return guarded(`${x} - ${x} = 0`);
    case 'date':
      return guarded(`${x} BETWEEN '0001-01-01' AND '9999-12-31'`);
    case 'timestamp':
      if (!column.type.withTimeZone) return guarded(`${x} >= '0001-01-01' AND ${x} < '10000-01-01'`);
      break;
  }
  throw new FerryError('internal', `column "${column.name}": ${column.type.kind} is not read as json-rows`);
}

/**
 * The select list of a row's JSON line: its values, then dbferry's counters
 * where there are any. Built with concat() rather than json_build_array(),
 * whose per-argument type dispatch made the server 20% slower (1M rows:
 * 1.73 s against 1.40 s), and the server's side is the slower one here.
 */
export function jsonRowsLine(columns: Column[], counters: string[]): string {
  const values = [...columns.map(jsonRowsExpression), ...counters];
  return `concat('[', ${values.join(", ',', ")}, ${pg.escapeLiteral(']' + ROW_END.slice(0, -1))})`;
}
