/**
 * MariaDB → SQLite as 'json-rows' the server builds: every value stored as
 * the row path stores it (the yardstick: the same table copied with a rule,
 * which keeps it on the row path), and a value the row path refuses sends its
 * chunk row by row, named in a warning.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

type Ev = Record<string, unknown> & { type: string };

// What JSON must escape (quote, backslash, control characters), characters past the BMP, and what looks like an escape.
const AWKWARD = 'quote" back\\slash tab\t nl\n cr\r nul\u0000 ff\f bs\b rs\u001e us\u001f \\u0041 Zoë 😀 \u2028';

let dir: string;
let state: string;
let my: MysqlTestDatabase;
/** The length of each of the two values of the row too long for max_allowed_packet. */
let half: number;

beforeAll(async () => {
  dir = tempDir('dbferry-my-sqlite-');
  state = join(dir, 'state');
  my = await createMysqlDatabase('dbferry_json_src');
  await my.admin.query(`CREATE TABLE awkward (
      id bigint PRIMARY KEY, body text, latin varchar(20) CHARACTER SET latin1, ci varchar(20) COLLATE utf8mb4_general_ci,
      m3 varchar(20) CHARACTER SET utf8mb3, tags set('a','b','c'), amount decimal(12,3), big decimal(30,10) unsigned,
      at6 datetime(6), at0 datetime, day date, flag tinyint(1), yr year, zf int(6) zerofill, small smallint NOT NULL,
      ts timestamp(3) NULL, ts0 timestamp NULL) ENGINE=InnoDB`);
  // TIMESTAMPs are stored as UTC, converted from the session's zone.
  await my.admin.query("SET time_zone = '+00:00'");
  await my.admin.query(
    `INSERT INTO awkward VALUES
      (1, ?, 'Zoë', 'ci Zoë', 'm3 ü', 'a,c', -123.456, 12345678901234567890.0123456789, '2024-02-29 23:59:59.123400', '9999-12-31 23:59:59', '0001-01-01', 1, 2024, 42, -32768, '2024-02-29 23:59:59.120', '2038-01-19 03:14:07'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 32767, NULL, NULL),
      (3, '', '', '', '', '', 0, 0, '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00', '2024-01-01', 5, 0, 0, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
      (4, '[1,"x"]', 'a"b', 'c\\\\d', 'null', 'b', 0.5, 0.1, '2024-01-01 10:00:00.500000', '1000-01-01 00:00:00', '9999-12-31', -1, 1901, 999999, 1, '1970-01-01 00:00:01.000', '1970-01-01 00:00:01')`,
    [AWKWARD],
  );
  const rows = Array.from({ length: 2996 }, (_, k) => {
    const g = k + 5;
    return `(${g}, CONCAT('body ', ${g}), 'é', 'x', 'y', 'a', ${g} / 8, ${g} / 3, '2020-01-01' + INTERVAL ${g} SECOND + INTERVAL ${g % 7} * 100000 MICROSECOND, '2020-01-01' + INTERVAL ${g} MINUTE, '2020-01-01' + INTERVAL ${g} DAY, ${g % 2}, ${1901 + (g % 200)}, ${g}, ${g % 30000}, '2020-01-01' + INTERVAL ${g} SECOND + INTERVAL ${g % 9} * 1000 MICROSECOND, '2020-01-01' + INTERVAL ${g} HOUR)`;
  });
  await my.admin.query(`INSERT INTO awkward VALUES ${rows.join(', ')}`);
  // In three chunks of 1000: a zero date, an impossible one, a zero month in a DATETIME (SQLite stores them as they are,
  // and so does the row path), and an unsigned BIGINT past SQLite's INTEGER, which the row path dead-letters.
  await my.admin.query(`CREATE TABLE odd (id int PRIMARY KEY, day date, at datetime(3), u bigint unsigned) ENGINE=InnoDB`);
  await my.admin.query("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'");
  const odd = Array.from({ length: 3000 }, (_, k) => {
    const g = k + 1;
    const day = g === 500 ? "'0000-00-00'" : g === 1700 ? "'2023-02-30'" : `'2024-01-01' + INTERVAL ${g} DAY`;
    const at = g === 2500 ? "'2024-00-10 10:00:00'" : `'2024-01-01 10:00:00' + INTERVAL ${g} SECOND`;
    const u = g === 1 ? '9223372036854775807' : g === 2800 ? '18446744073709551615' : String(g);
    return `(${g}, ${day}, ${at}, ${u})`;
  });
  await my.admin.query(`INSERT INTO odd VALUES ${odd.join(', ')}`);
  await my.admin.query('SET SESSION sql_mode = DEFAULT');
  // A row whose JSON is longer than max_allowed_packet, for which CONCAT gives NULL (two values of 9 MB, with the
  // default 16 MB); and one of 6M quotes, escaped to 12 MB.
  const [[packet]] = (await my.admin.query({ sql: 'SELECT @@max_allowed_packet', rowsAsArray: true }))[0] as number[][];
  half = Math.max(9_000_000, Math.ceil(Number(packet) / 2) + 1000);
  await my.admin.query(`CREATE TABLE wide (id int PRIMARY KEY, a longtext, b longtext) ENGINE=InnoDB`);
  await my.admin.query(`INSERT INTO wide VALUES (1, REPEAT('a', ${half}), REPEAT('b', ${half})), (2, 'x', NULL), (3, REPEAT('"', 6000000), 'z')`);
  await my.admin.query('ANALYZE TABLE awkward, odd, wide');
});
afterAll(() => my?.drop());

