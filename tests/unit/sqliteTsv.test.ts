/**
 * SQLite's 'tsv' lines (src/main/engine/dialects/sqlite/tsv.ts) against what
 * the row path would send: a value goes out as text only in the form the row
 * path gives it (String(x) for a REAL in a decimal column), anything else is
 * refused, naming the column, so the chunk is staged row by row.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDialect } from '../../src/main/engine/dialects/sqlite/index.js';
import { checkList, refusal, registerRefuse, tsvLine } from '../../src/main/engine/dialects/sqlite/tsv.js';
import { readerFor, type SqliteValue } from '../../src/main/engine/dialects/sqlite/values.js';
import type { Column, LogicalType } from '../../src/main/engine/types.js';

const db = new Database(':memory:');
registerRefuse(db);
afterAll(() => db.close());

const col = (name: string, type: LogicalType): Column => ({ name, type, nullable: true, nativeType: '' }) as Column;
const quote = (n: string) => `"${n}"`;

/** What the row path reads from row `rowid` of t (values.ts), as text. */
function rowPathText(type: LogicalType, rowid: number): string {
  const stored = db.prepare('SELECT v FROM t WHERE rowid = ?').pluck(true).safeIntegers(true).get(rowid) as SqliteValue;
  return String(readerFor(type)(stored));
}

/** The field of `v` stored in a column declared `declared`, read as `type`: its text, or the refusal's message. */
function fieldOf(declared: string, type: LogicalType, values: unknown[]): Array<string | Error> {
  db.exec(`DROP TABLE IF EXISTS t; CREATE TABLE t (v ${declared})`);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => values.forEach((v) => insert.run(v)))();
  const select = db.prepare(`SELECT '' || ${tsvLine([col('v', type)], quote)} FROM t WHERE rowid = ?`).pluck(true);
  // The same line unchecked, and the check made beside it (on a worker, in a run): they must agree value for value.
  const unchecked = db.prepare(`SELECT '' || ${tsvLine([col('v', type)], quote, false)} FROM t WHERE rowid = ?`).pluck(true);
  const check = checkList([col('v', type)], undefined, quote);
  const refused = db.prepare(`SELECT ${check.list} FROM t WHERE rowid = ? AND ${check.where}`).raw(true);
  return values.map((_, i) => {
    const found = refused.get(i + 1) as unknown[] | undefined;
    try {
      const line = select.get(i + 1) as string;
      expect(found, `the check beside the read refused ${String(values[i])}, the checked line took it`).toBeUndefined();
      expect(unchecked.get(i + 1)).toBe(line);
      return line;
    } catch (err) {
      expect(found, `the check beside the read let ${String(values[i])} go; the checked line refused it`).toBeDefined();
      expect(refusal('v', String(found![1])).message).toBe((err as Error).message);
      return err as Error;
    }
  });
}

/** Random doubles: cents up to 10^12, thirds and other non-terminating values, all magnitudes. */
function randomDoubles(n: number, seed = 7): number[] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    if (kind === 0) out.push(Math.round((next() - 0.5) * 2e14) / 100);
    else if (kind === 1) out.push(Math.round(next() * 10 ** Math.floor(next() * 12)) / 10 ** Math.floor(next() * 5));
    else if (kind === 2) out.push((next() - 0.5) * 10 ** Math.floor(next() * 40 - 20));
    else out.push(Math.floor(next() * 1e6) / 3);
  }
  return out;
}

describe('SQLite tsv: a REAL in a decimal column', () => {
  const values = randomDoubles(20_000);
  for (const [declared, type] of [
    ['NUMERIC(12,2)', { kind: 'decimal', precision: 12, scale: 2 }],
    ['NUMERIC(20,8)', { kind: 'decimal', precision: 20, scale: 8 }],
    ['NUMERIC', { kind: 'decimal' }],
  ] as const) {
    it(`${declared}: goes out exactly as JavaScript prints it, or is refused`, () => {
      const fields = fieldOf(declared, type, values);
      let accepted = 0;
      fields.forEach((f, i) => {
        const x = values[i];
        if (f instanceof Error) {
          expect(f.message).toMatch(/column "v" holds a real value the pass-through cannot carry exactly/);
          return;
        }
        accepted++;
        // NUMERIC affinity stores a whole number as INTEGER: the row path reads that, and prints its digits.
        expect(Object.is(x, -0) ? '0' : f, `value ${x}`).toBe(rowPathText(type, i + 1));
      });
      // Most values must go through: cents always do with a scale of 2.
      expect(accepted).toBeGreaterThan(values.length / 4);
    });
  }

  it('NUMERIC(12,2): every value in cents goes through', () => {
    const cents = Array.from({ length: 20_000 }, (_, i) => Math.round((i * 7919.37 - 5e7) * 100) / 100);
    const fields = fieldOf('NUMERIC(12,2)', { kind: 'decimal', precision: 12, scale: 2 }, cents);
    expect(fields.filter((f) => f instanceof Error)).toEqual([]);
    expect(fields).toEqual(cents.map((x) => String(x)));
  });
});

