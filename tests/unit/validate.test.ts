import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ColumnRule, TableSpec } from '../../src/shared/jobSpec.js';
import { FerryError } from '../../src/main/engine/errors.js';
import { KeyTracker, compileValidator, ruleProblems, validatorOptionsFor, type ValidatorOptions } from '../../src/main/engine/pipeline/validate/index.js';
import type { Column, LogicalType, Row, Value } from '../../src/main/engine/types.js';

interface ColumnSpec {
  name: string;
  type: LogicalType;
  nativeType?: string;
  nullable?: boolean;
  /** The source column's type; default: the same as the target's (an exact mapping). */
  sourceType?: LogicalType;
}

function tablePlan(columns: ColumnSpec[], opts: { key?: string[]; rules?: Record<string, ColumnRule>; allowLossy?: boolean } = {}) {
  const col = (c: ColumnSpec, type: LogicalType): Column => ({ name: c.name, nativeType: c.nativeType ?? '', type, nullable: c.nullable ?? true });
  const spec: TableSpec = { source: 't', mode: opts.key ? 'upsert' : 'append', rules: opts.rules, allowLossy: opts.allowLossy };
  return {
    columns: columns.map((c) => col(c, c.sourceType ?? c.type)),
    targetColumns: columns.map((c) => col(c, c.type)),
    key: opts.key ?? [],
    spec,
  };
}

/** The reasons for one value in a one-column table. */
function reasons(column: ColumnSpec, value: Value, options: ValidatorOptions = {}, rules?: ColumnRule): readonly string[] {
  const v = compileValidator(tablePlan([column], { rules: rules && { [column.name]: rules } }), options);
  return v.check([value]);
}

const int = (bytes: 1 | 2 | 3 | 4 | 8, unsigned = false): LogicalType => ({ kind: 'integer', bytes, ...(unsigned ? { unsigned } : {}) });

