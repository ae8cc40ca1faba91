/**
 * The row text PostgreSQL hashes across engines (read.ts rowTextSql) prints
 * every value as MariaDB and rowHash.ts do, value by value: one row per bucket,
 * so a single value printed differently fails its row. PostgreSQL gives a NOT
 * NULL column's value to concat_ws as it is (its type's output function
 * prints it) and a nullable one as text with its '-', dates by date_out
 * (DateStyle ISO) and not to_char, the UTF-8 of a UTF8 database by textsend,
 * and the digest's first 60 bits by get_byte: each path is here with the
 * values where a wrong variant would differ (year boundaries and years before
 * 1000, fractions of every length and none, timestamptz given at another
 * offset, numerics of 38 digits and tiny ones, -0.0001, extreme bigints,
 * multibyte and 4-byte characters, '|' ':' '-' inside text, empty text and
 * bytes, NULL beside each). Then again with the scan in parallel workers, and
 * in a LATIN1 database, whose workers' textsend would give Latin-1 bytes
 * (its text goes through convert_to). Key hashes (keyHash.ts: dates by
 * date_out, the digest's first 60 bits from its first 8 bytes) likewise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { mysqlDialect } from '../../src/main/engine/dialects/mysql/index.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import type { BucketHash, BucketRequest, Session } from '../../src/main/engine/dialects/dialect.js';
import { bucketHashesInProcess, hashKinds, type HashKind } from '../../src/main/engine/pipeline/rowHash.js';
import type { Column } from '../../src/main/engine/types.js';
import { keyHashSql as pgKeyHashSql } from '../../src/main/engine/dialects/postgres/keyHash.js';
import { keyHashSql as myKeyHashSql } from '../../src/main/engine/dialects/mysql/keyHash.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';
import { PG_ADMIN_URL, createPgDatabase, withPgAdmin, type PgTestDatabase } from '../helpers/postgres.js';

const DATES = ['0001-01-01', '0999-12-31', '1000-01-01', '1969-12-31', '1970-01-01', '1999-12-31', '2000-01-01', '2000-02-29', '2024-12-31', '9999-12-31'];
const FRACTIONS = ['', '.1', '.5', '.12', '.123', '.1234', '.12345', '.123456', '.000001', '.999999', '.100000', '.010'];
const TIMES = ['00:00:00', '23:59:59.999999', '12:30:00.5', '01:02:03.000100', '10:00:00.10'];
const BIG = ['0.0000000000', '0.0000000001', '-0.0000000001', '1.5000000000', '-12345678901234567890123456.7890123456', '9999999999999999999999999999.9999999999', '-1'];
const DEC = ['1.5000', '100.0000', '-0.0001', '0.0000', '0.1000', '-42.4200', '12345678901234.5678'];
const INTS = ['-9223372036854775808', '9223372036854775807', '0', '-1', '42'];
const TEXTS = ['', 'a|b', '-', ':', '3:abc', '日本語', '😀 emoji 👍🏽', 'Größe — café ✓', '  spaces  ', 'tab\there', "quote'", 'back\\slash', 'a|-|b'];
const LATIN1 = ['', 'a|b', '-', 'Größe café', 'ÿ£§', 'Ænæs ø', 'plain'];
const ROWS = 60;

/** Row i's values (PostgreSQL's column order below); texts of `texts`. */
function rowOf(i: number, texts: string[]): unknown[] {
  const at = (list: string[], k = 0) => list[(i + k) % list.length];
  const stamp = `${at(DATES, 3)} ${String(i % 24).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}:${String((i * 13) % 60).padStart(2, '0')}${at(FRACTIONS)}`;
  return [
    i,
    at(DATES),
    i % 4 === 0 ? null : at(DATES, 5),
    stamp,
    i % 5 === 0 ? null : stamp,
    stamp,
    at(TIMES),
    at(BIG),
    i % 6 === 0 ? null : at(BIG, 2),
    i % 7 === 0 ? null : at(DEC),
    i % 2 === 0,
    i % 3 === 0 ? null : i % 3 === 1,
    at(INTS),
    i % 4 === 1 ? null : (i * 37) % 1000 - 500,
    at(texts),
    i % 5 === 2 ? null : at(texts, 4),
    i % 8 === 0 ? null : i % 8 === 1 ? Buffer.alloc(0) : Buffer.from([i, 0, 255 - i]),
  ];
}

/**
 * Row values for PostgreSQL: the timestamptz as the same instant at another
 * offset, +05:30 or -05:30 (the same day), where MariaDB keeps its UTC wall time.
 */
function pgRowOf(r: unknown[]): unknown[] {
  const stamp = String(r[5]);
  const hour = Number(stamp.slice(11, 13));
  const minutes = hour < 12 ? 330 : -330;
  const local = new Date(new Date(`${stamp.slice(0, 10)}T${stamp.slice(11, 19)}Z`).getTime() + minutes * 60_000).toISOString();
  const out = [...r];
  out[5] = `${local.slice(0, 10)} ${local.slice(11, 19)}${stamp.slice(19)}${minutes > 0 ? '+05:30' : '-05:30'}`;
  return out;
}

