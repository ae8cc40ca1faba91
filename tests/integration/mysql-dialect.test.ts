/**
 * The MySQL/MariaDB dialect against a real server (DBFERRY_TEST_MYSQL_URL):
 * nasty values read back as canonical values, written back through both bulk
 * paths, keyset bounds, apply SQL, snapshots and the connection error messages.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import type { ServerConnection } from '../../src/shared/connectionUrl.js';
import { mysqlDialect, MysqlSession } from '../../src/main/engine/dialects/mysql/index.js';
import type { OpenOptions, Session } from '../../src/main/engine/dialects/dialect.js';
import { FerryError } from '../../src/main/engine/errors.js';
import type { Column, Row, TableName } from '../../src/main/engine/types.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';

const OPEN: OpenOptions = { baseDir: process.cwd(), role: 'source', statementTimeoutMs: 60_000 };
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const NASTY_TEXT = 'tab\there\nnew line\r\n back\\slash \\N 😀 \u0000 end';

const NASTY = { name: 'Order' } satisfies TableName;

const DDL = `CREATE TABLE \`Order\` (
  \`id\` int NOT NULL PRIMARY KEY,
  \`select\` bigint NULL,
  \`ubig\` bigint unsigned NULL,
  \`flag\` tinyint(1) NULL,
  \`uint\` int unsigned NULL,
  \`dec\` decimal(65,30) NULL,
  \`f\` float NULL,
  \`d\` double NULL,
  \`txt\` text NULL,
  \`vb\` varbinary(300) NULL,
  \`bl\` blob NULL,
  \`dt\` date NULL,
  \`tm\` time(6) NULL,
  \`dtm\` datetime(6) NULL,
  \`ts\` timestamp(6) NULL DEFAULT NULL,
  \`j\` json NULL,
  \`e\` enum('a','b','it''s') NULL,
  \`MixedCase\` varchar(20) NULL,
  \`bits\` bit(5) NULL,
  \`b1\` bit(1) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

/** Canonical values, as every reader must yield them. */
const EXPECTED: Row[] = [
  [
    1, -9223372036854775808n, 18446744073709551615n, 0, 4294967295,
    '12345678901234567890123456789012345.123456789012345678901234567890',
    3.14159, 0.1, NASTY_TEXT, ALL_BYTES, Buffer.from(ALL_BYTES).reverse(),
    '0000-00-00', '-838:59:59', '2024-02-29 23:59:59.123456', '2038-01-19 03:14:07.999999+00:00',
    '{"b": 1, "a": [1, 2.50, "x"]}', "it's", '', 31, true,
  ],
  [
    2, 9223372036854775807n, 0, 1, 0, '-0.000000000000000000000000000001',
    -1.5, 1.7976931348623157e308, '', Buffer.alloc(0), null,
    '2024-01-01', '838:59:59.999999', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
    'null', 'a', 'Ünïcödé', 0, false,
  ],
  [
    3, null, 9007199254740993n, 5, null, '0.000000000000000000000000000000',
    null, -0.000001, null, null, null,
    null, '25:00:00.5', '1000-01-01 00:00:00', '1970-01-01 00:00:01+00:00',
    null, null, null, null, null,
  ],
];

let db: MysqlTestDatabase;
let session: MysqlSession;
let columns: Column[];

async function open(url: string, opts: Partial<OpenOptions> = {}): Promise<MysqlSession> {
  return (await mysqlDialect.open(parseConnectionUrl(url), { ...OPEN, ...opts })) as MysqlSession;
}

async function readAll(s: Session, table: TableName, cols: Column[], extra: { after?: Row; through?: Row; orderBy?: string[]; batchRows?: number } = {}) {
  const batches: Row[][] = [];
  for await (const batch of s.readRows({ table, columns: cols, orderBy: extra.orderBy ?? ['id'], batchRows: extra.batchRows ?? 1000, after: extra.after, through: extra.through })) {
    batches.push(batch);
  }
  return batches;
}

async function captureError(fn: () => Promise<unknown>): Promise<FerryError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error('expected an error');
}

