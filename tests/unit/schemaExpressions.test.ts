/** Generated columns' expressions: what is translated between engines, what is not (and why), and SQLite's, read from its CREATE TABLE. */
import { describe, expect, it } from 'vitest';
import { sqliteGeneratedColumns, translateExpression, type Engine } from '../../src/main/engine/schema/expressions.js';
import type { Column } from '../../src/main/engine/types.js';

const columns: Column[] = [
  { name: 'price', nativeType: 'numeric(10,2)', type: { kind: 'decimal', precision: 10, scale: 2 }, nullable: false },
  { name: 'qty', nativeType: 'integer', type: { kind: 'integer', bytes: 4 }, nullable: false },
  { name: 'name', nativeType: 'varchar(40)', type: { kind: 'text', maxLength: 40 }, nullable: true },
  { name: 'total', nativeType: 'numeric', type: { kind: 'decimal' }, nullable: true, generated: { expression: 'price * qty', stored: true } },
];
const quote: Record<Engine, (n: string) => string> = { postgres: (n) => `"${n}"`, mysql: (n) => `\`${n}\``, sqlite: (n) => `"${n}"` };
const translate = (text: string, from: Engine, to: Engine, renamed: (n: string) => string = (n) => n) => translateExpression(text, from, to, columns, renamed, quote[to]);

describe('translateExpression', () => {
  it('carries arithmetic, concatenation and lower() as the catalogs print them', () => {
    expect(translate('(price * (qty)::numeric)', 'postgres', 'mysql')).toEqual({ sql: '`price` * `qty`' });
    expect(translate("(lower((name)::text) || '-x''s'::text)", 'postgres', 'mysql')).toEqual({ sql: "concat(lower(`name`), '-x''s')" });
    expect(translate("concat(lcase(`name`),'-x\\'s')", 'mysql', 'postgres')).toEqual({ sql: `lower("name") || '-x''s'` });
    expect(translate('`price` * `qty` + 1', 'mysql', 'postgres')).toEqual({ sql: '("price" * "qty") + 1' });
    expect(translate('-qty * 2', 'sqlite', 'postgres')).toEqual({ sql: '(-"qty") * 2' });
    expect(translate('(qty)::bigint', 'postgres', 'mysql')).toEqual({ sql: '`qty`' });
  });

  it('names the columns by their target names', () => {
    expect(translate('price * qty', 'sqlite', 'postgres', (n) => (n === 'qty' ? 'quantity' : n))).toEqual({ sql: '"price" * "quantity"' });
  });

  it('does not guess: division, other functions, other casts, text arithmetic, generated operands, SQLite folding or decimals', () => {
    const reason = (r: { sql: string } | { reason: string }) => ('reason' in r ? r.reason : `translated: ${r.sql}`);
    expect(reason(translate('qty / 2', 'postgres', 'mysql'))).toMatch(/\/ \(its integer rules differ/);
    expect(reason(translate('`qty` DIV 2', 'mysql', 'postgres'))).toMatch(/"DIV"/);
    expect(reason(translate('round(price)', 'postgres', 'mysql'))).toMatch(/the function round\(\)/);
    expect(reason(translate("concat(name, 'x')", 'postgres', 'mysql'))).toMatch(/the function concat\(\)/);
    expect(reason(translate('(created)::date', 'postgres', 'mysql'))).toMatch(/a cast to date/);
    expect(reason(translate('name + 1', 'sqlite', 'postgres'))).toMatch(/arithmetic on text/);
    expect(reason(translate('total * 2', 'postgres', 'mysql'))).toMatch(/column total, itself generated/);
    expect(reason(translate('lower(name)', 'postgres', 'sqlite'))).toMatch(/ASCII/);
    expect(reason(translate('price * qty', 'postgres', 'sqlite'))).toMatch(/floating point/);
    expect(reason(translate('`a` || `b`', 'mysql', 'postgres'))).toMatch(/logical OR/);
    expect(reason(translate('missing + 1', 'postgres', 'mysql'))).toMatch(/column missing/);
  });
});

describe('sqliteGeneratedColumns', () => {
  it('reads each generated column from the CREATE TABLE text', () => {
    const sql = `CREATE TABLE "t" (id INTEGER PRIMARY KEY, "a b" INT CHECK (id > 0), [c] TEXT DEFAULT 'x, y',
      s INT GENERATED ALWAYS AS (id + "a b") STORED, -- a comment, with a comma
      v TEXT AS (lower(c) || ')') VIRTUAL, w AS (id * 2), CONSTRAINT k UNIQUE (s))`;
    expect(Object.fromEntries(sqliteGeneratedColumns(sql))).toEqual({
      s: { expression: 'id + "a b"', stored: true },
      v: { expression: "lower(c) || ')'", stored: false },
      w: { expression: 'id * 2', stored: false },
    });
  });
});
