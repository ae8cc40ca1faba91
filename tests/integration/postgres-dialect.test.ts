import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { FerryError } from '../../src/main/engine/errors.js';
import type { Session } from '../../src/main/engine/dialects/dialect.js';
import type { Column, Row, TableInfo } from '../../src/main/engine/types.js';
import { postgresDialect } from '../../src/main/engine/dialects/postgres/index.js';
import { exportSnapshot, joinSnapshot } from '../../src/main/engine/dialects/postgres/snapshot.js';
import { CopyTextParser, escapeCopyField, SHAPE_BOOL, SHAPE_INT, SHAPE_OTHER, unescapeCopyText } from '../../src/main/engine/dialects/postgres/copyText.js';
import { decoderFor } from '../../src/main/engine/dialects/postgres/types.js';
import { createPgDatabase, pgExec, PG_ADMIN_URL, type PgTestDatabase } from '../helpers/postgres.js';

const open = (url: string, extra: { statementTimeoutMs?: number; schema?: string } = {}) =>
  postgresDialect.open(parseConnectionUrl(url), { baseDir: '.', role: 'source', ...extra });

async function readAll(session: Session, req: Partial<Parameters<Session['readRows']>[0]> & { table: { schema?: string; name: string } }, columns: Column[]): Promise<Row[][]> {
  const batches: Row[][] = [];
  for await (const batch of session.readRows({ columns, orderBy: [], batchRows: 1000, ...req })) batches.push(batch);
  return batches;
}

async function failure(p: Promise<unknown>): Promise<FerryError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error('expected a failure');
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const NASTY_TEXT = 'tab\there\nnew line\\back slash\r\ncrlf 😀 ünïcödé \\N \\x41 \u0001 end\\';

const SCHEMA_SQL = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TABLE "Order" (
    "select" integer PRIMARY KEY,
    big bigint,
    num numeric(38,10),
    f8 double precision,
    f4 real,
    flag boolean,
    txt text,
    "MixedCase" varchar(20) UNIQUE,
    bin bytea,
    d date,
    t time(6),
    ts timestamp(6),
    tstz timestamptz,
    j json,
    jb jsonb,
    u uuid,
    m mood,
    arr integer[],
    iv interval
  );
  INSERT INTO "Order" VALUES
   (1, 9223372036854775807, 1234567890123456789012345678.0123456789, 0.1, 1.5, true,
    ${pg.escapeLiteral(NASTY_TEXT)}, '', '\\x${ALL_BYTES.toString('hex')}', '2024-02-29', '23:59:59.999999',
    '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.5+02', '{"b": 1,  "a": [1,2]}', '{"b": 1, "a": 2}',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'happy', '{1,2,3}', '1 day 02:00:00'),
   (2, -9223372036854775808, -0.0000000001, 1e-300, NULL, false, NULL, NULL, '\\x', '0001-01-01', '00:00:00',
    '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00', 'null', '[]', NULL, 'sad', NULL, NULL),
   (3, 9007199254740993, 0, 'Infinity', 'NaN', NULL, '\\N', 'x\ty', '\\x5c4e', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}', NULL),
   (4, 9007199254740991, 99999999999999999999999999.9999999999, '-0', 3.4028235e38, true, 'a\\tb', 'Ω', '\\x00', '9999-12-31', '12:00:00.5',
    '2000-02-29 12:00:00.000001', '2038-01-19 03:14:08+00', '"x"', '"x"', '00000000-0000-0000-0000-000000000000', 'ok', '{NULL}', '-1 mons')
