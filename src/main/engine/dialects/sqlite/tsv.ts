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
 * in the strict 'YYYY-MM-DD HH:MM:SS' form of a real day, a boolean only as 0
 * or 1. Any other value (a REAL in an integer column, '24:00:00', text in a
 * decimal column that is not plain digits) makes the read fail, and the chunk
 * is staged row by row instead, where validation decides: through REFUSE in
 * the line itself, or (checkList) found by a query beside an unchecked read.
 */
import type Database from 'better-sqlite3';
import { FerryError } from '../../errors.js';
import { firstInvalidUtf8 } from '../../readRefusals.js';
import type { Column, LogicalType } from '../../types.js';
import { tsvCarries } from '../tsv.js';

/** The SQL function a line calls on a value it cannot carry; it throws. */
export const REFUSE = 'dbferry_tsv_refuse';

/** Register REFUSE on a connection (once). */
export function registerRefuse(db: Database.Database): void {
  db.function(REFUSE, { deterministic: true, varargs: false }, (column: unknown, storage: unknown) => {
    throw refusal(String(column), String(storage));
  });
  registerUtf8Check(db);
}

const UTF8_PROBLEM = 'dbferry_utf8_problem';
const withUtf8Check = new WeakSet<Database.Database>();

/**
 * NULL, or what is wrong with a TEXT value's bytes as UTF-8 (SQLite stores
 * whatever bytes an application gave it; read into JavaScript, bytes that are
 * not UTF-8 become U+FFFD). Printable ASCII is not even asked (a GLOB in C);
 * length() cannot tell, as it counts a stray byte as a character.
 */
export function utf8Problem(x: string): string {
  return `CASE WHEN typeof(${x}) <> 'text' OR ${x} NOT GLOB '*[^ -~]*' THEN NULL ELSE ${UTF8_PROBLEM}(CAST(${x} AS BLOB)) END`;
}

export function registerUtf8Check(db: Database.Database): void {
  if (withUtf8Check.has(db)) return;
  db.function(UTF8_PROBLEM, { deterministic: true }, (bytes: unknown) => {
    if (!(bytes instanceof Uint8Array)) return null;
    const bad = firstInvalidUtf8(bytes);
    if (!bad) return null;
    const around = Buffer.from(bytes.subarray(Math.max(0, bad.offset - 8), bad.offset + 8)).toString('hex');
    return (
      `the TEXT value is not valid UTF-8: byte 0x${bad.byte.toString(16).padStart(2, '0')} at offset ${bad.offset} (bytes around it: ${around}); ` +
      'it was written in another encoding (latin1?), and the target would store it changed'
    );
  });
  withUtf8Check.add(db);
}

