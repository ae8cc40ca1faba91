/**
 * Range hashes between two PostgreSQL databases hash each value with its
 * type's own hash function (no row text, no record built): equal rows hash
 * alike in both databases, an enum by its label (its OID differs from one
 * database to the other), and each kind of change is found in its bucket
 * alone: a value swapped between two rows of one bucket, a value moved to
 * another column, NULL for a value, a timestamptz by a microsecond, a
 * boolean, bytes, a decimal's cent, a case-only text change, a deleted row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import type { BucketHash, BucketRequest, Session } from '../../src/main/engine/dialects/dialect.js';
import type { Column } from '../../src/main/engine/types.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import { createPgDatabase, pgExec, type PgTestDatabase } from '../helpers/postgres.js';

const ROWS = 400;
const WIDTH = 8n;
const open = (url: string) => postgresDialect.open(parseConnectionUrl(url), { baseDir: '.', role: 'source' });

let a: PgTestDatabase;
let b: PgTestDatabase;
let sa: Session;
let sb: Session;
let ca: Column[];
let cb: Column[];

const table = `CREATE TABLE t (id int PRIMARY KEY, n bigint NOT NULL, m bigint, small smallint, name varchar(40) NOT NULL, note text,
  mood mood, at timestamptz, day date, flag boolean, bin bytea, price numeric(10,2), uid uuid, clock time)`;
const fill = `INSERT INTO t SELECT i, i * 3, CASE WHEN i % 5 = 0 THEN NULL ELSE i * 3 END, (i % 100)::smallint, 'name ' || i,
  CASE WHEN i % 4 = 0 THEN NULL ELSE 'n' || i END, (ARRAY['sad', 'ok', 'happy'])[i % 3 + 1]::mood,
  timestamptz '2024-01-01 00:00:00+00' + i * interval '1.5 second', date '2023-12-01' + i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 2 = 0 END,
  CASE WHEN i % 9 = 0 THEN NULL ELSE decode(lpad(to_hex(i), 4, '0'), 'hex') END, i / 4.0, md5(i::text)::uuid, time '10:00' + i * interval '1 second'
  FROM generate_series(1, ${ROWS}) AS i`;

const request = (columns: Column[]): BucketRequest => ({
  table: { name: 't' },
  columns,
  orderBy: ['id'],
  batchRows: 1,
  kinds: columns.map(() => 'native'),
  buckets: { lo: 1n, width: WIDTH, narrow: true },
});
const asMap = (hs: BucketHash[]) => new Map(hs.map((h) => [h.bucket.toString(), `${h.rows}:${h.hash}`]));

async function differing(): Promise<bigint[]> {
  const [x, y] = (await Promise.all([sa.bucketHashes!(request(ca)), sb.bucketHashes!(request(cb))])).map(asMap);
  return [...new Set([...x.keys(), ...y.keys()])].filter((k) => x.get(k) !== y.get(k)).map(BigInt).sort((p, q) => Number(p - q));
}

beforeAll(async () => {
  [a, b] = await Promise.all([createPgDatabase('dbferry_vhash_a'), createPgDatabase('dbferry_vhash_b')]);
  // The same labels in both, under other OIDs: b's type has a label of its own first, and another type before it.
  await pgExec(a.url, `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); ${table}; ${fill}`);
  await pgExec(b.url, `CREATE TYPE other AS ENUM ('x'); CREATE TYPE mood AS ENUM ('unused', 'sad', 'ok', 'happy'); ${table}; ${fill}`);
  [sa, sb] = await Promise.all([open(a.url), open(b.url)]);
  ca = (await sa.describeTable({ name: 't' }))!.columns;
  cb = (await sb.describeTable({ name: 't' }))!.columns;
}, 60_000);

afterAll(async () => {
  await sa?.close();
  await sb?.close();
  await Promise.all([a?.drop(), b?.drop()]);
});

describe('PostgreSQL range hashes by value', () => {
  it('hashes equal rows alike in two databases, enums included', async () => {
    const [x, y] = await Promise.all([sa.bucketHashes!(request(ca)), sb.bucketHashes!(request(cb))]);
    expect(x.length).toBe(ROWS / Number(WIDTH));
    expect(asMap(y)).toEqual(asMap(x));
  });

  const changes: Array<[string, number[], string]> = [
    ['a value swapped between two rows of one bucket', [10, 11], 'UPDATE t SET n = CASE id WHEN 10 THEN 33 ELSE 30 END WHERE id IN (10, 11)'],
    ['a value moved to another column of the row', [21], 'UPDATE t SET m = NULL WHERE id = 21; UPDATE t SET m = 63, n = 0 WHERE id = 21'],
    ['NULL for a value', [33], 'UPDATE t SET note = NULL WHERE id = 33'],
    ['a value for NULL', [40], "UPDATE t SET note = 'n40' WHERE id = 40"],
    ["a timestamptz's microsecond", [41], "UPDATE t SET at = at + interval '1 microsecond' WHERE id = 41"],
    ['a boolean', [50], 'UPDATE t SET flag = NOT flag WHERE id = 50'],
    ['bytes', [52], "UPDATE t SET bin = '\\x00' WHERE id = 52"],
    ["a decimal's cent", [61], 'UPDATE t SET price = price + 0.01 WHERE id = 61'],
    ['a case-only text change', [70], "UPDATE t SET name = 'NAME 70' WHERE id = 70"],
    ['an enum label', [80], "UPDATE t SET mood = CASE WHEN mood = 'sad' THEN 'ok'::mood ELSE 'sad'::mood END WHERE id = 80"],
    ['a date', [90], 'UPDATE t SET day = day + 1 WHERE id = 90'],
    ['a smallint', [91], 'UPDATE t SET small = small + 1 WHERE id = 91'],
    ['a time', [92], "UPDATE t SET clock = clock + interval '1 microsecond' WHERE id = 92"],
    ['a uuid', [93], "UPDATE t SET uid = '00000000-0000-0000-0000-000000000000' WHERE id = 93"],
    ['a deleted row', [99], 'DELETE FROM t WHERE id = 99'],
  ];
  it.each(changes)('finds %s in its bucket alone', async (_what, ids, sql) => {
    await pgExec(b.url, `CREATE TABLE saved AS SELECT * FROM t WHERE id IN (${ids.join(', ')}); ${sql}`);
    try {
      expect(await differing()).toEqual([...new Set(ids.map((id) => BigInt(id - 1) / WIDTH))]);
    } finally {
      await pgExec(b.url, `DELETE FROM t WHERE id IN (${ids.join(', ')}); INSERT INTO t SELECT * FROM saved; DROP TABLE saved`);
    }
    expect(await differing()).toEqual([]);
  });
});