function spec(target: TestDb, table: string, rowPath = false) {
  // A rule keeps a table on the row path: the yardstick.
  const t = { source: table, mode: 'replace', ...(rowPath ? { rules: { id: { min: 0 } } } : {}) };
  return writeJob(dir, { source: { url: my.url }, target: { url: target.url }, tables: [t], options: { chunkRows: 1000, verify: 'checksum' } }, `job-${Math.random().toString(36).slice(2)}.json`);
}

/** Every value and every storage class, row by row. */
async function contents(target: TestDb, table: string): Promise<unknown[][]> {
  const columns = (await target.rows(`SELECT name FROM pragma_table_info('${table}') ORDER BY cid`)).map((r) => String(r[0]));
  const list = columns.flatMap((c) => [`"${c}"`, `typeof("${c}")`]).join(', ');
  return target.rows(`SELECT ${list} FROM "${table}" ORDER BY id`);
}

const summary = (ev: Ev | undefined) => ({ status: ev?.status, rowsRead: ev?.rowsRead, rowsWritten: ev?.rowsWritten, rowsDeadLettered: ev?.rowsDeadLettered });

describe('MariaDB → SQLite JSON pass-through', () => {
  it('is the plan, and stores text, decimals, times, TIMESTAMPs and years as the row path does, verified', async () => {
    const passed = await createTestDb('sqlite', dir);
    const rowByRow = await createTestDb('sqlite', dir);
    try {
      const job = spec(passed, 'awkward');
      const plan = await dbferry(['plan', job, '--json']);
      expect((plan.events[0].tables as Array<{ fastPath?: string }>)[0].fastPath).toMatch(/JSON pass-through/);
      const r = await dbferry(['run', job, '--json', '--state', state]);
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
      expect(r.events.filter((e) => e.type === 'warning').map((e) => e.message)).toEqual([]);
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      const y = await dbferry(['run', spec(rowByRow, 'awkward', true), '--json', '--state', state]);
      expect(y.code, y.stderr).toBe(0);
      expect(summary(r.events.at(-1))).toEqual(summary(y.events.at(-1)));
      expect(r.events.at(-1)).toMatchObject({ rowsRead: 3000, rowsWritten: 3000 });
      const got = await contents(passed, 'awkward');
      expect(got).toEqual(await contents(rowByRow, 'awkward'));
      // And what that is, for the awkward rows: text byte for byte, fractions without trailing zeros, numbers as numbers.
      const [one] = await passed.rows('SELECT hex(body), latin, ci, m3, tags, amount, at6, at0, day, flag, yr, zf, ts, ts0 FROM awkward WHERE id = 1');
      expect(one.map(String)).toEqual([Buffer.from(AWKWARD, 'utf8').toString('hex').toUpperCase(), 'Zoë', 'ci Zoë', 'm3 ü', 'a,c', '-123.456', '2024-02-29 23:59:59.1234', '9999-12-31 23:59:59', '0001-01-01', '1', '2024', '42', '2024-02-29 23:59:59.12+00:00', '2038-01-19 03:14:07+00:00']);
      // The zero TIMESTAMP is not an instant: it keeps no offset.
      const [three] = await passed.rows('SELECT at6, flag, yr, zf, ts, ts0 FROM awkward WHERE id = 3');
      expect(three.map(String)).toEqual(['2024-01-01 00:00:00', '5', '0', '0', '0000-00-00 00:00:00', '0000-00-00 00:00:00']);
    } finally {
      await passed.drop();
      await rowByRow.drop();
    }
  });

  it('into a BIGINT UNSIGNED column: a chunk holding a value past SQLite\'s INTEGER goes row by row, named; zero dates go as they are', async () => {
    const passed = await createTestDb('sqlite', dir);
    const rowByRow = await createTestDb('sqlite', dir);
    try {
      for (const t of [passed, rowByRow]) await t.exec('CREATE TABLE odd (id INTEGER PRIMARY KEY, day DATE, at DATETIME, u BIGINT UNSIGNED)');
      const job = spec(passed, 'odd');
      const plan = await dbferry(['plan', job, '--json']);
      expect((plan.events[0].tables as Array<{ fastPath?: string }>)[0].fastPath).toMatch(/JSON pass-through/);
      const r = await dbferry(['run', job, '--json', '--state', state]);
      const warnings = r.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/chunk 3: the pass-through stopped \(column u holds "18446744073709551615", which the pass-through does not carry\); staging it row by row/);
      const y = await dbferry(['run', spec(rowByRow, 'odd', true), '--json', '--state', state]);
      expect(summary(r.events.at(-1))).toEqual(summary(y.events.at(-1)));
      expect(r.events.at(-1)).toMatchObject({ rowsRead: 3000, rowsWritten: 2999, rowsDeadLettered: 1 });
      expect(await contents(passed, 'odd')).toEqual(await contents(rowByRow, 'odd'));
      const odd = await passed.rows('SELECT id, day, at, CAST(u AS TEXT), typeof(u) FROM odd WHERE id IN (1, 500, 1700, 2500) ORDER BY id');
      expect(odd.map((row) => row.map(String))).toEqual([
        ['1', '2024-01-02', '2024-01-01 10:00:01', '9223372036854775807', 'integer'],
        ['500', '0000-00-00', '2024-01-01 10:08:20', '500', 'integer'],
        ['1700', '2023-02-30', '2024-01-01 10:28:20', '1700', 'integer'],
        ['2500', '2030-11-05', '2024-00-10 10:00:00', '2500', 'integer'],
      ]);
    } finally {
      await passed.drop();
      await rowByRow.drop();
    }
  });

  it('sends a row longer than max_allowed_packet as JSON row by row, whole, and says why', async () => {
    const target = await createTestDb('sqlite', dir);
    try {
      const r = await dbferry(['run', spec(target, 'wide'), '--json', '--state', state]);
      expect(r.code, r.stderr).toBe(0);
      const warnings = r.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
      expect(warnings).toEqual([expect.stringMatching(/chunk 1: the pass-through stopped \(a row's JSON would be longer than the server's max_allowed_packet \(\d+ bytes\)\)/)]);
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      const rows = await target.rows("SELECT id, length(a), length(b), a = replace(hex(zeroblob(3000000)), '00', '\"\"') FROM wide ORDER BY id");
      expect(rows.map((row) => row.map((v) => (v === null ? null : Number(v))))).toEqual([[1, half, half, 0], [2, 1, null, 0], [3, 6e6, 1, 1]]);
    } finally {
      await target.drop();
    }
  });
});