beforeAll(async () => {
  db = await createMysqlDatabase();
  await db.admin.query('SET GLOBAL local_infile = 1');
  await db.admin.query(`SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES'`);
  await db.admin.query(DDL);
  // The rows go in as hand-written native values, not through the dialect under test.
  for (const row of EXPECTED) {
    const native = row.map((v) => (typeof v === 'string' ? v.replace(/\+00:00$/, '') : v));
    await db.admin.query(`INSERT INTO \`Order\` VALUES (${row.map(() => '?').join(', ')})`, native);
  }
  session = await open(db.url);
  columns = (await session.describeTable(NASTY))!.columns;
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
});

describe('mysql dialect', () => {
  it('reports the server and capabilities', () => {
    expect(session.serverVersion).toMatch(/^(MariaDB|MySQL) \d+\.\d+\.\d+$/);
    expect(mysqlDialect.capabilities).toEqual({ transactionalDdl: false, schemas: false, maxIdentifierLength: 64, promoteStaging: true, promoteReshapes: true, stagingInFinalShape: true, concurrentWriters: true, splitHashes: true });
  });

  it('introspects tables, exact native types and logical types', async () => {
    expect(await session.listTables()).toContainEqual({ name: 'Order' });
    const info = (await session.describeTable(NASTY))!;
    expect(info.primaryKey).toEqual(['id']);
    const byName = Object.fromEntries(info.columns.map((c) => [c.name, c]));
    expect(byName.ubig.nativeType).toBe('bigint(20) unsigned');
    expect(byName.ubig.type).toEqual({ kind: 'integer', bytes: 8, unsigned: true });
    expect(byName.flag.type).toEqual({ kind: 'integer', bytes: 1 });
    expect(byName.dec.type).toEqual({ kind: 'decimal', precision: 65, scale: 30 });
    expect(byName.j.type).toEqual({ kind: 'json' });
    expect(byName.e.type).toEqual({ kind: 'enum', values: ['a', 'b', "it's"] });
    expect(byName.ts.type).toEqual({ kind: 'timestamp', withTimeZone: true, precision: 6 });
    expect(byName.tm.type).toEqual({ kind: 'time', precision: 6 });
    expect(byName.b1.type).toEqual({ kind: 'boolean' });
    expect(byName.id.nullable).toBe(false);
    expect(await session.describeTable({ name: 'nope' })).toBeUndefined();
    expect(session.tableName('Order')).toEqual({ name: 'Order' });
    expect(session.tableName(`${db.name}.Order`)).toEqual({ schema: db.name, name: 'Order' });
    expect(session.tableName('`a.b`')).toEqual({ name: 'a.b' });
  });

  it('reads every nasty value as its canonical value, in batches', async () => {
    const batches = await readAll(session, NASTY, columns, { batchRows: 2 });
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    expect(batches.flat()).toEqual(EXPECTED);
    expect(await session.countRows(NASTY)).toBe(3);
    expect(await session.countRows(NASTY, '`flag` > 0')).toBe(2);
  });

  for (const path of ['load-data', 'insert'] as const) {
    it(`writes every nasty value back exactly (${path})`, async () => {
      const target = { name: `copy ${path}` };
      await session.dropTable(target);
      await session.createTable({ name: target, columns: columns.map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: c.nullable })), primaryKey: ['id'] });
      session.bulkPath = path;
      await session.insertRows(target, columns, EXPECTED);
      expect(session.bulkPath).toBe(path);
      expect((await readAll(session, target, columns)).flat()).toEqual(EXPECTED);
      session.bulkPath = 'load-data';
    });
  }

  it('writes logical types through mapType-created columns', async () => {
    const types = [
      { name: 'id', type: { kind: 'integer', bytes: 8 } },
      { name: 'ok', type: { kind: 'boolean' } },
      { name: 'at', type: { kind: 'timestamp', withTimeZone: true, precision: 6 } },
      { name: 'u', type: { kind: 'uuid' } },
      { name: 'n', type: { kind: 'decimal' } },
      { name: 'long', type: { kind: 'text' } },
    ] as const;
    const cols: Column[] = types.map((t) => ({ name: t.name, type: t.type, nativeType: session.mapType(t.type).nativeType, nullable: t.name !== 'id' }));
    expect(cols.map((c) => c.nativeType)).toEqual(['BIGINT', 'TINYINT(1)', 'DATETIME(6)', 'CHAR(36)', 'DECIMAL(65,30)', 'LONGTEXT']);
    expect(session.mapType({ kind: 'decimal' }).lossy).toBeTruthy();
    const target = { name: 'mapped' };
    await session.createTable({ name: target, columns: cols, primaryKey: ['id'] });
    const rows: Row[] = [[1, true, '2024-05-01 10:00:00.25+00:00', '0b3a9c8e-1f2d-4c3b-9a8e-7f6d5c4b3a21', '1.5', 'x'.repeat(70_000)], [2, false, null, null, null, null]];
    await session.insertRows(target, cols, rows);
    const read = (await session.query('SELECT id, ok, at, u, n, LENGTH(`long`) FROM mapped ORDER BY id')).rows;
    expect(read).toEqual([
      [1, 1, '2024-05-01 10:00:00.250000', '0b3a9c8e-1f2d-4c3b-9a8e-7f6d5c4b3a21', '1.500000000000000000000000000000', 70_000],
      [2, 0, null, null, null, null],
    ]);
  });

  it('reads keyset ranges: after is exclusive, through inclusive, on a composite key', async () => {
    await session.execute('CREATE TABLE `keyed` (`a` int NOT NULL, `b` varchar(10) NOT NULL, `v` int, PRIMARY KEY (`a`, `b`))');
    const all: Row[] = [];
    for (let a = 0; a < 10; a++) for (const b of ['x', 'y', "z'"]) all.push([a, b, a * 10]);
    const cols = (await session.describeTable({ name: 'keyed' }))!.columns;
    await session.insertRows({ name: 'keyed' }, cols, all);
    const read = (await readAll(session, { name: 'keyed' }, cols, { orderBy: ['a', 'b'], after: [3, 'y'], through: [7, "z'"], batchRows: 4 })).flat();
    const expected = all.filter(([a, b]) => ((a as number) > 3 || (a === 3 && (b as string) > 'y')) && ((a as number) < 7 || (a === 7 && (b as string) <= "z'")));
    expect(read).toEqual(expected);
    expect(read[0]).toEqual([3, "z'", 30]);
    expect(read.at(-1)).toEqual([7, "z'", 70]);
    const filtered = (await readAll(session, { name: 'keyed' }, cols, { orderBy: ['a', 'b'], after: [8, 'x'] })).flat();
    expect(filtered.length).toBe(5);
    const withWhere = [];
    for await (const batch of session.readRows({ table: { name: 'keyed' }, columns: cols, orderBy: ['a', 'b'], where: "`b` = 'what?' OR `a` = 9", after: [9, 'x'], batchRows: 10 })) withWhere.push(...batch);
    expect(withWhere).toEqual([[9, 'y', 90], [9, "z'", 90]]);
  });

  it('stops early without breaking the connection', async () => {
    for await (const batch of session.readRows({ table: { name: 'keyed' }, columns: (await session.describeTable({ name: 'keyed' }))!.columns, orderBy: ['a', 'b'], batchRows: 2 })) {
      expect(batch.length).toBe(2);
      break;
    }
    expect(await session.countRows({ name: 'keyed' })).toBe(30);
  });

  it('refuses values the column would change, naming the column, and keeps the table unchanged', async () => {
    await session.execute('CREATE TABLE `narrow` (`id` int PRIMARY KEY, `code` varchar(3), `amount` decimal(5,2))');
    const cols = (await session.describeTable({ name: 'narrow' }))!.columns;
    for (const path of ['load-data', 'insert'] as const) {
      session.bulkPath = path;
      const tooLong = await captureError(() => session.insertRows({ name: 'narrow' }, cols, [[1, 'ok', '1.00'], [2, 'toolong', '1.00']]));
      expect(tooLong.kind).toBe('data');
      expect(tooLong.message).toMatch(/code/);
      const rounded = await captureError(() => session.insertRows({ name: 'narrow' }, cols, [[3, 'ok', '1.005']]));
      expect(rounded.message).toMatch(/amount/);
      await session.insertRows({ name: 'narrow' }, cols, [[9, 'ok', '2.50']]);
      const dup = await captureError(() => session.insertRows({ name: 'narrow' }, cols, [[9, 'ok', '2.50']]));
      expect(dup.kind).toBe('data');
      expect(await session.countRows({ name: 'narrow' })).toBe(1);
      await session.execute('DELETE FROM `narrow`');
    }
    session.bulkPath = 'load-data';
  });

  it('falls back to INSERT when the server refuses LOAD DATA LOCAL', async () => {
    // The server's own answer decides the path (this one takes LOAD DATA LOCAL: .ci/run sets local_infile).
    const [[serverSays]] = (await session.query('SELECT @@local_infile')).rows;
    expect(session.facts.localInfile).toBe(Number(serverSays) === 1);
    expect(session.bulkPath).toBe(session.facts.localInfile ? 'load-data' : 'insert');
    const noInfile = await open(`${db.url}?localInfile=0`, { role: 'target' });
    try {
      expect(noInfile.bulkPath).toBe('insert');
      expect(noInfile.rawWrites, 'no text pass-through without LOAD DATA LOCAL').toEqual([]);
      noInfile.bulkPath = 'load-data'; // try it anyway: the server says no
      const cols = (await noInfile.describeTable({ name: 'narrow' }))!.columns;
      await noInfile.insertRows({ name: 'narrow' }, cols, [[1, 'a\tb', '0.10']]);
      expect(noInfile.bulkPath).toBe('insert');
      expect((await noInfile.query('SELECT code, amount FROM narrow WHERE id = ?', [1])).rows).toEqual([['a\tb', '0.10']]);
    } finally {
      await noInfile.close();
    }
  });

  it('runs the apply SQL for upsert and mirror', async () => {
    await session.execute('CREATE TABLE `target` (`id` int PRIMARY KEY, `v` varchar(10))');
    await session.execute('CREATE TABLE `staging` (`id` int PRIMARY KEY, `v` varchar(10))');
    await session.execute("INSERT INTO `target` VALUES (1, 'old'), (2, 'keep'), (3, 'gone')");
    await session.execute("INSERT INTO `staging` VALUES (1, 'new'), (2, 'keep'), (4, 'added')");
    const t = { name: 'target' };
    const s = { name: 'staging' };
    await session.transaction(async () => {
      await session.execute(session.applySql.updateFromStaging(t, s, ['id', 'v'], ['id']));
      await session.execute(session.applySql.insertMissingFromStaging(t, s, ['id', 'v'], ['id']));
      await session.execute(session.applySql.deleteAbsentFromStaging(t, s, ['id']));
    }, 'serializable');
    expect((await session.query('SELECT id, v FROM target ORDER BY id')).rows).toEqual([[1, 'new'], [2, 'keep'], [4, 'added']]);
    await session.execute(session.applySql.deleteAll(t));
    await session.execute(session.applySql.insertFromStaging(t, s, ['id', 'v']));
    expect(await session.countRows(t)).toBe(3);
  });

  it('runs the backup and staging statements', async () => {
    const t = { name: 'target' };
    const s = { name: 'staging' };
    await session.execute("INSERT INTO `staging` VALUES (5, 'five')");
    await session.execute(session.applySql.copyTable(t, { name: 'bk_all' }));
    const columns: Column[] = [
      { name: 'id', nativeType: 'int', type: { kind: 'integer', bytes: 4 }, nullable: false },
      { name: 'v', nativeType: 'varchar(10)', type: { kind: 'text', maxLength: 10 }, nullable: true },
    ];
    // The staged rows that differ: a case-only change differs whatever the collation, and a new key.
    await session.execute("UPDATE `target` SET v = 'KEEP' WHERE id = 2");
    for (const sql of session.applySql.copyDiffering(t, s, { name: 'delta' }, columns, ['id'])) await session.execute(sql);
    expect((await session.query('SELECT id, v FROM delta ORDER BY id')).rows).toEqual([[2, 'keep'], [5, 'five']]);
    await session.execute(session.applySql.copyMatching(t, { name: 'delta' }, { name: 'bk_matching' }, ['id']));
    await session.execute(session.applySql.copyNewKeys(t, s, { name: 'bk_new' }, ['id']));
    await session.execute("UPDATE `target` SET v = 'keep' WHERE id = 2");
    expect(await session.countRows({ name: 'bk_all' })).toBe(3);
    expect((await session.query('SELECT id, v FROM bk_matching')).rows).toEqual([[2, 'KEEP']]);
    expect((await session.query('SELECT id FROM bk_new')).rows).toEqual([[5]]);
    await session.execute('CREATE TABLE `batched` (`id` int PRIMARY KEY, `_batch` int)');
    await session.execute('INSERT INTO `batched` VALUES (1, 1), (2, 2), (3, 3), (4, 4)');
    // A resumed chunk drops its batches past the checkpoint, and only its own (4 belongs to the next chunk).
    await session.execute(session.applySql.deleteStagedBatches({ name: 'batched' }, 2, 3, '_batch'));
    await session.execute(session.applySql.deleteStagedBatches({ name: 'batched' }, 0, 1, '_batch'));
    expect((await session.query('SELECT id FROM batched')).rows).toEqual([[2], [4]]);
    await session.execute(session.applySql.deleteMatching({ name: 'bk_all' }, { name: 'bk_matching' }, ['id']));
    expect((await session.query('SELECT id FROM bk_all ORDER BY id')).rows).toEqual([[1], [4]]);
    await session.execute('DELETE FROM `staging` WHERE id = 5');
  });

  it('rolls back a failed transaction', async () => {
    await expect(
      session.transaction(async () => {
        await session.execute('DELETE FROM `target`');
        throw new Error('boom');
      }, 'read-committed'),
    ).rejects.toThrow('boom');
    expect(await session.countRows({ name: 'target' })).toBe(3);
  });

  it('reads a consistent snapshot', async () => {
    const reader = await open(db.url);
    try {
      await reader.beginSnapshot();
      expect(await reader.countRows({ name: 'target' })).toBe(3);
      await db.admin.query("INSERT INTO `target` VALUES (99, 'later')");
      expect(await reader.countRows({ name: 'target' })).toBe(3);
      await reader.endSnapshot();
      expect(await reader.countRows({ name: 'target' })).toBe(4);
    } finally {
      await reader.close();
    }
  });

  it('applies the session settings', async () => {
    const timeoutSql = session.facts.flavor === 'mariadb' ? '@@max_statement_time' : '@@max_execution_time / 1000';
    const [[tz, mode, timeout]] = (await session.query(`SELECT @@time_zone, @@sql_mode, ${timeoutSql}`)).rows;
    expect(tz).toBe('+00:00');
    expect(mode).toMatch(/STRICT_ALL_TABLES/);
    expect(mode).not.toMatch(/NO_ZERO/);
    expect(Number(timeout)).toBe(60);
    expect((await session.query('SELECT CAST(? AS UNSIGNED), 1 + 1', [18446744073709551615n])).rows).toEqual([[18446744073709551615n, 2]]);
  });

  it('reports a killed connection as a transient connection error', async () => {
    const victim = await open(db.url);
    const [[id]] = (await victim.query('SELECT CONNECTION_ID()')).rows;
    await db.admin.query(`KILL ${Number(id)}`);
    const err = await captureError(() => victim.countRows({ name: 'target' }));
    expect(err.kind).toBe('connection');
    expect(err.transient).toBe(true);
    await victim.close();
  });

  it('fails a read whose connection is killed mid-stream as a transient connection error, without hanging', async () => {
    await session.execute('CREATE TABLE big_read (id int PRIMARY KEY, pad varchar(200))');
    await session.execute("INSERT INTO big_read SELECT seq, REPEAT('x', 200) FROM seq_1_to_50000");
    const victim = await open(db.url);
    const cols = (await victim.describeTable({ name: 'big_read' }))!.columns;
    const [[id]] = (await victim.query('SELECT CONNECTION_ID()')).rows;
    let seen = 0;
    const reading = (async () => {
      for await (const batch of victim.readRows({ table: { name: 'big_read' }, columns: cols, orderBy: ['id'], batchRows: 100 })) {
        if (seen === 0) await db.admin.query(`KILL ${Number(id)}`);
        seen += batch.length;
      }
    })();
    const err = await captureError(() => reading);
    expect(err.kind).toBe('connection');
    expect(err.transient).toBe(true);
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(50000);
    await victim.close();
  });

  it('parses native type overrides', () => {
    expect(session.parseNativeType('text')).toEqual({ kind: 'text', maxLength: 65535 });
    expect(session.parseNativeType('varchar(10)')).toEqual({ kind: 'text', maxLength: 10 });
    expect(session.parseNativeType('decimal(20,4)')).toEqual({ kind: 'decimal', precision: 20, scale: 4 });
    expect(session.parseNativeType('INT(10) UNSIGNED')).toEqual({ kind: 'integer', bytes: 4, unsigned: true });
    expect(session.parseNativeType('mediumint')).toEqual({ kind: 'integer', bytes: 3 });
    expect(session.parseNativeType('datetime(3)')).toEqual({ kind: 'timestamp', withTimeZone: false, precision: 3 });
    expect(() => session.parseNativeType('varchr(10)')).toThrow(/not a MySQL/);
    const members = ['a\\b', "it's", 'x,y', '(p)'];
    const mapped = session.mapType({ kind: 'enum', values: members }).nativeType;
    expect(session.parseNativeType(mapped)).toEqual({ kind: 'enum', values: members });
  });

  it('keeps enum members with quotes, backslashes and commas through DDL and introspection', async () => {
    const values = ['a\\b', "it's", 'x,y', '(p)'];
    const nativeType = session.mapType({ kind: 'enum', values }).nativeType;
    await session.createTable({ name: { name: 'enums' }, columns: [{ name: 'e', nativeType, nullable: false }], primaryKey: ['e'] });
    const info = (await session.describeTable({ name: 'enums' }))!;
    expect(info.columns[0].type).toEqual({ kind: 'enum', values });
  });
});

