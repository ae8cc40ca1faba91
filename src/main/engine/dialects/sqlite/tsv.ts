/**
 * SQLite as a 'tsv' source (../tsv.ts): each row's line is built by SQLite
 * itself, one string per row, so no value becomes a JavaScript object.
 *
 * SQLite's columns hold whatever was put in them, whatever their declared
 * type. A value goes out as text only where its text is the one the row path
 * would send (values.ts readers, then validation) and every target parses it
 * alike: an INTEGER as its digits, TEXT escaped, a REAL in a decimal column
 * when SQLite prints it in at most 15 digits (then it is the shortest form
 * JavaScript prints too) within the column's scale, a timestamp or date only
 * in the strict 'YYYY-MM-DD HH:MM:SS' form, a boolean only as 0 or 1. Any
 * other value (a REAL in an integer column, '24:00:00', text in a decimal
 * column that is not plain digits) makes the read fail through REFUSE, and
 * the chunk is staged row by row instead, where validation decides.
 */
import type Database from 'better-sqlite3';
import { FerryError } from '../../errors.js';
import type { Column, LogicalType } from '../../types.js';
import { tsvCarries } from '../tsv.js';

/** The SQL function a line calls on a value it cannot carry; it throws. */
export const REFUSE = 'dbferry_tsv_refuse';

/** Register REFUSE on a connection (once). */
export function registerRefuse(db: Database.Database): void {
  db.function(REFUSE, { deterministic: true, varargs: false }, (column: unknown, storage: unknown) => {
    const kind = String(storage);
    throw new FerryError('data', `column ${JSON.stringify(String(column))} holds ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} value the pass-through cannot carry exactly`);
  });
}

/** Columns of these kinds can be read as 'tsv' (the same set every engine's 'tsv' carries). */
export function sqliteTsvReadable(c: Column): boolean {
  return tsvCarries(c);
}

const NULL_TEXT = "'\\N'";

/** SQL string literal. */
function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The value, refused: the read stops with an error naming the column. */
function refuse(name: string, x: string): string {
  return `${REFUSE}(${lit(name)}, typeof(${x}))`;
}

/** Backslash, tab, newline and carriage return escaped; instr() first, as most text has none (measured cheaper than a GLOB or the replace()s alone). */
function escaped(x: string): string {
  const replaced = `replace(replace(replace(replace(${x}, '\\', '\\\\'), char(9), '\\t'), char(10), '\\n'), char(13), '\\r')`;
  return `CASE WHEN instr(${x}, char(9)) OR instr(${x}, char(10)) OR instr(${x}, char(13)) OR instr(${x}, '\\') THEN ${replaced} ELSE ${x} END`;
}

/**
 * Text without a NUL character. SQLite's string functions (and GLOB) stop at
 * one, so a line built from such text would lose what follows it: refused
 * (measured in bytes, where instr() sees the whole value).
 */
function noNul(x: string): string {
  return `instr(CAST(${x} AS BLOB), x'00') = 0`;
}

/** Plain decimal text (digits, one optional leading minus, a point) with at most `scale` digits after the point. */
function plainDecimal(t: string, scale: number | undefined): string {
  const plain = `${t} NOT GLOB '*[^-0-9.]*' AND ${t} GLOB '*[0-9]*' AND ${t} NOT GLOB '?*-*' AND ${noNul(t)}`;
  return scale === undefined ? plain : `${plain} AND (instr(${t}, '.') = 0 OR length(${t}) - instr(${t}, '.') <= ${scale})`;
}

/**
 * A REAL in a decimal column as JavaScript prints it (String(x), what the row
 * path sends). When x is the double nearest a decimal of at most 15
 * significant digits, printf's 15-digit form is that decimal (no other
 * 15-digit decimal rounds to the same double), which is also JavaScript's
 * shortest form. With a scale of at most 4 that is checked by round(); %g
 * prints no exponent there (|x| >= 0.0001). Otherwise the 15 digits must read
 * back as x and show no exponent. tests/unit/sqliteTsv.test.ts compares both
 * with String(x) over random values.
 */
function decimalFromReal(name: string, x: string, scale: number | undefined, bounded: (check: string) => string = (c) => c): string {
  const p = `printf('%.15g', ${x})`;
  if (scale !== undefined && scale <= 4) return `CASE WHEN ${bounded(`round(${x}, ${scale}) = ${x} AND abs(${x}) < 1e${15 - scale}`)} THEN ${p} ELSE ${refuse(name, x)} END`;
  const scaled = scale === undefined ? '' : ` AND (instr(${p}, '.') = 0 OR length(${p}) - instr(${p}, '.') <= ${scale})`;
  return `CASE WHEN ${bounded(`CAST(${p} AS REAL) = ${x} AND ${p} NOT GLOB '*[^-0-9.]*'${scaled}`)} THEN ${p} ELSE ${refuse(name, x)} END`;
}

const D = '[0-9]';
const DATE_GLOB = `${D}${D}${D}${D}-[01]${D}-[0-3]${D}`;
const TIME_GLOB = `[012]${D}:[0-5]${D}:[0-5]${D}`;

/**
 * Month 01–12 and day 01–31 (MariaDB takes month or day 00), hour 00–23
 * (PostgreSQL reads 24:00:00 as the next day): what the GLOB lets by, refused.
 */