const PG_TABLE = `CREATE TABLE t (id int PRIMARY KEY, d date NOT NULL, dn date, ts timestamp(6) NOT NULL, tsn timestamp(6),
  tz timestamptz NOT NULL, tm time(6) NOT NULL, big numeric(38,10) NOT NULL, bign numeric(38,10), dc numeric(20,4),
  b boolean NOT NULL, bn boolean, n bigint NOT NULL, nn int, s text NOT NULL, sn varchar(40), bin bytea)`;
const MY_TABLE = `CREATE TABLE t (id int NOT NULL PRIMARY KEY, d date NOT NULL, dn date NULL, ts datetime(6) NOT NULL, tsn datetime(6) NULL,
  tz datetime(6) NOT NULL, tm time(6) NOT NULL, big decimal(38,10) NOT NULL, bign decimal(38,10) NULL, dc decimal(22,6) NULL,
  b tinyint(1) NOT NULL, bn tinyint(1) NULL, n bigint NOT NULL, nn int NULL, s text NOT NULL, sn varchar(40) NULL, bin varbinary(8) NULL)
  ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
const KINDS: HashKind[] = ['int', 'date', 'date', 'ts', 'ts', 'ts', 'time', 'decx', 'decx', 'dec', 'int', 'int', 'int', 'int', 'text', 'text', 'bytes'];

interface Side {
  pgDb: PgTestDatabase;
  myDb: MysqlTestDatabase;
  pgc: pg.Client;
  pgs: Session;
  mys: Session;
  pgCols: Column[];
  myCols: Column[];
  kinds: HashKind[];
}

/** The same rows in a PostgreSQL database (made by `create`) and a MariaDB one; timestamptz given at +05:30 in PostgreSQL. */
async function setUp(pgDb: PgTestDatabase, texts: string[]): Promise<Side> {
  const myDb = await createMysqlDatabase('dbferry_pghash');
  const pgc = new pg.Client({ connectionString: pgDb.url });
  await pgc.connect();
  await pgc.query(PG_TABLE);
  await myDb.admin.query(MY_TABLE);
  for (let i = 1; i <= ROWS; i++) {
    const r = rowOf(i, texts);
    await pgc.query(`INSERT INTO t VALUES (${r.map((_v, k) => `$${k + 1}`).join(', ')})`, pgRowOf(r));
    await myDb.admin.query(`INSERT INTO t VALUES (${r.map(() => '?').join(', ')})`, r.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
  }
  const opts = { baseDir: process.cwd(), role: 'source' as const, statementTimeoutMs: 60_000 };
  const pgs = await postgresDialect.open(parseConnectionUrl(pgDb.url), opts);
  const mys = await mysqlDialect.open(parseConnectionUrl(myDb.url), { ...opts, role: 'target' });
  const pgCols = (await pgs.describeTable({ name: 't' }))!.columns;
  const myCols = (await mys.describeTable({ name: 't' }))!.columns;
  const k = hashKinds(pgCols, myCols, pgs, mys);
  if (!('kinds' in k)) throw new Error(k.reason);
  return { pgDb, myDb, pgc, pgs, mys, pgCols, myCols, kinds: k.kinds };
}

async function tearDown(side: Side | undefined): Promise<void> {
  if (!side) return;
  await side.pgs.close();
  await side.mys.close();
  await side.pgc.end();
  await Promise.all([side.pgDb.drop(), side.myDb.drop()]);
}

/** One row per bucket: the rows whose hash differs between the two servers or the in-process hash. */
async function rowsHashedApart(side: Side): Promise<unknown[]> {
  const request = (columns: Column[]): BucketRequest => ({ table: { name: 't' }, columns, orderBy: ['id'], batchRows: 1000, kinds: side.kinds, buckets: { lo: 1n, width: 1n, narrow: true } });
  const byBucket = (list: BucketHash[]) => new Map(list.map((b) => [b.bucket, `${b.rows}/${b.hash}`]));
  const [a, b, c] = await Promise.all([side.pgs.bucketHashes!(request(side.pgCols)), side.mys.bucketHashes!(request(side.myCols)), bucketHashesInProcess(side.mys, request(side.myCols))]);
  expect(a.length).toBe(ROWS);
  const [x, y, z] = [byBucket(a), byBucket(b), byBucket(c)];
  const apart = [...x.keys()].filter((id) => x.get(id) !== y.get(id) || x.get(id) !== z.get(id));
  // The values of each row hashed apart, for a readable failure.
  return Promise.all(apart.map(async (id) => (await side.pgc.query('SELECT * FROM t WHERE id = $1', [Number(id) + 1])).rows[0]));
}

/** Parallel workers for every scan of the database (new sessions): a worker's client_encoding is the database's. */
async function forceParallel(pgDb: PgTestDatabase): Promise<void> {
  const major = await withPgAdmin(async (c) => Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0].v) / 10000);
  const force = major >= 16 ? 'debug_parallel_query' : 'force_parallel_mode';
  for (const set of [`${force} = regress`, 'parallel_leader_participation = off', 'parallel_setup_cost = 0', 'parallel_tuple_cost = 0', 'min_parallel_table_scan_size = 0']) {
    await withPgAdmin((c) => c.query(`ALTER DATABASE "${pgDb.name}" SET ${set}`));
  }
}

async function workersLaunched(pgDb: PgTestDatabase): Promise<number> {
  const c = new pg.Client({ connectionString: pgDb.url });
  await c.connect();
  try {
    const plan = (await c.query<{ 'QUERY PLAN': string }>('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT sha256(textsend(s)) FROM t')).rows.map((r) => r['QUERY PLAN']).join('\n');
    return Number(/Workers Launched: (\d+)/.exec(plan)?.[1] ?? 0);
  } finally {
    await c.end();
  }
}

describe('the row text PostgreSQL hashes, value by value against MariaDB and rowHash.ts', () => {
  let utf8: Side | undefined;
  let latin1: Side | undefined;

  beforeAll(async () => {
    utf8 = await setUp(await createPgDatabase('dbferry_pghash'), TEXTS);
    const name = `dbferry_pghash_latin1_${Date.now().toString(36)}`;
    await withPgAdmin((c) => c.query(`CREATE DATABASE "${name}" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`));
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    latin1 = await setUp({ url: url.toString(), name, drop: () => withPgAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) }, LATIN1);
  }, 180_000);

  afterAll(async () => {
    await tearDown(utf8);
    await tearDown(latin1);
  });

  it('takes the kinds this test means', () => {
    expect(utf8!.kinds).toEqual(KINDS);
    expect(latin1!.kinds).toEqual(KINDS);
  });

  it('hashes every row alike in a UTF8 database', async () => {
    expect(await rowsHashedApart(utf8!)).toEqual([]);
  });

  it('hashes every row alike in a LATIN1 database', async () => {
    expect(await rowsHashedApart(latin1!)).toEqual([]);
  });

  it('hashes every row alike when parallel workers print and hash the rows, in both databases', async () => {
    for (const side of [utf8!, latin1!]) {
      await forceParallel(side.pgDb);
      // Settings of the database reach new sessions: a session of its own for the hashes.
      await side.pgs.close();
      side.pgs = await postgresDialect.open(parseConnectionUrl(side.pgDb.url), { baseDir: process.cwd(), role: 'source', statementTimeoutMs: 60_000 });
      expect(await workersLaunched(side.pgDb)).toBeGreaterThan(0);
      expect(await rowsHashedApart(side)).toEqual([]);
    }
  });

  it('tells apart one changed value in any column, NULL from a value, and a value from NULL', async () => {
    const side = utf8!;
    const changes = [
      "d = d + 1", "dn = NULL", "dn = DATE '2000-01-01'", "ts = ts + INTERVAL '1 microsecond'", 'tsn = NULL', "tz = tz - INTERVAL '1 second'",
      "tm = tm + INTERVAL '1 microsecond'", 'big = big + 0.0000000001', 'bign = NULL', 'dc = dc * 10', 'b = NOT b', 'bn = NOT bn', 'bn = NULL',
      'n = n + 1', "s = s || '|'", "sn = ''", "bin = '\\x'",
    ];
    for (const change of changes) {
      await side.pgc.query(`UPDATE t SET ${change} WHERE id = 13`);
      try {
        // Row 13 is printed otherwise in PostgreSQL alone (its values that turn NULL are not NULL).
        expect((await rowsHashedApart(side)).map((r) => (r as { id: number }).id), change).toEqual([13]);
      } finally {
        const r = rowOf(13, TEXTS);
        await side.pgc.query('DELETE FROM t WHERE id = 13');
        await side.pgc.query(`INSERT INTO t VALUES (${r.map((_v, k) => `$${k + 1}`).join(', ')})`, pgRowOf(r));
      }
    }
    expect(await rowsHashedApart(side)).toEqual([]);
  });

  it('hashes keys of dates, text, integers and decimals alike on both servers, one column or several', async () => {
    for (const side of [utf8!, latin1!]) {
      const col = (name: string, cols: Column[]) => cols.find((c) => c.name === name)!;
      const keys: Array<[string[], HashKind[]]> = [[['d'], ['date']], [['d', 's'], ['date', 'text']], [['dn', 'sn', 'n'], ['date', 'text', 'int']], [['big', 'id'], ['decx', 'int']]];
      for (const [names, kinds] of keys) {
        const hash = { fn: 'sha256' as const, kinds };
        const a = await side.pgc.query<{ id: number; h: string }>(`SELECT id, ${pgKeyHashSql(names.map((n) => col(n, side.pgCols)), hash, 's.')}::text AS h FROM t AS s ORDER BY id`);
        const [b] = await side.myDb.admin.query(`SELECT id, CAST(${myKeyHashSql(names.map((n) => col(n, side.myCols)), hash)} AS CHAR) AS h FROM t ORDER BY id`);
        expect(a.rows.map((r) => `${r.id}:${r.h}`), names.join(',')).toEqual((b as Array<{ id: number; h: string }>).map((r) => `${r.id}:${r.h}`));
      }
    }
  });
});