describe('SQLite tsv: fields', () => {
  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    const text = 'tab\t nl\n cr\r back\\slash \\N \\t ff\f vt\u000b nul-less Zoë 😀';
    expect(fieldOf('TEXT', { kind: 'text' }, [text, null, ''])).toEqual([
      'tab\\t nl\\n cr\\r back\\\\slash \\\\N \\\\t ff\f vt\u000b nul-less Zoë 😀',
      '\\N',
      '',
    ]);
  });

  it('prints integers as their digits, to the last bit of 64', () => {
    const big = [9223372036854775807n, -9223372036854775808n, 0n, 42n];
    db.exec('DROP TABLE IF EXISTS t; CREATE TABLE t (v INTEGER)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    big.forEach((v) => insert.run(v));
    const rows = db.prepare(`SELECT '' || ${tsvLine([col('v', { kind: 'integer', bytes: 8 })], quote)} FROM t ORDER BY rowid`).pluck(true).all();
    expect(rows).toEqual(big.map(String));
  });

  it('refuses what the row path would read differently or a target would take another way', () => {
    const cases: Array<[string, LogicalType, unknown[]]> = [
      ['INT', { kind: 'integer', bytes: 8 }, [1.5, 'abc', Buffer.from('x')]],
      ['BOOLEAN', { kind: 'boolean' }, [2, 'true', 0.5]],
      // SQLite's string functions stop at a NUL: such text is refused rather than cut short.
      ['TEXT', { kind: 'text' }, [Buffer.from('bytes'), 'a\u0000b', 'tab\t then \u0000']],
      ['VARCHAR(8)', { kind: 'text', maxLength: 8 }, ['a\u0000bcdefghijk']],
      ['NUMERIC(12,2)', { kind: 'decimal', precision: 12, scale: 2 }, [12.345, 0.1 + 0.2, 12345678901234.5, 'abc']],
      // As dbferry creates decimal columns in SQLite: TEXT affinity, the text kept as it was written.
      ['TEXT', { kind: 'decimal', precision: 12, scale: 2 }, ['12.345', '1e5', ' 12', '1-2', '+5', '.', 'NaN']],
      ['TIMESTAMP', { kind: 'timestamp', withTimeZone: false }, ['2024-01-01 24:00:00', '2024-01-01 10:00:00\u0000junk', '2024-00-10 10:00:00', '2024-13-01 10:00:00', '2024-01-00 10:00:00', '2024-01-32 10:00:00', '2024-01-01T10:00:00', '2024-01-01 10:00:00.5', 1700000000,
        // Not a real day (SQLite's datetime() would move them), or year 0, which the row path refuses.
        '2024-02-30 10:00:00', '2023-02-29 00:00:00', '2024-04-31 12:00:00', '0000-01-01 00:00:00', ' 2024-01-01 10:00:00', '2024-01-01 10:00:00 ']],
      ['DATE', { kind: 'date' }, ['2024-00-01', '2024-1-01', '20240101', 20240101, '2023-02-29', '0000-03-01', '2024-01-01 00:00:00', '2024-01-01' + '\u0000']],
    ];
    for (const [declared, type, values] of cases) {
      const fields = fieldOf(declared, type, values);
      fields.forEach((f, i) => expect(f instanceof Error ? f.message : `went out as ${JSON.stringify(f)}`, `${declared} ${String(values[i])}`).toMatch(/^column "v" holds an? \w+ value/));
    }
  });

  it('lets plain values of each kind through as they are', () => {
    expect(fieldOf('BOOLEAN', { kind: 'boolean' }, [0, 1, null])).toEqual(['0', '1', '\\N']);
    expect(fieldOf('NUMERIC(12,2)', { kind: 'decimal', precision: 12, scale: 2 }, ['12.30', -0.5, 37, 12.5])).toEqual(['12.3', '-0.5', '37', '12.5']);
    expect(fieldOf('TEXT', { kind: 'decimal', precision: 12, scale: 2 }, ['12.30', '-0.5', '007', '-.5'])).toEqual(['12.30', '-0.5', '007', '-.5']);
    expect(fieldOf('TIMESTAMP', { kind: 'timestamp', withTimeZone: false }, ['2024-02-29 23:59:59', null])).toEqual(['2024-02-29 23:59:59', '\\N']);
    expect(fieldOf('DATE', { kind: 'date' }, ['2024-12-31', '2024-02-29', '0001-01-01', '9999-12-31'])).toEqual(['2024-12-31', '2024-02-29', '0001-01-01', '9999-12-31']);
    expect(fieldOf('TIMESTAMP', { kind: 'timestamp', withTimeZone: false }, ['0001-01-01 00:00:00', '9999-12-31 23:59:59', '2024-06-30 00:00:00'])).toEqual([
      '0001-01-01 00:00:00',
      '9999-12-31 23:59:59',
      '2024-06-30 00:00:00',
    ]);
  });
});

describe('SQLite snapshot shared by several sessions', () => {
  it('with a rollback journal, a session begun under holdWrites reads what the first one reads: a writer cannot commit meanwhile', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dbferry-snap-')), 'src.db');
    const setup = new Database(file);
    setup.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'before')");
    setup.close();
    const open = () => sqliteDialect.open({ engine: 'sqlite', path: file } as never, { baseDir: '/', role: 'source' } as never);
    const main = await open();
    const lane = await open();
    try {
      expect(await main.holdWrites!(() => lane.beginSnapshot())).toEqual({ ok: true });
      const writer = new Database(file);
      writer.pragma('busy_timeout = 50');
      // The write waits for the readers' shared locks, then gives up: nothing changed under them.
      expect(() => writer.exec("UPDATE t SET v = 'after' WHERE id = 1")).toThrow(/locked|busy/i);
      writer.close();
      for (const s of [main, lane]) expect((await s.query('SELECT v FROM t WHERE id = 1')).rows).toEqual([['before']]);
    } finally {
      await main.close();
      await lane.close();
    }
  });
});