describe('row validation: types of the target column', () => {
  it('refuses NULL in a NOT NULL column and in a key column', () => {
    expect(reasons({ name: 'customer_id', type: int(4), nativeType: 'int', nullable: false }, null)).toEqual([
      'customer_id: is NULL, but the target column is NOT NULL',
    ]);
    expect(reasons({ name: 'note', type: { kind: 'text' }, nullable: true }, null)).toEqual([]);
    const v = compileValidator(tablePlan([{ name: 'id', type: int(8), nullable: true }], { key: ['id'] }));
    expect(v.check([null])).toEqual(['id: is NULL, but it is part of the key, which cannot be NULL']);
  });

  it('checks integers: form, width, sign, and the 64-bit edges exactly', () => {
    const qty = { name: 'qty', type: int(4), nativeType: 'int' };
    expect(reasons(qty, 'a dozen')[0]).toMatch(/^qty: "a dozen" is not an integer/);
    expect(reasons(qty, 12.5)[0]).toMatch(/^qty: 12.5 is not an integer/);
    expect(reasons(qty, '42')).toEqual([]); // SQLite's dynamic typing: text holding an integer
    expect(reasons(qty, 2147483647)).toEqual([]);
    expect(reasons(qty, 2147483648)).toEqual(['qty: 2147483648 is out of range; the target column int holds -2147483648 to 2147483647']);
    expect(reasons(qty, true)).toEqual([]);
    expect(reasons({ name: 'm', type: int(3) }, 8388608)[0]).toMatch(/-8388608 to 8388607/);
    expect(reasons({ name: 'u', type: int(1, true) }, -1)[0]).toMatch(/0 to 255/);

    const id = { name: 'id', type: int(8), nativeType: 'bigint' };
    expect(reasons(id, 2n ** 63n - 1n)).toEqual([]);
    expect(reasons(id, '9223372036854775807')).toEqual([]);
    expect(reasons(id, 2n ** 63n)[0]).toMatch(/^id: 9223372036854775808 is out of range/);
    expect(reasons(id, '9223372036854775808')[0]).toMatch(/out of range/);
    expect(reasons(id, -(2n ** 63n))).toEqual([]);
    expect(reasons(id, -(2n ** 63n) - 1n)[0]).toMatch(/out of range/);
    expect(reasons(id, 2 ** 63)[0]).toMatch(/out of range/); // a float exactly 2^63 does not fit either

    const u = { name: 'u', type: int(8, true), nativeType: 'bigint unsigned' };
    expect(reasons(u, 18446744073709551615n)).toEqual([]);
    expect(reasons(u, '18446744073709551615')).toEqual([]);
    expect(reasons(u, 18446744073709551616n)[0]).toMatch(/0 to 18446744073709551615/);
    expect(reasons(u, -1)[0]).toMatch(/out of range/);
  });

  it('refuses decimals that would be rounded or do not fit numeric(p,s)', () => {
    const price = { name: 'price', type: { kind: 'decimal', precision: 12, scale: 2 } as LogicalType, nativeType: 'numeric(12,2)' };
    expect(reasons(price, '12.34')).toEqual([]);
    expect(reasons(price, '12.50')).toEqual([]);
    expect(reasons(price, '12.3400000')).toEqual([]); // trailing zeros change nothing
    expect(reasons(price, 12.345)).toEqual(['price: 12.345 has more than 2 decimal places (numeric(12,2)); it would be rounded']);
    expect(reasons(price, '12.345')[0]).toMatch(/more than 2 decimal places/);
    expect(reasons(price, '9999999999.99')).toEqual([]);
    expect(reasons(price, '10000000000')[0]).toBe('price: "10000000000" has 11 digits before the decimal point; the target column numeric(12,2) holds at most 10');
    expect(reasons(price, 1e21)[0]).toMatch(/22 digits before the decimal point/); // "1e+21": its shortest JS text
    expect(reasons(price, '1.5e3')).toEqual([]);
    expect(reasons(price, 99999999999999999999n)[0]).toMatch(/20 digits/);
    expect(reasons(price, 'twelve')[0]).toMatch(/is not a number/);
    expect(reasons(price, NaN)[0]).toMatch(/^price: NaN cannot be stored/);
    expect(reasons(price, Infinity)[0]).toMatch(/finite numbers only/);
    expect(reasons({ name: 'n', type: { kind: 'decimal' } }, '123456789012345678901234567890.123456789')).toEqual([]);
  });

  it('lets through the rounding an accepted lossy mapping asked for, but never an overflow', () => {
    const column: ColumnSpec = {
      name: 'price',
      type: { kind: 'decimal', precision: 12, scale: 2 },
      sourceType: { kind: 'decimal', precision: 12, scale: 4 },
    };
    const accepted = compileValidator(tablePlan([column], { allowLossy: true }));
    expect(accepted.check(['12.3456'])).toEqual([]);
    expect(accepted.check(['12345678901.5'])[0]).toMatch(/11 digits before/);
    const notAccepted = compileValidator(tablePlan([column]));
    expect(notAccepted.check(['12.3456'])[0]).toMatch(/more than 2 decimal places/);
  });

  it('checks floats: NaN and Infinity as the target engine allows, single-precision range', () => {
    const x = { name: 'x', type: { kind: 'float', bytes: 8 } as LogicalType, nativeType: 'double precision' };
    expect(reasons(x, NaN, validatorOptionsFor('postgres'))).toEqual([]);
    expect(reasons(x, Infinity, validatorOptionsFor('sqlite'))).toEqual([]);
    expect(reasons(x, NaN, { ...validatorOptionsFor('sqlite'), typedColumns: true })[0]).toMatch(/not NaN/);
    // SQLite's declared types bind nothing: the validator leaves types to SQLite's writer (which refuses NaN).
    expect(reasons(x, 'not a number', validatorOptionsFor('sqlite'))).toEqual([]);
    expect(reasons(x, '3.4028235e+38', { typedColumns: true })).toEqual([]);
    expect(reasons({ ...x, type: { kind: 'float', bytes: 4 }, nativeType: 'real' }, '3.4028235e+38')).toEqual([]);
    expect(reasons({ ...x, type: { kind: 'float', bytes: 4 }, nativeType: 'real' }, '3.41e+38')[0]).toMatch(/out of range/);
    expect(reasons({ ...x, type: { kind: 'date' }, nativeType: 'date' }, 'infinity', validatorOptionsFor('postgres'))).toEqual([]);
    expect(reasons({ ...x, type: { kind: 'date' }, nativeType: 'date' }, 'infinity', validatorOptionsFor('mysql'))[0]).toMatch(/is not a date/);
    expect(reasons(x, -Infinity, validatorOptionsFor('mysql'))[0]).toMatch(/^x: -Infinity cannot be stored .* finite numbers only/);
    expect(reasons(x, 'NaN', validatorOptionsFor('mysql'))[0]).toMatch(/finite numbers only/);
    expect(reasons(x, '1e400')[0]).toMatch(/out of range/);
    expect(reasons(x, 'pi')[0]).toMatch(/is not a number/);
    expect(reasons(x, '3.25')).toEqual([]);
    const r = { name: 'r', type: { kind: 'float', bytes: 4 } as LogicalType, nativeType: 'real' };
    expect(reasons(r, 3.4e38)).toEqual([]);
    expect(reasons(r, 3.5e38)[0]).toMatch(/out of range/);
    expect(reasons(r, 1e-50)[0]).toMatch(/would store 0/);
  });

  it('measures text in characters, refuses lone surrogates, and NUL where the target cannot hold it', () => {
    const sku = { name: 'sku', type: { kind: 'text', maxLength: 32 } as LogicalType, nativeType: 'varchar(32)' };
    expect(reasons(sku, 'ABC-DEF-GHI-JKL-MNO-PQR-STU-VWX-YZ0-123')).toEqual([
      'sku: "ABC-DEF-GHI-…" is 39 characters; the target column varchar(32) holds at most 32',
    ]);
    // 32 emoji are 64 UTF-16 units but 32 characters: they fit.
    expect(reasons(sku, '😀'.repeat(32))).toEqual([]);
    expect(reasons(sku, '😀'.repeat(33))[0]).toMatch(/is 33 characters/);
    expect(reasons(sku, 12345)).toEqual([]);
    expect(reasons({ name: 'note', type: { kind: 'text' } }, 'ok \uD800 broken')[0]).toMatch(/^note: "ok \\ud800 broken" is not valid Unicode/);
    expect(reasons({ name: 'note', type: { kind: 'text' } }, 'a\0b', { rejectNulInText: true })[0]).toMatch(/NUL character/);
    expect(reasons({ name: 'note', type: { kind: 'text' } }, 'a\0b', { rejectNulInText: false })).toEqual([]);
    // MySQL's TEXT holds 65,535 bytes, not characters.
    const body = { name: 'body', type: { kind: 'text', maxLength: 65_535 } as LogicalType, nativeType: 'text' };
    expect(reasons(body, '€'.repeat(21_845))).toEqual([]);
    expect(reasons(body, '€'.repeat(21_846))[0]).toMatch(/65538 bytes in UTF-8.*at most 65535 bytes/);
  });

  it('measures binary in bytes', () => {
    const b = { name: 'b', type: { kind: 'binary', maxLength: 4 } as LogicalType, nativeType: 'varbinary(4)' };
    expect(reasons(b, new Uint8Array(4))).toEqual([]);
    expect(reasons(b, new Uint8Array(5))).toEqual(['b: 5 bytes; the target column varbinary(4) holds at most 4']);
  });

  it('checks dates against the calendar, and zero dates as the target allows', () => {
    const d = { name: 'd', type: { kind: 'date' } as LogicalType, nativeType: 'date' };
    expect(reasons(d, '2024-02-29')).toEqual([]);
    expect(reasons(d, '2024-02-30')).toEqual(['d: "2024-02-30" is not a real date (February 2024 has 29 days); the target column date takes real calendar dates']);
    expect(reasons(d, '2023-02-29')[0]).toMatch(/February 2023 has 28 days/);
    expect(reasons(d, '1900-02-29')[0]).toMatch(/28 days/);
    expect(reasons(d, '2000-02-29')).toEqual([]);
    expect(reasons(d, '2024-13-01')[0]).toMatch(/no month 13/);
    expect(reasons(d, 'yesterday')[0]).toMatch(/is not a date; the target column date takes YYYY-MM-DD/);
    expect(reasons(d, '12024-01-01')).toEqual([]);
    expect(reasons(d, '0044-03-15 BC')).toEqual([]);
    expect(reasons(d, '2024-01-02 10:00:00')[0]).toMatch(/has a time of day/);
    expect(reasons(d, '0000-00-00')[0]).toMatch(/MySQL's zero date, which the target column date cannot hold/);
    expect(reasons(d, '0000-00-00', { allowZeroDates: true })).toEqual([]);
    expect(reasons(d, '2024-05-00', { allowZeroDates: true })).toEqual([]);
    expect(reasons(d, '2024-05-00')[0]).toMatch(/zero month or day/);
  });

  it('checks times and timestamps: shape, time of day, fractional digits', () => {
    const ts = { name: 'created_at', type: { kind: 'timestamp', withTimeZone: false } as LogicalType, nativeType: 'timestamp' };
    expect(reasons(ts, '2024-01-02 03:04:05')).toEqual([]);
    expect(reasons(ts, '2024-01-02T03:04:05.123456')).toEqual([]);
    expect(reasons(ts, '2024-01-02')).toEqual([]); // a date source into a timestamp column
    expect(reasons(ts, '2024-01-02 03:04:05.1234567')[0]).toMatch(/more than 6 digits of fractional seconds/);
    expect(reasons(ts, '2024-02-30 03:04:05')[0]).toMatch(/not a real date/);
    expect(reasons(ts, '2024-01-02 25:04:05')[0]).toMatch(/not a valid time of day/);
    expect(reasons(ts, '2024-01-02 03:04')[0]).toMatch(/is not a timestamp/);
    expect(reasons(ts, '0000-00-00 00:00:00', { allowZeroDates: true })).toEqual([]);
    const tz = { name: 'at', type: { kind: 'timestamp', withTimeZone: true, precision: 3 } as LogicalType, nativeType: 'timestamptz(3)' };
    expect(reasons(tz, '2024-01-02 03:04:05.123+00:00')).toEqual([]);
    expect(reasons(tz, '2024-01-02 03:04:05.1234+00:00')[0]).toMatch(/more than 3 digits/);

    const t = { name: 't', type: { kind: 'time' } as LogicalType, nativeType: 'time' };
    expect(reasons(t, '23:59:59.5')).toEqual([]);
    expect(reasons(t, '24:00:00')).toEqual([]);
    expect(reasons(t, '24:00:01')[0]).toMatch(/not a valid time of day/);
    expect(reasons(t, '12:60:00')[0]).toMatch(/minutes and seconds/);
    expect(reasons(t, '-100:00:00')[0]).toMatch(/not a valid time of day/);
    expect(reasons(t, '-100:00:00', { timeIsDuration: true })).toEqual([]);
    expect(reasons(t, '839:00:00', { timeIsDuration: true })[0]).toMatch(/838:59:59/);
  });

  it('takes booleans as true/false or 0/1 only', () => {
    const active = { name: 'active', type: { kind: 'boolean' } as LogicalType, nativeType: 'boolean' };
    for (const ok of [true, false, 0, 1, 0n, 1n, '0', '1']) expect(reasons(active, ok)).toEqual([]);
    expect(reasons(active, 5)).toEqual(['active: 5 is not a boolean; the target column boolean takes true/false or 0/1']);
    expect(reasons(active, 'yes')[0]).toMatch(/not a boolean/);
  });

  it('checks enum members, UUIDs and JSON', () => {
    const status = { name: 'status', type: { kind: 'enum', values: ['new', 'paid'] } as LogicalType, nativeType: "enum('new','paid')" };
    expect(reasons(status, 'paid')).toEqual([]);
    expect(reasons(status, 'shipped')).toEqual([`status: "shipped" is not one of the values of the target column enum('new','paid'): "new", "paid"`]);
    const id = { name: 'id', type: { kind: 'uuid' } as LogicalType };
    expect(reasons(id, '0f8fad5b-d9cb-469f-a165-70867728950e')).toEqual([]);
    expect(reasons(id, '0F8FAD5B-D9CB-469F-A165-70867728950E')).toEqual([]);
    expect(reasons(id, 'not-a-uuid')[0]).toMatch(/is not a UUID/);
    const doc = { name: 'doc', type: { kind: 'json' } as LogicalType, nativeType: 'json' };
    expect(reasons(doc, '{"a":[1,2]}')).toEqual([]);
    expect(reasons(doc, 42)).toEqual([]);
    expect(reasons(doc, '{a:1}')[0]).toMatch(/^doc: "{a:1}" is not valid JSON/);
  });

  it('does not type-check an untyped (SQLite) target column', () => {
    const any = { name: 'x', type: { kind: 'any' } as LogicalType };
    for (const v of ['text', 1, 2n ** 70n, new Uint8Array(3), 1.5]) expect(reasons(any, v)).toEqual([]);
  });

  it('reports every refused column of a row, each by name', () => {
    const v = compileValidator(
      tablePlan([
        { name: 'id', type: int(8), nullable: false },
        { name: 'qty', type: int(2), nativeType: 'smallint' },
        { name: 'sku', type: { kind: 'text', maxLength: 3 }, nativeType: 'varchar(3)' },
      ]),
    );
    const r = v.check([null, 40000, 'ABCD']);
    expect(r).toHaveLength(3);
    expect(r.map((m) => m.split(':')[0])).toEqual(['id', 'qty', 'sku']);
  });
});

describe('row validation: the spec rules', () => {
  const qty = { name: 'qty', type: int(8), nativeType: 'bigint' };

  it('checks min and max exactly, even beyond 2^53', () => {
    expect(reasons(qty, 0, {}, { min: 1 })).toEqual(['qty: 0 is below the minimum 1 (rules.qty.min)']);
    expect(reasons(qty, 1, {}, { min: 1, max: 10 })).toEqual([]);
    expect(reasons(qty, 11, {}, { max: 10 })[0]).toBe('qty: 11 is above the maximum 10 (rules.qty.max)');
    // 2^53 + 1 as a JS number would be 2^53: the comparison must not go through one.
    const big = { max: '9007199254740992' };
    expect(reasons(qty, 9007199254740993n, {}, big)[0]).toMatch(/above the maximum 9007199254740992/);
    expect(reasons(qty, 9007199254740992n, {}, big)).toEqual([]);
    expect(reasons(qty, '9007199254740993', {}, big)[0]).toMatch(/above the maximum/);
    expect(reasons({ name: 'u', type: int(8, true) }, 18446744073709551615n, {}, { max: '18446744073709551614' })[0]).toMatch(/above/);

    const price = { name: 'price', type: { kind: 'decimal' } as LogicalType };
    expect(reasons(price, '0.1000000000000000001', {}, { max: 0.1 })[0]).toMatch(/above the maximum 0.1/);
    expect(reasons(price, '0.1000', {}, { max: 0.1 })).toEqual([]);
    expect(reasons(price, '-5.5', {}, { min: '-5.25' })[0]).toMatch(/below the minimum -5.25/);
    expect(reasons(price, 'abc', {}, { min: 0 })[0]).toMatch(/type|not a number/);
  });

  it('compares dates with date bounds as text', () => {
    const day = { name: 'day', type: { kind: 'date' } as LogicalType };
    expect(reasons(day, '2023-12-31', {}, { min: '2024-01-01' })[0]).toMatch(/below the minimum 2024-01-01/);
    expect(reasons(day, '2024-06-01', {}, { min: '2024-01-01', max: '2024-12-31' })).toEqual([]);
    const ts = { name: 'at', type: { kind: 'timestamp', withTimeZone: false } as LogicalType };
    expect(reasons(ts, '2024-01-01 00:00:00', {}, { min: '2024-01-01' })).toEqual([]);
  });

  it('matches patterns, oneOf, notNull and maxLength', () => {
    const sku = { name: 'sku', type: { kind: 'text' } as LogicalType };
    expect(reasons(sku, 'SKU-000123', {}, { pattern: '^SKU-\\d{6}$' })).toEqual([]);
    expect(reasons(sku, 'sku-1', {}, { pattern: '^SKU-\\d{6}$' })).toEqual(['sku: "sku-1" does not match rules.sku.pattern ^SKU-\\d{6}$']);
    expect(reasons(sku, 'b', {}, { oneOf: ['a', 'b'] })).toEqual([]);
    expect(reasons(sku, 'c', {}, { oneOf: ['a', 'b'] })).toEqual(['sku: "c" is not one of "a", "b" (rules.sku.oneOf)']);
    expect(reasons(qty, 2n, {}, { oneOf: [1, 2, 3] })).toEqual([]);
    expect(reasons({ name: 'p', type: { kind: 'decimal' } }, '12.50', {}, { oneOf: [12.5] })).toEqual([]);
    expect(reasons(qty, 4, {}, { oneOf: [1, 2, 3] })[0]).toMatch(/not one of 1, 2, 3/);
    expect(reasons(sku, null, {}, { notNull: true })).toEqual(['sku: is NULL; rules.sku.notNull requires a value']);
    expect(reasons(sku, null, {}, { pattern: 'x', min: 3 })).toEqual([]);
    expect(reasons(sku, '😀😀😀', {}, { maxLength: 3 })).toEqual([]);
    expect(reasons(sku, 'abcd', {}, { maxLength: 3 })).toEqual(['sku: "abcd" is 4 characters; rules.sku.maxLength allows at most 3']);
  });

  it('reports every rule a value breaks, but no rule after a type problem', () => {
    const sku = { name: 'sku', type: { kind: 'text', maxLength: 3 } as LogicalType };
    expect(reasons({ ...sku, type: { kind: 'text' } }, 'abcd', {}, { maxLength: 3, pattern: '^\\d+$' })).toHaveLength(2);
    expect(reasons(sku, 'abcd', {}, { maxLength: 3, pattern: '^\\d+$' })).toHaveLength(1);
  });

  it('refuses rules on columns that are not copied and patterns that do not parse', () => {
    const plan = tablePlan([{ name: 'sku', type: { kind: 'text' } }], { rules: { skew: { maxLength: 3 }, sku: { pattern: '(' } } });
    expect(ruleProblems(plan)).toEqual([
      'rules.skew: no copied column "skew"; the columns are sku',
      expect.stringMatching(/^rules.sku.pattern: "\(" is not a regular expression/),
    ]);
    expect(() => compileValidator(plan)).toThrow(FerryError);
  });
});

describe('row validation: keys and the hot path', () => {
  it('refuses a key seen earlier in the run, and can forget or not track', () => {
    const plan = tablePlan([{ name: 'id', type: int(8) }, { name: 'v', type: { kind: 'text' } }], { key: ['id'] });
    const v = compileValidator(plan);
    expect(v.check([42, 'a'])).toEqual([]);
    expect(v.check([43, 'b'])).toEqual([]);
    expect(v.check([42n, 'c'])).toEqual(['id 42 appears twice in the source']);
    expect(v.check(['42', 'c'])).toEqual(['id "42" appears twice in the source']);
    expect(v.keysSeen).toBe(2);
    v.resetKeys();
    expect(v.check([42, 'a'])).toEqual([]);
    const off = compileValidator(plan, { trackKeys: false });
    expect(off.check([42, 'a'])).toEqual([]);
    expect(off.check([42, 'a'])).toEqual([]);
    expect(off.keysSeen).toBe(0);
  });

  it('keeps composite keys apart whatever their text holds', () => {
    const plan = tablePlan([{ name: 'a', type: { kind: 'text' } }, { name: 'b', type: { kind: 'text' } }], { key: ['a', 'b'] });
    const v = compileValidator(plan);
    expect(v.check(['x:1', 'y'])).toEqual([]);
    expect(v.check(['x', '1:y'])).toEqual([]);
    expect(v.check(['x', '1:y'])).toEqual(['key (a, b) = ("x", "1:y") appears twice in the source']);
  });

  it('does not remember the key of a refused row', () => {
    const v = compileValidator(tablePlan([{ name: 'id', type: int(4) }, { name: 'q', type: int(1) }], { key: ['id'] }));
    expect(v.check([1, 1000])).toHaveLength(1);
    expect(v.check([1, 1])).toEqual([]);
  });

  it('returns the same frozen empty array for every valid row', () => {
    const v = compileValidator(ordersPlan());
    const rows = ordersRows(3);
    const a = v.check(rows[0]);
    const b = v.check(rows[1]);
    expect(a).toBe(b);
    expect(a).toHaveLength(0);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('a rate on 100,000 rows of the standard orders table (printed, not asserted; the bench measures speed)', () => {
    const rows = ordersRows(100_000);
    const measure = (name: string, run: () => number) => {
      run(); // warm up
      const start = process.hrtime.bigint();
      const invalid = run();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      expect(invalid).toBe(0);
      console.log(`validate ${name}: ${Math.round(rows.length / seconds).toLocaleString('en')} rows/s (${(seconds * 1000).toFixed(0)} ms for ${rows.length.toLocaleString('en')} rows)`);
    };
    measure('orders, keys not tracked', () => {
      const v = compileValidator(ordersPlan(), { trackKeys: false, ...validatorOptionsFor('postgres') });
      let invalid = 0;
      for (const row of rows) invalid += v.check(row).length;
      return invalid;
    });
    measure('orders, keys tracked', () => {
      const v = compileValidator(ordersPlan(), validatorOptionsFor('postgres'));
      let invalid = 0;
      for (const row of rows) invalid += v.check(row).length;
      return invalid;
    });
    measure('orders, with rules', () => {
      const plan = ordersPlan({ qty: { min: 1, max: 20 }, sku: { pattern: '^SKU-\\d{6}$' }, price: { min: '0', max: '100000' } });
      const v = compileValidator(plan, { trackKeys: false });
      let invalid = 0;
      for (const row of rows) invalid += v.check(row).length;
      return invalid;
    });
    // The same checks as a zod schema per row, for comparison (not what dbferry runs).
    const zodRow = z.tuple([
      z.union([z.int(), z.bigint()]),
      z.int().min(-2147483648).max(2147483647),
      z.string().max(32),
      z.int().min(-2147483648).max(2147483647),
      z.string().regex(/^-?\d{1,10}(\.\d{1,2})?$/),
      z.string().nullable(),
      z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?$/),
      z.boolean(),
    ]);
    measure('orders as a zod tuple (for comparison)', () => {
      let invalid = 0;
      for (const row of rows) if (!zodRow.safeParse(row).success) invalid++;
      return invalid;
    });

    const shuffled = Array.from({ length: 1_000_000 }, (_, i) => i + 1);
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const keyCases: Array<[string, LogicalType, (i: number) => Value]> = [
      ['integer keys in order', int(8), (i) => i],
      ['integer keys in order, every other id', int(8), (i) => 2 * i],
      ['integer keys out of order', int(8), (i) => shuffled[i]],
      ['text keys', { kind: 'text' }, (i) => `SKU-${i}`],
    ];
    for (const [name, type, key] of keyCases) {
      const before = heapUsed();
      const start = process.hrtime.bigint();
      const keys = new KeyTracker([type]);
      for (let i = 0; i < 1_000_000; i++) keys.add([key(i)]);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // Memory is only worth printing after a collection (node --expose-gc).
      const bytes = hasGc() ? `about ${Math.round((heapUsed() - before) / keys.size)} bytes a key, ` : '';
      console.log(`key tracking, ${name}: ${bytes}${ms.toFixed(0)} ms for ${keys.size.toLocaleString('en')} keys`);
    }
  });
});

function hasGc(): boolean {
  return typeof (globalThis as { gc?: () => void }).gc === 'function';
}

/** The JS heap and the memory of typed arrays, after a collection when --expose-gc allows one. */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** The standard orders table of the benchmark (scripts/bench/workload.js), PostgreSQL to PostgreSQL. */
function ordersPlan(rules?: Record<string, ColumnRule>) {
  return tablePlan(
    [
      { name: 'id', type: int(8), nativeType: 'bigint', nullable: false },
      { name: 'customer_id', type: int(4), nativeType: 'integer', nullable: false },
      { name: 'sku', type: { kind: 'text', maxLength: 32 }, nativeType: 'character varying(32)', nullable: false },
      { name: 'qty', type: int(4), nativeType: 'integer', nullable: false },
      { name: 'price', type: { kind: 'decimal', precision: 12, scale: 2 }, nativeType: 'numeric(12,2)', nullable: false },
      { name: 'note', type: { kind: 'text' }, nativeType: 'text', nullable: true },
      { name: 'created_at', type: { kind: 'timestamp', withTimeZone: false }, nativeType: 'timestamp without time zone', nullable: false },
      { name: 'active', type: { kind: 'boolean' }, nativeType: 'boolean', nullable: false },
    ],
    { key: ['id'], rules },
  );
}

function ordersRows(n: number): Row[] {
  const rows: Row[] = new Array(n);
  const start = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= n; i++) {
    const cents = (i * 37) % 1_000_000;
    const note = i % 10 === 0 ? null : i % 7 === 0 ? `Größe — café ✓ 日本語 ${i}` : `note ${i}`;
    const at = new Date(start + i * 37_000).toISOString().replace('T', ' ').slice(0, 19);
    rows[i - 1] = [i, ((i * 7919) % 50_000) + 1, `SKU-${String((i * 31) % 100_000).padStart(6, '0')}`, (i % 20) + 1, `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`, note, at, i % 3 !== 0];
  }
  return rows;
}