`;

const EXPECTED: Row[] = [
  [1, 9223372036854775807n, '1234567890123456789012345678.0123456789', 0.1, 1.5, true, NASTY_TEXT, '', ALL_BYTES,
    '2024-02-29', '23:59:59.999999', '2024-01-02 03:04:05.123456', '2024-01-02 01:04:05.5+00:00',
    '{"b": 1,  "a": [1,2]}', '{"a": 2, "b": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '{1,2,3}', '1 day 02:00:00'],
  [2, -9223372036854775808n, '-0.0000000001', 1e-300, null, false, null, null, Buffer.alloc(0), '0001-01-01', '00:00:00',
    '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00:00', 'null', '[]', null, 'sad', null, null],
  [3, 9007199254740993n, '0.0000000000', Infinity, NaN, null, '\\N', 'x\ty', Buffer.from('\\N'), null, null, null, null, null, null, null, null, '{}', null],
  [4, 9007199254740991, '99999999999999999999999999.9999999999', -0, 3.4028235e38, true, 'a\\tb', 'Ω', Buffer.from([0]), '9999-12-31', '12:00:00.5',
    '2000-02-29 12:00:00.000001', '2038-01-19 03:14:08+00:00', '"x"', '"x"', '00000000-0000-0000-0000-000000000000', 'ok', '{NULL}', '-1 mons'],
];

/** toEqual treats -0 and 0 alike for numbers inside arrays only sometimes; compare exactly. */
function expectRowsExact(actual: Row[], expected: Row[]): void {
  expect(actual).toEqual(expected);
  actual.forEach((row, r) =>
    row.forEach((v, c) => {
      if (typeof v === 'number') expect(Object.is(v, expected[r][c]), `row ${r} col ${c}: ${v} vs ${String(expected[r][c])}`).toBe(true);
      else expect(typeof v).toBe(typeof expected[r][c]);
    }),
  );
}

describe('postgres dialect', () => {
  let db: PgTestDatabase;
  let session: Session;
  let info: TableInfo;

  beforeAll(async () => {
    db = await createPgDatabase();
    await pgExec(db.url, SCHEMA_SQL);
    session = await open(db.url);
    info = (await session.describeTable(session.tableName('"Order"')))!;
  });

  afterAll(async () => {
    await session?.close();
    await db?.drop();
  });

  it('reports the server version and capabilities', () => {
    expect(session.serverVersion).toMatch(/^PostgreSQL \d+\.\d+$/);
    expect(postgresDialect.capabilities).toEqual({ transactionalDdl: true, schemas: true, maxIdentifierLength: 63, truncatesIdentifiers: true, promoteStaging: true, promoteReshapes: true, stagingInFinalShape: true, keyAfterLoad: true, concurrentWriters: true, splitHashes: true });
  });

  it('resolves table names without changing case', () => {
    expect(session.tableName('orders')).toEqual({ schema: 'public', name: 'orders' });
    expect(session.tableName('Order')).toEqual({ schema: 'public', name: 'Order' });
    expect(session.tableName('sales.orders')).toEqual({ schema: 'sales', name: 'orders' });
    expect(session.tableName('"Mixed.Case"')).toEqual({ schema: 'public', name: 'Mixed.Case' });
    expect(session.tableName('"My ""Schema"""."T"')).toEqual({ schema: 'My "Schema"', name: 'T' });
    expect(() => session.tableName('a.b.c')).toThrow(FerryError);
    expect(session.quoteTable({ name: 'select' })).toBe('"public"."select"');
  });

  it('lists and describes tables from the catalog', async () => {
    await pgExec(db.url, `CREATE TABLE child (id int PRIMARY KEY, order_ref int REFERENCES "Order"("select"));
      CREATE UNIQUE INDEX child_u ON child (order_ref, id); CREATE VIEW v AS SELECT 1 AS x`);
    expect(await session.listTables()).toEqual([
      { schema: 'public', name: 'Order' },
      { schema: 'public', name: 'child' },
    ]);
    expect(await session.describeTable({ name: 'missing' })).toBeUndefined();
    expect(info.primaryKey).toEqual(['select']);
    expect(info.uniqueKeys).toEqual([['MixedCase']]);
    expect(info.columns.map((c) => [c.name, c.nativeType, c.type])).toEqual([
      ['select', 'integer', { kind: 'integer', bytes: 4 }],
      ['big', 'bigint', { kind: 'integer', bytes: 8 }],
      ['num', 'numeric(38,10)', { kind: 'decimal', precision: 38, scale: 10 }],
      ['f8', 'double precision', { kind: 'float', bytes: 8 }],
      ['f4', 'real', { kind: 'float', bytes: 4 }],
      ['flag', 'boolean', { kind: 'boolean' }],
      ['txt', 'text', { kind: 'text' }],
      ['MixedCase', 'character varying(20)', { kind: 'text', maxLength: 20 }],
      ['bin', 'bytea', { kind: 'binary' }],
      ['d', 'date', { kind: 'date' }],
      ['t', 'time(6) without time zone', { kind: 'time', precision: 6 }],
      ['ts', 'timestamp(6) without time zone', { kind: 'timestamp', withTimeZone: false, precision: 6 }],
      ['tstz', 'timestamp with time zone', { kind: 'timestamp', withTimeZone: true }],
      ['j', 'json', { kind: 'json' }],
      ['jb', 'jsonb', { kind: 'json', parsed: true }],
      ['u', 'uuid', { kind: 'uuid' }],
      ['m', 'mood', { kind: 'enum', values: ['sad', 'ok', 'happy'] }],
      ['arr', 'integer[]', { kind: 'text' }],
      ['iv', 'interval', { kind: 'text' }],
    ]);
    expect(info.columns[0].nullable).toBe(false);
    expect(info.columns[1].nullable).toBe(true);
    expect(info.rowEstimate).toBeUndefined(); // never analyzed
    const child = (await session.describeTable({ name: 'child' }))!;
    expect(child.foreignKeys).toEqual([{ columns: ['order_ref'], references: { schema: 'public', name: 'Order' }, referencedColumns: ['select'] }]);
    expect(child.uniqueKeys).toEqual([['order_ref', 'id']]);
    await session.execute('ANALYZE "Order"');
    expect((await session.describeTable({ name: 'Order' }))!.rowEstimate).toBe(4);
  });

  it('reads every type as its exact canonical value', async () => {
    const batches = await readAll(session, { table: info.name, orderBy: ['select'] }, info.columns);
    expectRowsExact(batches.flat(), EXPECTED);
  });

  it('writes canonical values with COPY and reads back the same', async () => {
    const target = { name: 'Target "copy"' };
    await session.createTable({ name: target, columns: info.columns.map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: c.nullable })), primaryKey: ['select'] });
    await session.insertRows(target, info.columns, EXPECTED);
    const back = (await readAll(session, { table: target, orderBy: ['select'] }, info.columns)).flat();
    expectRowsExact(back, EXPECTED);
    // and the server agrees, value by value, in its own text form
    const digest = async (t: string) => (await session.query(`SELECT md5(string_agg(x::text, '|' ORDER BY "select")) FROM ${t} x`)).rows[0][0];
    expect(await digest('"Order"')).toBe(await digest('"Target ""copy"""'));
    await session.dropTable(target);
    await session.dropTable(target); // IF EXISTS
  });

  it('refuses NUL characters in text, naming the column, and stays usable', async () => {
    await session.execute('CREATE TABLE nul_test (id int, "Note" text)');
    const cols = (await session.describeTable({ name: 'nul_test' }))!.columns;
    const err = await failure(session.insertRows({ name: 'nul_test' }, cols, [[1, 'ok'], [2, 'bad\0value']]));
    expect(err.kind).toBe('data');
    expect(err.message).toContain('"Note"');
    expect(err.message).toContain('NUL');
    expect((await session.query('SELECT count(*) FROM nul_test')).rows).toEqual([[0]]);
  });

  it('reads keyset ranges with after (exclusive) and through (inclusive), in batches', async () => {
    await session.execute(`CREATE TABLE k (a int, b text, v bigint, PRIMARY KEY (a, b))`);
    await session.execute(`INSERT INTO k SELECT i / 3, 'k' || (i % 3) || '''"\\', i FROM generate_series(0, 29) i`);
    const cols = (await session.describeTable({ name: 'k' }))!.columns;
    const single = await readAll(session, { table: { name: 'k' }, orderBy: ['a', 'b'], batchRows: 4, after: [2, `k2'"\\`], through: [5, `k0'"\\`] }, [cols[0], cols[1], cols[2]]);
    // (2, k2) is row 8, (5, k0) is row 15
    expect(single.map((b) => b.length)).toEqual([4, 3]);
    expect(single.flat().map((r) => r[2])).toEqual([9, 10, 11, 12, 13, 14, 15]);
    const where = await readAll(session, { table: { name: 'k' }, orderBy: ['a', 'b'], where: 'v % 2 = 0', after: [8, 'k0'] }, [cols[2]]);
    expect(where.flat()).toEqual([[24], [26], [28]]);
    // a bound that tries to break out of its literal is just a value
    const evil = await readAll(session, { table: { name: 'k' }, orderBy: ['a', 'b'], after: [9, "x') OR true; --"] }, [cols[2]]);
    expect(evil.flat()).toEqual([]);
    expect(await session.countRows({ name: 'k' })).toBe(30);
    expect(await session.countRows({ name: 'k' }, 'a < 2')).toBe(6);
  });

  it('sums up rows on the server (verify): equal for equal rows in any order, different for one changed value; a failure leaves the snapshot usable', async () => {
    await session.execute("CREATE TABLE fp_a AS SELECT i AS id, md5(i::text) AS s, CASE WHEN i % 5 = 0 THEN NULL ELSE i / 7.0 END AS n FROM generate_series(1, 5000) i");
    await session.execute('CREATE TABLE fp_b AS SELECT * FROM fp_a ORDER BY id DESC');
    const cols = (await session.describeTable({ name: 'fp_a' }))!.columns;
    const sum = (name: string, extra: Partial<Parameters<NonNullable<Session['fingerprint']>>[0]> = {}) =>
      session.fingerprint!({ table: { name }, columns: cols, orderBy: ['id'], batchRows: 1, ...extra });
    const a = await sum('fp_a');
    expect(a.rows).toBe(5000);
    expect(await sum('fp_b')).toEqual(a);
    // One changed value changes the sum; so does a NULL where the other side has a value.
    await session.execute('UPDATE fp_b SET n = 1.5 WHERE id = 4321');
    const changed = await sum('fp_b');
    expect(changed.hash).not.toBe(a.hash);
    await session.execute('UPDATE fp_b SET n = NULL WHERE id = 4321');
    expect((await sum('fp_b')).hash).not.toBe(a.hash);
    expect((await sum('fp_b')).hash).not.toBe(changed.hash);
    // Key ranges: (after, through].
    const range = await sum('fp_a', { after: [1000], through: [2000] });
    expect(range.rows).toBe(1000);
    await session.beginSnapshot();
    try {
      const err = await failure(session.fingerprint!({ table: { name: 'fp_a' }, columns: [...cols, { ...cols[1], name: 'no_such_column' }], orderBy: ['id'], batchRows: 1 }));
      expect(err.message).toMatch(/no_such_column/);
      expect(await sum('fp_a')).toEqual(a);
      expect(await session.countRows({ name: 'fp_a' })).toBe(5000);
    } finally {
      await session.endSnapshot();
    }
  });

  it('stops a read early without breaking the session or its snapshot', async () => {
    await session.execute('CREATE TABLE big_read AS SELECT i AS id, md5(i::text) AS s FROM generate_series(1, 200000) i');
    const cols = (await session.describeTable({ name: 'big_read' }))!.columns;
    for (const inSnapshot of [false, true]) {
      if (inSnapshot) await session.beginSnapshot();
      let seen = 0;
      for await (const batch of session.readRows({ table: { name: 'big_read' }, columns: cols, orderBy: ['id'], batchRows: 1000 })) {
        seen += batch.length;
        break;
      }
      expect(seen).toBe(1000);
      expect(await session.countRows({ name: 'big_read' })).toBe(200000);
      if (inSnapshot) await session.endSnapshot();
    }
  });

  it('reports a connection killed mid-read or before a write as a transient connection error', async () => {
    const victim = await open(db.url);
    const cols = (await victim.describeTable({ name: 'big_read' }))!.columns;
    const pid = (await victim.query('SELECT pg_backend_pid()')).rows[0][0];
    const reading = (async () => {
      let batches = 0;
      for await (const batch of victim.readRows({ table: { name: 'big_read' }, columns: cols, orderBy: ['id'], batchRows: 100 })) {
        if (batches++ === 0) await session.query('SELECT pg_terminate_backend($1)', [pid]);
        void batch;
      }
    })();
    const err = await failure(reading);
    expect(err.kind).toBe('connection');
    expect(err.transient).toBe(true);
    const w = await failure(victim.insertRows({ name: 'big_read' }, cols, [[1, 'x']]));
    expect(w.kind).toBe('connection');
    await victim.close();
  });

  it('shares one snapshot across sessions', async () => {
    await session.execute('CREATE TABLE snap (id int)');
    await session.execute('INSERT INTO snap VALUES (1), (2)');
    const exporter = await open(db.url);
    const joiner = await open(db.url);
    try {
      const id = await exportSnapshot(exporter);
      expect(id).toMatch(/^[0-9A-F-]+$/);
      await session.execute('INSERT INTO snap VALUES (3)');
      await joinSnapshot(joiner, id);
      expect(await joiner.countRows({ name: 'snap' })).toBe(2);
      expect(await exporter.countRows({ name: 'snap' })).toBe(2);
      const err = await failure(joiner.execute('INSERT INTO snap VALUES (4)'));
      expect(err.message).toMatch(/read-only/);
      await joiner.endSnapshot().catch(() => {});
      await exporter.endSnapshot();
      expect(await exporter.countRows({ name: 'snap' })).toBe(3);
      await expect(joinSnapshot(joiner, id)).rejects.toThrow(FerryError); // expired with its transaction
    } finally {
      await exporter.close();
      await joiner.close();
    }
  });

  it('runs transactions that commit, roll back, and nest', async () => {
    await session.execute('CREATE TABLE tx (id int PRIMARY KEY)');
    await session.transaction(async () => {
      await session.execute('INSERT INTO tx VALUES ($1)', [1]);
    }, 'serializable');
    await expect(
      session.transaction(async () => {
        await session.execute('INSERT INTO tx VALUES ($1)', [2]);
        throw new Error('boom');
      }, 'repeatable-read'),
    ).rejects.toThrow('boom');
    await session.transaction(async () => {
      await session.execute('INSERT INTO tx VALUES (3)');
      await session.transaction(() => session.execute('INSERT INTO tx VALUES (1)')).catch(() => {}); // duplicate, rolled back to savepoint
      expect((await session.query('SHOW transaction_isolation')).rows).toEqual([['read committed']]);
    }, 'read-committed');
    expect((await session.query('SELECT id FROM tx ORDER BY id')).rows).toEqual([[1], [3]]);
    expect(await session.execute('UPDATE tx SET id = id + $1 WHERE id > $2', [10n, 0])).toBe(2);
  });

  it('applies staging SQL (UPDATE ... FROM)', async () => {
    await session.execute('CREATE TABLE ap (id int PRIMARY KEY, v text); CREATE TABLE ap_stage (id int, v text)');
    await session.execute("INSERT INTO ap VALUES (1, 'old'), (2, 'gone'); INSERT INTO ap_stage VALUES (1, 'new'), (3, 'added')");
    const t = { name: 'ap' };
    const s = { name: 'ap_stage' };
    await session.transaction(async () => {
      await session.execute(session.applySql.updateFromStaging(t, s, ['id', 'v'], ['id']));
      await session.execute(session.applySql.insertMissingFromStaging(t, s, ['id', 'v'], ['id']));
      await session.execute(session.applySql.deleteAbsentFromStaging(t, s, ['id']));
    });
    expect((await session.query('SELECT id, v FROM ap ORDER BY id')).rows).toEqual([[1, 'new'], [3, 'added']]);
  });

  it('maps logical types to native types that PostgreSQL accepts', async () => {
    const cases = [
      [{ kind: 'integer', bytes: 8, unsigned: true }, 'numeric(20,0)', false],
      [{ kind: 'integer', bytes: 4, unsigned: true }, 'bigint', false],
      [{ kind: 'integer', bytes: 1 }, 'smallint', false],
      [{ kind: 'integer', bytes: 3, unsigned: true }, 'integer', false],
      [{ kind: 'decimal', precision: 65, scale: 30 }, 'numeric(65,30)', false],
      [{ kind: 'decimal' }, 'numeric', false],
      [{ kind: 'float', bytes: 4 }, 'real', false],
      [{ kind: 'text', maxLength: 255 }, 'character varying(255)', false],
      [{ kind: 'text', maxLength: 2, fixed: true }, 'character(2)', false],
      [{ kind: 'binary', maxLength: 16, fixed: true }, 'bytea', false],
      [{ kind: 'time', precision: 9 }, 'time(6) without time zone', true],
      [{ kind: 'timestamp', withTimeZone: true, precision: 3 }, 'timestamp(3) with time zone', false],
      [{ kind: 'timestamp', withTimeZone: false }, 'timestamp without time zone', false],
      [{ kind: 'json' }, 'json', false],
      [{ kind: 'enum', values: ['a'] }, 'text', false],
      [{ kind: 'any' }, 'text', true],
    ] as const;
    for (const [type, native, lossy] of cases) {
      const m = session.mapType(type as never);
      expect([m.nativeType, m.lossy !== undefined]).toEqual([native, lossy]);
      // every mapping parses back to a type that holds the same values
      expect(session.parseNativeType(m.nativeType).kind).toBe(type.kind === 'enum' || type.kind === 'any' ? 'text' : type.kind === 'integer' && native.startsWith('numeric') ? 'decimal' : type.kind);
    }
    await session.createTable({ name: { name: 'mapped' }, primaryKey: [], columns: cases.map(([type], i) => ({ name: `c${i}`, nativeType: session.mapType(type as never).nativeType, nullable: true })) });
    expect(session.parseNativeType('numeric(20,4)')).toEqual({ kind: 'decimal', precision: 20, scale: 4 });
    expect(session.parseNativeType('varchar(10)')).toEqual({ kind: 'text', maxLength: 10 });
    expect(session.parseNativeType('TEXT')).toEqual({ kind: 'text' });
    expect(session.parseNativeType('int8')).toEqual({ kind: 'integer', bytes: 8 });
    expect(session.parseNativeType('timestamptz(3)')).toEqual({ kind: 'timestamp', withTimeZone: true, precision: 3 });
  });

  it('creates indexes', async () => {
    await session.createIndex({ name: 'k' }, 'k_v_idx', ['v']);
    expect((await session.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'k_v_idx'")).rows[0][0]).toContain('(v)');
  });

  it('uses the schema from the options for unqualified names', async () => {
    await session.execute('CREATE SCHEMA "Sales"; CREATE TABLE "Sales".orders (id int)');
    const s2 = await open(db.url, { schema: 'Sales' });
    try {
      expect(await s2.listTables()).toEqual([{ schema: 'Sales', name: 'orders' }]);
      expect(s2.tableName('orders')).toEqual({ schema: 'Sales', name: 'orders' });
      expect(await s2.describeTable({ name: 'orders' })).toBeDefined();
    } finally {
      await s2.close();
    }
  });
});

describe('postgres dialect errors', () => {
  const admin = new URL(PG_ADMIN_URL);
  const hostPort = `${admin.hostname}:${admin.port || 5432}`;

  it('says when the port refuses connections', async () => {
    const err = await failure(open('postgres://postgres:sekret@127.0.0.1:1/postgres'));
    expect(err.kind).toBe('connection');
    expect(err.message).toContain('127.0.0.1:1');
    expect(err.message).toContain('refused');
    expect(err.transient).toBe(true);
    expect(`${err.message} ${err.hint}`).not.toContain('sekret');
  });

  it('says when the host does not exist', async () => {
    const err = await failure(open('postgres://postgres@no-such-host.invalid:5432/postgres'));
    expect(err.kind).toBe('connection');
    expect(err.message).toContain('no-such-host.invalid');
  });

  it('says when the database does not exist', async () => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = '/dbferry_no_such_db';
    const err = await failure(open(url.toString()));
    expect(err.kind).toBe('connection');
    expect(err.message).toContain('"dbferry_no_such_db" does not exist');
    expect(err.message).toContain(hostPort);
  });

  it('says when the login is refused, without the password', async () => {
    // Local test servers use trust auth, so a wrong password is accepted; an unknown role is refused the same way (28000).
    const url = new URL(PG_ADMIN_URL);
    url.username = 'dbferry_no_such_role';
    url.password = 'sekret-password';
    const err = await failure(open(url.toString()));
    expect(err.kind).toBe('connection');
    expect(err.message).toContain('dbferry_no_such_role');
    expect(err.message).toContain(hostPort);
    expect(`${err.message} ${err.hint} ${String(err.cause)}`).not.toContain('sekret-password');
  });

  it('names a missing passwordEnv variable', async () => {
    delete process.env.DBFERRY_TEST_MISSING_PW;
    const err = await failure(open('postgres://postgres@127.0.0.1:5432/postgres?passwordEnv=DBFERRY_TEST_MISSING_PW'));
    expect(err.kind).toBe('connection');
    expect(err.message).toContain('DBFERRY_TEST_MISSING_PW');
  });

  it('rejects an unknown sslmode and fails SSL against a server without it', async () => {
    expect((await failure(open(`${PG_ADMIN_URL}?sslmode=sometimes`))).message).toContain('sslmode');
    const err = await failure(open(`${PG_ADMIN_URL}?sslmode=require`));
    expect(err.kind).toBe('connection');
  });

  it('turns a missing privilege and a statement timeout into clear errors', async () => {
    const db = await createPgDatabase();
    const role = `dbferry_ro_${randomBytes(4).toString('hex')}`;
    await pgExec(db.url, `CREATE ROLE ${role} LOGIN; CREATE TABLE secret (id int); REVOKE ALL ON secret FROM PUBLIC`);
    try {
      const url = new URL(db.url);
      url.username = role;
      const s = await open(url.toString(), { statementTimeoutMs: 200 });
      try {
        const cols = [{ name: 'id', nativeType: 'integer', type: { kind: 'integer', bytes: 4 }, nullable: true }] as Column[];
        const err = await failure(readAll(s, { table: { name: 'secret' } }, cols));
        expect(err.kind).toBe('schema');
        expect(err.message).toContain('permission denied');
        expect(err.message).toContain(role);
        const w = await failure(s.insertRows({ name: 'secret' }, cols, [[1]]));
        expect(w.kind).toBe('schema');
        const t = await failure(s.query('SELECT pg_sleep(2)'));
        expect(t.kind).toBe('timeout');
        expect((await s.query('SELECT 1')).rows).toEqual([[1]]);
      } finally {
        await s.close();
      }
    } finally {
      await db.drop();
      await pgExec(PG_ADMIN_URL, `DROP ROLE IF EXISTS ${role}`);
    }
  });
});

describe('COPY text format', () => {
  it('unescapes every escape PostgreSQL defines, including octal and hex bytes', () => {
    expect(unescapeCopyText('a\\tb\\nc\\\\d\\re\\bf\\fg\\vh')).toBe('a\tb\nc\\d\re\bf\fg\vh');
    expect(unescapeCopyText('\\101\\x42\\303\\251')).toBe('ABé');
    expect(unescapeCopyText('\\q')).toBe('q');
  });

  it('parses rows whose bytes arrive split anywhere, even inside a character', () => {
    const types = [{ kind: 'integer', bytes: 8 }, { kind: 'text' }, { kind: 'binary' }, { kind: 'boolean' }] as const;
    const parser = new CopyTextParser(types.map((t) => decoderFor(t)), [false, false, true, false], [SHAPE_INT, SHAPE_OTHER, SHAPE_OTHER, SHAPE_BOOL]);
    const wire = Buffer.from('-12\tzaż\\tółć 😀\t\\\\x00ff\tt\n9223372036854775807\t\\N\t\\N\tf\n', 'utf8');
    const rows: Row[] = [];
    for (const byte of wire) parser.push(Buffer.from([byte]), rows);
    parser.finish();
    expect(rows).toEqual([
      [-12, 'zaż\tółć 😀', Buffer.from([0, 255]), true],
      [9223372036854775807n, null, null, false],
    ]);
  });

  it('parses rows of big values from their bytes, each field decoded once', () => {
    const types = [{ kind: 'integer', bytes: 8 }, { kind: 'text' }, { kind: 'binary' }, { kind: 'boolean' }] as const;
    const parser = new CopyTextParser(types.map((t) => decoderFor(t)), [false, false, true, false], [SHAPE_INT, SHAPE_OTHER, SHAPE_OTHER, SHAPE_BOOL]);
    const piece = 'zaż\\tółć 😀 a\\\\b\\nc\\303\\251 ';
    const big = piece.repeat(200_000); // ~6 MB of COPY text: over the size parsed from bytes
    const wire = Buffer.from(`-12\t${big}\t\\\\x00ff\tt\n7\t\\N\t\\N\tf\n8\tplain\t\\\\x\tt\n`, 'utf8');
    const rows: Row[] = [];
    for (let at = 0; at < wire.length; at += 65_536) parser.push(wire.subarray(at, at + 65_536), rows);
    parser.finish();
    expect(rows).toHaveLength(3);
    expect(rows[0][1]).toBe('zaż\tółć 😀 a\\b\ncé '.repeat(200_000));
    expect(rows[0]).toEqual([-12, rows[0][1], Buffer.from([0, 255]), true]);
    expect(rows.slice(1)).toEqual([
      [7, null, null, false],
      [8, 'plain', Buffer.alloc(0), true],
    ]);
  });

  it('escapes text for COPY and refuses NUL', () => {
    expect(escapeCopyField('a\tb\nc\\d\re', 'c')).toBe('a\\tb\\nc\\\\d\\re');
    expect(escapeCopyField(null, 'c')).toBe('\\N');
    expect(escapeCopyField('\\N', 'c')).toBe('\\\\N');
    expect(() => escapeCopyField('a\0', 'Col')).toThrow(/"Col".*NUL/);
  });
});