/** Columns of these kinds can be read as 'tsv' (the same set every engine's 'tsv' carries). */
export function sqliteTsvReadable(c: Column): boolean {
  // Text decoded from another encoding is decoded in the row path (read.ts).
  return tsvCarries(c) && !c.encoding;
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

/** A REAL's text as the row path sends it (String(x)), where realCarried holds. */
const realText = (x: string) => `printf('%.15g', ${x})`;

/**
 * A REAL in a decimal column goes where its 15-digit text is what JavaScript
 * prints (String(x), what the row path sends). When x is the double nearest
 * a decimal of at most 15 significant digits, printf's 15-digit form is that
 * decimal (no other 15-digit decimal rounds to the same double), which is
 * also JavaScript's shortest form. With a scale s of at most 4 that is: x is
 * the double nearest k / 10^s for the integer k nearest x * 10^s, and k /
 * 10^s is exactly that double, as IEEE division rounds correctly (k and 10^s
 * are exact below 2^53). SQLite's round() to places would print and parse
 * x instead (measured: the check of 1M prices 246 → 125 ms). %g prints no
 * exponent there (|x| >= 0.0001). Otherwise the 15 digits must read back as
 * x and show no exponent.
 * tests/unit/sqliteTsv.test.ts compares both with String(x) over random values.
 */
function realCarried(x: string, scale: number | undefined): string {
  if (scale !== undefined && scale <= 4) {
    const unit = `${10 ** scale}.0`;
    return `abs(${x}) < 1e${15 - scale} AND round(${x} * ${unit}) / ${unit} = ${x}`;
  }
  const p = realText(x);
  const scaled = scale === undefined ? '' : ` AND (instr(${p}, '.') = 0 OR length(${p}) - instr(${p}, '.') <= ${scale})`;
  return `CAST(${p} AS REAL) = ${x} AND ${p} NOT GLOB '*[^-0-9.]*'${scaled}`;
}

/**
 * A date or timestamp only in the strict form 'YYYY-MM-DD[ HH:MM:SS]' of a
 * real day: SQLite's date() and datetime() give the value back unchanged
 * only then (they move '2024-02-30' to March and drop what is not the form;
 * measured at half the cost of GLOBs), from year 0001 (the row path refuses
 * year 0), and hour 00–23 (datetime() keeps 24:00:00, which PostgreSQL reads
 * as the next day).
 */
function temporalCarried(x: string, time: boolean): string {
  // GLOB, not a comparison with '0001': a column of NUMERIC affinity would compare with the number 1.
  if (!time) return `typeof(${x}) = 'text' AND date(${x}) = ${x} AND ${x} NOT GLOB '0000*'`;
  return `typeof(${x}) = 'text' AND datetime(${x}) = ${x} AND ${x} NOT GLOB '0000*' AND ${x} NOT GLOB '???????????2[4-9]*'`;
}

/**
 * 1 where the column's value goes as value() writes it (NULL included), else
 * 0; never NULL. A SQLite target (`into`) checks nothing, so there the checks
 * validation makes against the target column are made here too: integer
 * range, text length, digits of a decimal.
 */
function carried(c: Column, x: string, into?: Column): string {
  const t: LogicalType = c.type;
  let ok: string;
  switch (t.kind) {
    case 'integer': {
      const range = into?.type.kind === 'integer' ? integerRange(x, into.type) : '';
      ok = `typeof(${x}) = 'integer'${range ? ` AND ${range}` : ''}`;
      break;
    }
    case 'boolean':
      ok = `typeof(${x}) = 'integer' AND ${x} IN (0, 1)`;
      break;
    case 'text': {
      const max = into?.type.kind === 'text' ? into.type.maxLength : undefined;
      ok = max === undefined ? `typeof(${x}) = 'integer' OR (typeof(${x}) = 'text' AND ${noNul(x)})` : `typeof(${x}) IN ('text', 'integer') AND length(${x}) <= ${max} AND ${noNul(x)}`;
      // Into another engine, text must be UTF-8 (into SQLite its bytes are copied as they are).
      if (!into) ok = `(${ok}) AND ${utf8Problem(x)} IS NULL`;
      break;
    }
    case 'decimal': {
      const d = into?.type.kind === 'decimal' ? into.type : t;
      const scale = d.precision === undefined && d.scale === undefined ? undefined : (d.scale ?? 0);
      const whole = into && d.precision !== undefined ? d.precision - (d.scale ?? 0) : undefined;
      const bounded = whole === undefined ? '' : ` AND ${x} > -1e${whole} AND ${x} < 1e${whole}`;
      const textDigits = whole === undefined ? '' : ` AND (CASE WHEN instr(${x}, '.') > 0 THEN instr(${x}, '.') - 1 ELSE length(${x}) END) - (${x} GLOB '-*') <= ${whole}`;
      ok =
        `CASE typeof(${x}) WHEN 'integer' THEN ${bounded ? bounded.slice(5) : '1'}` +
        ` WHEN 'real' THEN ${realCarried(x, scale)}${bounded}` +
        ` WHEN 'text' THEN ${plainDecimal(x, scale)}${textDigits} ELSE 0 END`;
      break;
    }
    case 'date':
      ok = temporalCarried(x, false);
      break;
    case 'timestamp':
      ok = temporalCarried(x, true);
      break;
    default:
      throw new FerryError('internal', `column "${c.name}": ${t.kind} is not read as text pass-through`);
  }
  return `CASE WHEN ${x} IS NULL OR (${ok}) THEN 1 ELSE 0 END`;
}

/** The column's value as the row path would write it, where carried() holds; NULL as NULL; text escaped for a 'tsv' line (no `into`). */
function value(c: Column, x: string, into?: Column): string {
  if (c.type.kind === 'decimal') return `CASE typeof(${x}) WHEN 'real' THEN ${realText(x)} ELSE ${x} END`;
  if (c.type.kind === 'text' && !into) return escaped(x);
  return x;
}

/**
 * One column's field: of the 'tsv' line (NULL as \N), or (`into`, SQLite into
 * SQLite) the value itself. `checked`: a value carried() refuses calls REFUSE,
 * which stops the read; unchecked, it is left to a check made beside the read
 * (checkList).
 */
function field(c: Column, x: string, into: Column | undefined, checked: boolean): string {
  const nullText = into ? 'NULL' : NULL_TEXT;
  if (!checked) return into ? value(c, x, into) : `coalesce(${value(c, x)}, ${NULL_TEXT})`;
  return `CASE WHEN ${x} IS NULL THEN ${nullText} WHEN ${carried(c, x, into)} THEN ${value(c, x, into)} ELSE ${refuse(c.name, x)} END`;
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
export function tsvLine(columns: Column[], quote: (n: string) => string, checked = true): string {
  return columns.map((c) => field(c, quote(c.name), undefined, checked)).join(' || char(9) || ');
}

/** The values of a row for a SQLite target's columns `into` (same order), each as the row path would write it, or refused. */
export function valueList(columns: Column[], into: Column[], quote: (n: string) => string, checked = true): string {
  return columns.map((c, i) => field(c, quote(c.name), into[i], checked)).join(', ');
}

/**
 * The check an unchecked read (tsvLine or valueList with `checked` false)
 * leaves to be made beside it: the first row with a value that cannot go,
 * as the index of its first such column and every column's storage class;
 * no row when every value goes.
 */
export function checkList(columns: Column[], into: Column[] | undefined, quote: (n: string) => string): { list: string; where: string } {
  const oks = columns.map((c, i) => carried(c, quote(c.name), into?.[i]));
  const first = `CASE ${oks.map((ok, i) => `WHEN NOT ${ok} THEN ${i}`).join(' ')} END`;
  return { list: [first, ...columns.map((c) => `typeof(${quote(c.name)})`)].join(', '), where: `NOT (${oks.join(' AND ')})` };
}

/** What REFUSE says: the same words whichever way the value was found. */
export function refusal(column: string, storage: string): FerryError {
  return new FerryError('data', `column ${JSON.stringify(column)} holds ${/^[aeiou]/.test(storage) ? 'an' : 'a'} ${storage} value the pass-through cannot carry exactly`);
}