describe('mysql connection errors', () => {
  const base = () => parseConnectionUrl(db.url) as ServerConnection;

  it('says the login was refused, without the password', async () => {
    const user = `dbferry_pw_${randomBytes(3).toString('hex')}`;
    await db.admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-secret'`);
    await db.admin.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'right-secret'`);
    try {
      const info = { ...base(), user, password: 'wrong-secret' };
      const err = await captureError(() => mysqlDialect.open(info, OPEN));
      expect(err.kind).toBe('connection');
      expect(err.message).toContain(`${info.host}:${info.port}/${info.database}`);
      expect(err.message).toMatch(/access denied/);
      expect(err.message + (err.hint ?? '')).not.toContain('wrong-secret');
      // The right password from the environment works; the user lacks the database privilege.
      process.env.DBFERRY_TEST_PW = 'right-secret';
      const denied = await captureError(() => mysqlDialect.open({ ...info, password: undefined, passwordEnv: 'DBFERRY_TEST_PW' }, OPEN));
      expect(denied.message).toMatch(/lacks a privilege/);
      expect(denied.hint).toMatch(/GRANT/);
    } finally {
      await db.admin.query(`DROP USER '${user}'@'%'`);
      await db.admin.query(`DROP USER '${user}'@'localhost'`);
    }
  });

  it('says the database does not exist', async () => {
    const err = await captureError(() => mysqlDialect.open({ ...base(), database: 'no_such_db_dbferry' }, OPEN));
    expect(err.kind).toBe('connection');
    expect(err.message).toMatch(/no_such_db_dbferry.*does not exist/);
  });

  it('says the connection was refused', async () => {
    const err = await captureError(() => mysqlDialect.open({ ...base(), host: '127.0.0.1', port: 1 }, OPEN));
    expect(err.message).toMatch(/127\.0\.0\.1:1\/.*connection refused/);
    expect(err.transient).toBe(true);
  });

  it('names a missing password variable', async () => {
    delete process.env.DBFERRY_NO_SUCH_VAR;
    const err = await captureError(() => mysqlDialect.open({ ...base(), passwordEnv: 'DBFERRY_NO_SUCH_VAR' }, OPEN));
    expect(err.kind).toBe('connection');
    expect(err.message).toContain('DBFERRY_NO_SUCH_VAR');
  });
});