function calendar(x: string, time: boolean): string {
  const no = ['?????00*', '?????1[3-9]*', '????????00*', '????????3[2-9]*', ...(time ? ['???????????2[4-9]*'] : [])];
  return no.map((g) => `${x} NOT GLOB '${g}'`).join(' AND ');
}

/**
 * One column's field: of the 'tsv' line, or (`into`, SQLite into SQLite) the
 * value itself, NULL as NULL and text unescaped. A SQLite target checks
 * nothing, so there the checks validation makes against the target column
 * are made here too: integer range, text length, digits of a decimal.
 */
function field(c: Column, x: string, into?: Column): string {
  const t: LogicalType = c.type;
  const name = c.name;
  const nullText = into ? 'NULL' : NULL_TEXT;
  const nul = `WHEN 'null' THEN ${nullText}`;
  const isNull = `WHEN ${x} IS NULL THEN ${nullText}`;
  const no = refuse(name, x);
  switch (t.kind) {
    case 'integer': {
      const range = into?.type.kind === 'integer' ? integerRange(x, into.type) : '';
      return range ? `CASE WHEN typeof(${x}) = 'integer' AND ${range} THEN ${x} ${isNull} ELSE ${no} END` : `CASE typeof(${x}) WHEN 'integer' THEN ${x} ${nul} ELSE ${no} END`;
    }
    case 'boolean':
      return `CASE WHEN typeof(${x}) = 'integer' AND ${x} IN (0, 1) THEN ${x} ${isNull} ELSE ${no} END`;
    case 'text': {
      const max = into?.type.kind === 'text' ? into.type.maxLength : undefined;
      const value = into ? x : escaped(x);
      if (max === undefined) return `CASE typeof(${x}) WHEN 'text' THEN (CASE WHEN ${noNul(x)} THEN ${value} ELSE ${no} END) ${nul} WHEN 'integer' THEN ${x} ELSE ${no} END`;
      return `CASE WHEN typeof(${x}) IN ('text', 'integer') AND length(${x}) <= ${max} AND ${noNul(x)} THEN ${value} ${isNull} ELSE ${no} END`;
    }
    case 'decimal': {
      const d = into?.type.kind === 'decimal' ? into.type : t;
      const scale = d.precision === undefined && d.scale === undefined ? undefined : (d.scale ?? 0);
      const whole = d.precision === undefined ? undefined : d.precision - (d.scale ?? 0);
      const bounded = (check: string) => (into && whole !== undefined ? `${check} AND ${x} > -1e${whole} AND ${x} < 1e${whole}` : check);
      const textDigits = into && whole !== undefined ? ` AND (CASE WHEN instr(${x}, '.') > 0 THEN instr(${x}, '.') - 1 ELSE length(${x}) END) - (${x} GLOB '-*') <= ${whole}` : '';
      return (
        `CASE typeof(${x}) WHEN 'integer' THEN ${into && whole !== undefined ? `(CASE WHEN ${bounded('1')} THEN ${x} ELSE ${no} END)` : x}` +
        ` WHEN 'real' THEN ${decimalFromReal(name, x, scale, bounded)}` +
        ` WHEN 'text' THEN (CASE WHEN ${plainDecimal(x, scale)}${textDigits} THEN ${x} ELSE ${no} END) ${nul} ELSE ${no} END`
      );
    }
    case 'date':
      return `CASE WHEN typeof(${x}) = 'text' AND ${x} GLOB '${DATE_GLOB}' AND ${calendar(x, false)} AND ${noNul(x)} THEN ${x} ${isNull} ELSE ${no} END`;
    case 'timestamp':
      return `CASE WHEN typeof(${x}) = 'text' AND ${x} GLOB '${DATE_GLOB} ${TIME_GLOB}' AND ${calendar(x, true)} AND ${noNul(x)} THEN ${x} ${isNull} ELSE ${no} END`;
    default:
      throw new FerryError('internal', `column "${name}": ${t.kind} is not read as text pass-through`);
  }
}

/** An integer column's range, as validation checks it (dbferry's own bounds: integer literals). */
function integerRange(x: string, t: { bytes: 1 | 2 | 3 | 4 | 8; unsigned?: boolean }): string {
  if (t.bytes === 8 && !t.unsigned) return '';
  const bits = BigInt(t.bytes * 8);
  const [min, max] = t.unsigned ? [0n, 2n ** bits - 1n] : [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n];
  // An unsigned 64-bit maximum is past SQLite's INTEGER: every INTEGER fits then.
  return t.unsigned && t.bytes === 8 ? `${x} >= 0` : `${x} BETWEEN ${min} AND ${max}`;
}

/** The expression of a row's 'tsv' line (no trailing newline): fields joined by tabs. */
export function tsvLine(columns: Column[], quote: (n: string) => string): string {
  return columns.map((c) => field(c, quote(c.name))).join(' || char(9) || ');
}

/** The values of a row for a SQLite target's columns `into` (same order), each as the row path would write it, or refused. */
export function valueList(columns: Column[], into: Column[], quote: (n: string) => string): string {
  return columns.map((c, i) => field(c, quote(c.name), into[i])).join(', ');
}
