/**
 * Parallel lanes: a table split into key-range chunks, copied by worker
 * threads at once, each reading the run's one snapshot; killed at random
 * points and resumed, it still ends with every row exactly once.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createMysqlDatabase, mysqlServerOptions, type MysqlTestDatabase } from '../helpers/mysql.js';
import { createPgDatabase, pgExec, type PgTestDatabase } from '../helpers/postgres.js';
import { ENGINES, createTestDb, digest, type EngineName, type TestDb } from '../helpers/targets.js';
import { startTransfers } from '../helpers/transfers.js';

const LEDGER = 24_000;
type Ev = Record<string, unknown> & { type: string };

let dir: string;
let state: string;
let source: PgTestDatabase;
let expected: { accounts: { rows: number; sha: string }; ledger: { rows: number; sha: string } };

/** Rows in key order as the test helpers' digest wants them, read with the native driver. */
async function pgDigest(url: string, table: string) {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return digest((await c.query({ text: `SELECT * FROM ${table} ORDER BY id`, rowMode: 'array' })).rows as unknown[][]);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  dir = tempDir('dbferry-parallel-');
  state = join(dir, 'state');
  source = await createPgDatabase('dbferry_parallel');
  // Keys with gaps and a dense run, so chunks by row count are not chunks by key span.
  await pgExec(
    source.url,
    `CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL);
     CREATE TABLE ledger (id bigint PRIMARY KEY, account_id int NOT NULL, amount numeric(12,2) NOT NULL, memo text);
     INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(1, 1000) g;
     INSERT INTO ledger SELECT CASE WHEN g <= 12000 THEN g ELSE g * 1000 END, 1 + g % 1000, ((g * 7919) % 50000 - 10000) / 100.0,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'memo ' || g || ' ü' END FROM generate_series(1, ${LEDGER}) g;
     ANALYZE;`,
  );
  expected = { accounts: await pgDigest(source.url, 'accounts'), ledger: await pgDigest(source.url, 'ledger') };
});
afterAll(() => source?.drop());

function job(target: TestDb, options: Record<string, unknown> = {}, ledger: Record<string, unknown> = {}) {
  return writeJob(dir, {
    name: 'parallel',
    source: { url: source.url },
    target: { url: target.url },
    tables: [
      { source: 'accounts', mode: 'upsert' },
      { source: 'ledger', mode: 'append', ...ledger },
    ],
    options: { parallel: 3, chunkRows: 2500, batch: { maxRows: 400 }, retries: { max: 5, baseDelayMs: 50 }, ...options },
  }, `job-${Math.random().toString(36).slice(2)}.json`);
}

async function targetDigests(target: TestDb) {
  return { accounts: await target.checksum('accounts', 'id'), ledger: await target.checksum('ledger', 'id') };
}

describe.each(ENGINES)('PostgreSQL → %s in chunks', (engine: EngineName) => {
  it('copies every chunk exactly once, on as many lanes as the target takes', async () => {
    const target = await createTestDb(engine, dir);
    try {
      const r = await dbferry(['run', job(target), '--json', '--state', state]);
      expect(r.code, r.stderr + r.stdout.slice(-600)).toBe(0);
      const started = r.events.filter((e) => e.type === 'table-started');
      expect(started.find((e) => e.table === 'public.ledger')?.chunks).toBe(Math.ceil(LEDGER / 2500));
      // SQLite takes one writer: one lane, said so.
      expect(r.events.some((e) => e.type === 'warning' && /one writer at a time/.test(String(e.message)))).toBe(engine === 'sqlite');
      expect(await targetDigests(target)).toEqual(expected);
      expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 1000 + LEDGER, rowsWritten: 1000 + LEDGER });
      // Verifying the ledger (on a worker lane, but into SQLite) shows its progress: source rows compared, of the rows read.
      expect((r.events.at(-1)!.metrics as { workers: boolean }).workers).toBe(engine !== 'sqlite');
      const verifying = r.events.filter((e) => e.type === 'progress' && e.phase === 'verifying');
      expect(verifying.length).toBeGreaterThan(0);
      for (const e of verifying) {
        expect(e).toMatchObject({ table: 'public.ledger', rowsRead: LEDGER, rowsWritten: LEDGER, estimate: LEDGER });
        expect(e.rowsVerified).toBeGreaterThan(0);
        expect(e.rowsVerified).toBeLessThanOrEqual(LEDGER);
      }
      expect(r.events.indexOf(verifying.at(-1)!)).toBeLessThan(r.events.findIndex((e) => e.type === 'verify' && e.table === 'public.ledger'));
    } finally {
      await target.drop();
    }
  });

  it('killed with SIGKILL mid-chunk, then resumed: every row once, none left in staging', async () => {
    const points: { name: string; at: (e: Ev) => boolean; delayMs: number }[] = [
      { name: 'as the ledger starts', at: (e) => e.type === 'table-started' && e.table === 'public.ledger', delayMs: 0 },
      { name: 'chunks in flight', at: (e) => e.type === 'table-started' && e.table === 'public.ledger', delayMs: 60 },
      { name: 'later chunks in flight', at: (e) => e.type === 'progress' && e.table === 'public.ledger' && Number(e.rowsRead) > LEDGER / 2, delayMs: 0 },
      { name: 'during apply', at: (e) => e.type === 'apply-started', delayMs: 5 },
    ];
    for (const point of points) {
      const target = await createTestDb(engine, dir);
      try {
        // Ledger ids ending in 7 break a rule: refused rows in every chunk must be recorded once too.
        const spec = job(target, { maxInvalidRows: '20%' }, { rules: { id: { pattern: '[0-68-9]$' } } });
        const refused = (await pgQueryCount(source.url, "SELECT count(*) FROM ledger WHERE id::text LIKE '%7'"));
        const killed = await dbferryUntil(['run', spec, '--state', state], point.at, (c) => void c.kill('SIGKILL'), { delayMs: point.delayMs });
        const runId = killed.events[0]?.runId as string;
        if (killed.signal === 'SIGKILL') {
          const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
          expect(resumed.code, `${point.name}: ${resumed.stderr}${resumed.stdout.slice(-600)}`).toBe(3);
          expect(resumed.events.at(-1), point.name).toMatchObject({ rowsRead: 1000 + LEDGER, rowsDeadLettered: refused, rowsWritten: 1000 + LEDGER - refused });
        } else expect(killed.code, point.name).toBe(3);
        const letters = await dbferry(['dead-letters', 'list', '--json', '--run', runId, '--state', state]);
        const keys = letters.events.map((e) => String((e.key as unknown[])[0]));
        expect(keys.length, point.name).toBe(refused);
        expect(new Set(keys).size, point.name).toBe(refused);
        const ledger = await target.rows('SELECT count(*), count(DISTINCT id) FROM ledger');
        expect(ledger[0].map(Number), point.name).toEqual([LEDGER - refused, LEDGER - refused]);
        expect(await target.checksum('accounts', 'id'), point.name).toEqual(expected.accounts);
        expect((await target.tables()).filter((t) => t.startsWith('_dbferry_stg_')), point.name).toEqual([]);
      } finally {
        await target.drop();
      }
    }
  }, 180_000);
});

async function pgQueryCount(url: string, sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(sql)).rows[0].count);
  } finally {
    await c.end();
  }
}

describe('MySQL/MariaDB source in parallel lanes', () => {
  let my: MysqlTestDatabase;
  beforeAll(async () => {
    my = await createMysqlDatabase('dbferry_par_src');
    await my.admin.query(`CREATE TABLE a (id int PRIMARY KEY, balance int NOT NULL) ENGINE=InnoDB; CREATE TABLE b (id int PRIMARY KEY, balance int NOT NULL) ENGINE=InnoDB`);
    const values = Array.from({ length: 20000 }, (_, i) => `(${i + 1}, 1000)`).join(',');
    await my.admin.query(`INSERT INTO a VALUES ${values}; INSERT INTO b SELECT id, balance FROM a; ANALYZE TABLE a, b`);
  });
  afterAll(() => my?.drop());

  it('lanes started under one held write lock read one point in time: money moved meanwhile adds up', async () => {
    const target = await createTestDb('postgres', dir);
    const mover = await mysql.createConnection({ ...mysqlServerOptions(), database: my.name });
    const transfers = startTransfers((sql, params) => mover.query(sql, params), () => '?');
    try {
      const spec = writeJob(dir, {
        source: { url: my.url },
        target: { url: target.url },
        tables: [{ source: 'a', mode: 'replace' }, { source: 'b', mode: 'replace' }],
        options: { parallel: 3, chunkRows: 3000, batch: { maxRows: 500 } },
      }, 'mysql-parallel.json');
      const r = await dbferry(['run', spec, '--json', '--state', state]);
      await transfers.stop();
      expect(r.code, r.stdout.slice(-800) + r.stderr).toBe(0);
      expect(r.events.some((e) => e.type === 'warning')).toBe(false);
      expect(r.events.find((e) => e.type === 'table-started')?.chunks).toBeGreaterThan(1);
      expect(transfers.count).toBeGreaterThan(10);
      const [[sumA]] = await target.rows('SELECT sum(balance) FROM a');
      const [[sumB]] = await target.rows('SELECT sum(balance) FROM b');
      expect(Number(sumA) + Number(sumB)).toBe(40_000_000);
    } finally {
      await transfers.stop();
      await mover.end();
      await target.drop();
    }
  });
});

describe('SQLite source in parallel lanes', () => {
  const ROWS = 24_000;
  const makeFile = (name: string, wal: boolean) => {
    const file = join(dir, name);
    const db = new Database(file);
    try {
      if (wal) db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE ledger (id INTEGER PRIMARY KEY, account_id INT NOT NULL, amount NUMERIC(12,2) NOT NULL, memo TEXT)');
      const insert = db.prepare('INSERT INTO ledger VALUES (?, ?, ?, ?)');
      db.transaction(() => {
        for (let g = 1; g <= ROWS; g++) insert.run(g <= 12000 ? g : g * 1000, 1 + (g % 1000), (((g * 7919) % 50000) - 10000) / 100, g % 10 ? `memo ${g} ü` : null);
      })();
    } finally {
      db.close();
    }
    return file;
  };
  const spec = (file: string, target: TestDb, ledger: Record<string, unknown> = {}) =>
    writeJob(dir, { name: 'sqlite lanes', source: { url: `sqlite://${file}` }, target: { url: target.url }, tables: [{ source: 'ledger', mode: 'replace', ...ledger }], options: { parallel: 3, chunkRows: 2500, verify: 'checksum' } }, `job-${Math.random().toString(36).slice(2)}.json`);

  it('with a rollback journal, lanes share the read (its shared lock holds commits back): every row once, verified, passed through or row by row', async () => {
    const file = makeFile('lanes-journal.db', false);
    // Passed through as text, and (a rule) row by row.
    for (const ledger of [{}, { rules: { account_id: { min: 0 } } }]) {
      const target = await createTestDb('postgres', dir);
      try {
        const r = await dbferry(['run', spec(file, target, ledger), '--json', '--state', state]);
        expect(r.code, r.stderr + r.stdout.slice(-600)).toBe(0);
        expect(r.events.filter((e) => e.type === 'warning').map((e) => e.message)).toEqual([]);
        expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS, metrics: { lanes: 3, workers: true } });
        expect(r.events.find((e) => e.type === 'table-started')?.chunks).toBe(Math.ceil(ROWS / 2500));
        const [[count, sum]] = await target.rows('SELECT count(*), sum(amount) FROM ledger');
        const source = new Database(file, { readonly: true });
        const [want] = source.prepare("SELECT count(*), printf('%.2f', sum(amount)) FROM ledger").raw(true).all() as unknown[][];
        source.close();
        expect([Number(count), String(sum)]).toEqual([Number(want[0]), String(want[1])]);
      } finally {
        await target.drop();
      }
    }
  });

  it('in WAL mode, where writers commit beside readers, one lane reads, and a warning says why', async () => {
    const file = makeFile('lanes-wal.db', true);
    const target = await createTestDb('postgres', dir);
    try {
      const r = await dbferry(['run', spec(file, target), '--json', '--state', state]);
      expect(r.code, r.stderr + r.stdout.slice(-600)).toBe(0);
      const warnings = r.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
      expect(warnings).toEqual([expect.stringMatching(/one chunk at a time, on the run's own session: the SQLite source is in WAL mode/)]);
      expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS, metrics: { lanes: 1 } });
    } finally {
      await target.drop();
    }
  });
});

describe('PostgreSQL → PostgreSQL binary pass-through', () => {
  it('is the plan for same-typed tables, copies them exactly, and survives the target connection dropping mid-chunk', async () => {
    const target = await createTestDb('postgres', dir);
    try {
      const spec = job(target, { parallel: 2, chunkRows: 4000, retries: { max: 5, baseDelayMs: 50 } });
      const plan = await dbferry(['plan', spec, '--json']);
      const tables = plan.events[0].tables as Array<{ source: string; fastPath?: string }>;
      expect(tables.map((t) => [t.source, Boolean(t.fastPath)])).toEqual([['public.accounts', true], ['public.ledger', true]]);
      // A rule means every row is checked: no pass-through.
      const ruled = await dbferry(['plan', job(target, {}, { rules: { amount: { min: -1000 } } }), '--json']);
      expect((ruled.events[0].tables as Array<{ fastPath?: string }>)[1].fastPath).toBeUndefined();

      const r = await dbferryUntil(['run', spec, '--state', state], (e) => e.type === 'table-started' && e.table === 'public.ledger', async () => {
        expect(await target.killSessions()).toBeGreaterThan(0);
      }, { delayMs: 20 });
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
      const noticed = r.events.filter((e) => (e.type === 'warning' && /pass-through stopped/.test(String(e.message))) || e.type === 'retry');
      expect(noticed.length, 'the dropped connection was noticed and worked around').toBeGreaterThan(0);
      expect(await targetDigests(target)).toEqual(expected);
      expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 1000 + LEDGER, rowsWritten: 1000 + LEDGER });
    } finally {
      await target.drop();
    }
  });
});

describe('PostgreSQL → MariaDB text and → SQLite JSON pass-through', () => {
  // Every escape COPY text writes, two LOAD DATA reads otherwise (\f, \v), and what looks like one.
  const AWKWARD = 'form\ffeed vtab\u000b back\\slash tab\t nl\n cr\r bs\b \\N \\t literal Zoë 😀';
  beforeAll(() =>
    pgExec(
      source.url,
      `CREATE TABLE awkward (id bigint PRIMARY KEY, label varchar(40), body text, amount numeric(12,3), flag boolean,
         at timestamp(6), day date, n int NOT NULL);
       INSERT INTO awkward VALUES
         (1, 'Zoë 😀', ${pgLiteral(AWKWARD)}, -123.456, true, '2024-02-29 23:59:59.123456', '2024-01-31', -2147483648),
         (2, NULL, NULL, NULL, NULL, NULL, NULL, 2147483647);
       INSERT INTO awkward SELECT g, 'label ' || g, repeat(E'x\\f', g % 5), g / 8.0, g % 2 = 0, timestamp '2020-01-01' + g * interval '1 minute', date '2020-01-01' + g, g FROM generate_series(3, 3000) g;
       CREATE TABLE late (id int PRIMARY KEY, at timestamp NOT NULL);
       INSERT INTO late SELECT g, CASE WHEN g = 1500 THEN 'infinity' ELSE timestamp '2024-01-01' + g * interval '1 hour' END FROM generate_series(1, 3000) g;
       CREATE TABLE odd (id int PRIMARY KEY, amount numeric(12,2), day date);
       INSERT INTO odd SELECT g, CASE WHEN g = 700 THEN 'NaN' ELSE g / 4.0 END, CASE WHEN g = 2100 THEN date '0044-03-15 BC' ELSE date '2024-01-01' + g END FROM generate_series(1, 3000) g;`,
    ),
  );

  const spec = (target: TestDb, table: string) =>
    writeJob(dir, { name: 'text pass-through', source: { url: source.url }, target: { url: target.url }, tables: [{ source: table, mode: 'replace' }], options: { chunkRows: 1000, verify: 'checksum' } }, `job-${Math.random().toString(36).slice(2)}.json`);

  it('is the plan for tables whose every value fits, and copies awkward text, booleans and times exactly', async () => {
    const target = await createTestDb('mysql', dir);
    try {
      await passesThrough(spec(target, 'awkward'), 3000);
      await expectAwkward(target, AWKWARD);
    } finally {
      await target.drop();
    }
  });

  it('stages a chunk row by row where MariaDB would change a value: the row is dead-lettered, the rest copied', async () => {
    const target = await createTestDb('mysql', dir);
    try {
      const r = await dbferry(['run', spec(target, 'late'), '--json', '--state', state]);
      const stopped = r.events.filter((e) => e.type === 'warning' && /pass-through stopped/.test(String(e.message)));
      expect(stopped.length, JSON.stringify(r.events.filter((e) => e.type === 'warning'))).toBe(1);
      expect(String(stopped[0].message)).toMatch(/chunk 2/);
      expect(r.events.at(-1)).toMatchObject({ rowsRead: 3000, rowsWritten: 2999, rowsDeadLettered: 1 });
      const letters = await dbferry(['dead-letters', 'list', '--run', String(r.events[0].runId), '--json', '--state', state]);
      expect(letters.stdout).toMatch(/1500/);
      expect(letters.stdout).toMatch(/infinity/);
      const [[count, missing]] = await target.rows('SELECT COUNT(*), SUM(id = 1500) FROM late');
      expect([Number(count), Number(missing)]).toEqual([2999, 0]);
    } finally {
      await target.drop();
    }
  });

  it('into SQLite: the plan, and awkward text, decimals, booleans and times stored as the row path stores them, verified', async () => {
    const target = await createTestDb('sqlite', dir);
    try {
      await passesThrough(spec(target, 'awkward'), 3000, /JSON pass-through/);
      const rows = await target.rows(
        'SELECT id, label, iif(body IS NULL, NULL, hex(body)), amount, typeof(amount), flag, typeof(flag), at, day, n, typeof(n) FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id',
      );
      expect(rows.map((row) => row.map((v) => (v === null ? null : String(v))))).toEqual([
        ['1', 'Zoë 😀', Buffer.from(AWKWARD, 'utf8').toString('hex').toUpperCase(), '-123.456', 'text', '1', 'integer', '2024-02-29 23:59:59.123456', '2024-01-31', '-2147483648', 'integer'],
        ['2', null, null, null, 'null', null, 'null', null, null, '2147483647', 'integer'],
        ['3000', 'label 3000', '', '375.000', 'text', '1', 'integer', '2020-01-03 02:00:00', '2028-03-19', '3000', 'integer'],
      ]);
    } finally {
      await target.drop();
    }
  });

  it('into SQLite: a chunk holding a value the row path reads its own way (infinity, NaN, a BC date) goes row by row, and ends as the row path leaves it', async () => {
    for (const [table, columns] of [['late', ['at']], ['odd', ['amount', 'day']]] as const) {
      const passed = await createTestDb('sqlite', dir);
      const rowByRow = await createTestDb('sqlite', dir);
      try {
        const r = await dbferry(['run', spec(passed, table), '--json', '--state', state]);
        const stopped = r.events.filter((e) => e.type === 'warning' && /pass-through stopped/.test(String(e.message))).map((e) => String(e.message));
        expect(stopped.length, JSON.stringify(r.events.filter((e) => e.type === 'warning'))).toBe(columns.length);
        columns.forEach((column, i) => expect(stopped[i]).toMatch(new RegExp(`column ${column} holds`)));
        // A rule keeps the whole table on the row path: the yardstick.
        const ruled = writeJob(dir, { source: { url: source.url }, target: { url: rowByRow.url }, tables: [{ source: table, mode: 'replace', rules: { id: { min: 0 } } }], options: { verify: 'checksum' } }, `job-${table}-rows.json`);
        const y = await dbferry(['run', ruled, '--json', '--state', state]);
        const summary = (ev: Ev | undefined) => ({ status: ev?.status, rowsRead: ev?.rowsRead, rowsWritten: ev?.rowsWritten, rowsDeadLettered: ev?.rowsDeadLettered });
        expect(summary(r.events.at(-1))).toEqual(summary(y.events.at(-1)));
        expect(r.events.at(-1)).toMatchObject({ rowsRead: 3000 });
        const all = `SELECT * FROM ${table} ORDER BY id`;
        const typed = `SELECT ${['id', ...columns].map((c) => `typeof(${c})`).join(', ')} FROM ${table} ORDER BY id`;
        expect(await passed.rows(all)).toEqual(await rowByRow.rows(all));
        expect(await passed.rows(typed)).toEqual(await rowByRow.rows(typed));
      } finally {
        await passed.drop();
        await rowByRow.drop();
      }
    }
  });
});

/** The plan passes the job's table through (as text, unless said), and the run copies and verifies its rows with no warning. */
async function passesThrough(job: string, rows: number, fastPath = /text pass-through/): Promise<void> {
  const plan = await dbferry(['plan', job, '--json']);
  expect((plan.events[0].tables as Array<{ fastPath?: string }>)[0].fastPath).toMatch(fastPath);
  const r = await dbferry(['run', job, '--json', '--state', state]);
  expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
  expect(r.events.filter((e) => e.type === 'warning').map((e) => e.message)).toEqual([]);
  expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: rows, rowsWritten: rows, rowsDeadLettered: 0 });
}

/** Rows 1, 2 and 3000 of the awkward table as the target holds them: text as UTF-8 hex, numbers and times as text. */
async function expectAwkward(target: TestDb, body: string): Promise<void> {
  const select =
    target.engine === 'postgres'
      ? `SELECT id, label, upper(encode(convert_to(body, 'UTF8'), 'hex')), amount::text, flag::int, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), day::text, n FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id`
      : 'SELECT id, label, HEX(body), CAST(amount AS CHAR), flag, CAST(at AS CHAR), CAST(day AS CHAR), n FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id';
  const rows = await target.rows(select);
  expect(rows.map((row) => row.map((v) => (v === null ? null : String(v))))).toEqual([
    ['1', 'Zoë 😀', Buffer.from(body, 'utf8').toString('hex').toUpperCase(), '-123.456', '1', '2024-02-29 23:59:59.123456', '2024-01-31', '-2147483648'],
    ['2', null, null, null, null, null, null, '2147483647'],
    ['3000', 'label 3000', '', '375.000', '1', '2020-01-03 02:00:00.000000', '2028-03-19', '3000'],
  ]);
}

const PG_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\f': '\\f', '\u000b': '\\x0b', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u0008': '\\b' };

/** An E'' string literal of s, control characters escaped. */
function pgLiteral(s: string): string {
  return `E'${[...s].map((ch) => PG_ESCAPES[ch] ?? ch).join('')}'`;
}

describe.each(['postgres', 'mysql'] as const)('MariaDB → %s text pass-through', (engine) => {
  // Bytes the text protocol sends as they are and 'tsv' must escape (tab, newline, CR, backslash), and what looks like an escape.
  const AWKWARD = 'tab\t nl\n cr\r back\\slash \\N \\t literal ff\f vt\u000b bs\b Zoë 😀';
  let my: MysqlTestDatabase;
  beforeAll(async () => {
    my = await createMysqlDatabase('dbferry_tsv_src');
    await my.admin.query(`CREATE TABLE awkward (id bigint PRIMARY KEY, label varchar(40), body text, amount decimal(12,3), flag boolean,
      at datetime(6), day date, n int NOT NULL) ENGINE=InnoDB; CREATE TABLE nul (id int PRIMARY KEY, body varchar(20) NOT NULL) ENGINE=InnoDB`);
    await my.admin.query(`INSERT INTO awkward VALUES (1, 'Zoë 😀', ?, -123.456, true, '2024-02-29 23:59:59.123456', '2024-01-31', -2147483648),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, 2147483647)`, [AWKWARD]);
    const rows = Array.from({ length: 2998 }, (_, k) => {
      const g = k + 3;
      return `(${g}, 'label ${g}', REPEAT('x\\t', ${g % 5}), ${g} / 8, ${g % 2 === 0}, '2020-01-01' + INTERVAL ${g} MINUTE, '2020-01-01' + INTERVAL ${g} DAY, ${g})`;
    });
    await my.admin.query(`INSERT INTO awkward VALUES ${rows.join(', ')}`);
    const nul = Array.from({ length: 3000 }, (_, k) => `(${k + 1}, ${k + 1 === 1500 ? "CONCAT('a', CHAR(0), 'b')" : `'row ${k + 1}'`})`);
    await my.admin.query(`INSERT INTO nul VALUES ${nul.join(', ')}; ANALYZE TABLE awkward, nul`);
    // TIMESTAMPs, stored as UTC from the session's zone; row 1500 the zero TIMESTAMP, which is not an instant.
    await my.admin.query(`SET time_zone = '+00:00'; CREATE TABLE stamps (id int PRIMARY KEY, at timestamp(6) NULL, at0 timestamp NULL) ENGINE=InnoDB`);
    const stamps = Array.from({ length: 3000 }, (_, k) => {
      const g = k + 1;
      if (g === 1500) return `(${g}, '0000-00-00 00:00:00', NULL)`;
      return `(${g}, '2020-03-29 00:30:00' + INTERVAL ${g * 997} SECOND + INTERVAL ${g % 11} * 100000 MICROSECOND, '1970-01-01 00:00:01' + INTERVAL ${g} DAY)`;
    });
    await my.admin.query(`INSERT INTO stamps VALUES ${stamps.join(', ')}; ANALYZE TABLE stamps`);
  });
  afterAll(() => my?.drop());

  const spec = (target: TestDb, table: string, rowPath = false, types?: Record<string, string>) =>
    writeJob(dir, {
      name: 'text pass-through',
      source: { url: my.url },
      target: { url: target.url },
      // A rule keeps a table on the row path: the yardstick.
      tables: [{ source: table, mode: 'replace', ...(rowPath ? { rules: { id: { min: 0 } } } : {}), ...(types ? { types } : {}) }],
      options: { chunkRows: 1000, verify: 'checksum' },
    }, `job-${Math.random().toString(36).slice(2)}.json`);

  it('passes TIMESTAMPs through as UTC text, each the instant the row path stores; the zero TIMESTAMP as the row path leaves it', async () => {
    const passed = await createTestDb(engine, dir);
    const rowByRow = await createTestDb(engine, dir);
    try {
      // Into MariaDB a TIMESTAMP stays one only if asked (by default it becomes a UTC DATETIME, which the plan calls lossy).
      const types = engine === 'mysql' ? { at: 'timestamp(6)', at0: 'timestamp' } : undefined;
      const job = spec(passed, 'stamps', false, types);
      const plan = await dbferry(['plan', job, '--json']);
      expect((plan.events[0].tables as Array<{ fastPath?: string }>)[0].fastPath).toMatch(/text pass-through/);
      const r = await dbferry(['run', job, '--json', '--state', state]);
      const y = await dbferry(['run', spec(rowByRow, 'stamps', true, types), '--json', '--state', state]);
      const summary = (ev: Ev | undefined) => ({ status: ev?.status, rowsRead: ev?.rowsRead, rowsWritten: ev?.rowsWritten, rowsDeadLettered: ev?.rowsDeadLettered });
      expect(summary(r.events.at(-1))).toEqual(summary(y.events.at(-1)));
      // PostgreSQL refuses the zero TIMESTAMP (its chunk goes row by row and dead-letters it); MariaDB's DATETIME takes it.
      const stopped = r.events.filter((e) => e.type === 'warning' && /pass-through stopped/.test(String(e.message)));
      expect(stopped.length).toBe(engine === 'postgres' ? 1 : 0);
      expect(r.events.at(-1)).toMatchObject(engine === 'postgres' ? { rowsWritten: 2999, rowsDeadLettered: 1 } : { rowsWritten: 3000, rowsDeadLettered: 0 });
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      const instants =
        engine === 'postgres'
          ? "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), to_char(at0 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM stamps ORDER BY id"
          : 'SELECT id, CAST(at AS CHAR), CAST(at0 AS CHAR) FROM stamps ORDER BY id';
      const got = await passed.rows(instants);
      expect(got).toEqual(await rowByRow.rows(instants));
      expect(got[0].map(String)).toEqual(['1', `2020-03-29 00:46:37.100000`, `1970-01-02 00:00:01`]);
    } finally {
      await passed.drop();
      await rowByRow.drop();
    }
  });

  it('is the plan, and copies awkward text, booleans and times exactly, verified', async () => {
    const target = await createTestDb(engine, dir);
    try {
      await passesThrough(spec(target, 'awkward'), 3000);
      await expectAwkward(target, AWKWARD);
    } finally {
      await target.drop();
    }
  });

  it(engine === 'postgres' ? 'stages a chunk row by row where the target refuses a value (NUL): it is dead-lettered, the rest copied' : 'copies a NUL character exactly', async () => {
    const target = await createTestDb(engine, dir);
    try {
      const r = await dbferry(['run', spec(target, 'nul'), '--json', '--state', state]);
      const stopped = r.events.filter((e) => e.type === 'warning' && /pass-through stopped/.test(String(e.message)));
      const [[count]] = await target.rows('SELECT COUNT(*) FROM nul');
      if (engine === 'postgres') {
        expect(stopped.length, JSON.stringify(r.events.filter((e) => e.type === 'warning'))).toBe(1);
        expect(r.events.at(-1)).toMatchObject({ rowsRead: 3000, rowsWritten: 2999, rowsDeadLettered: 1 });
        expect(Number(count)).toBe(2999);
      } else {
        expect(stopped).toEqual([]);
        expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 3000, rowsWritten: 3000, rowsDeadLettered: 0 });
        const [[hex]] = await target.rows('SELECT HEX(body) FROM nul WHERE id = 1500');
        expect(hex).toBe('610062');
      }
    } finally {
      await target.drop();
    }
  });
});

// Into PostgreSQL and MariaDB as 'tsv' lines SQLite builds; into SQLite by INSERT … SELECT from the attached file.
describe.each(['postgres', 'mysql', 'sqlite'] as const)('SQLite → %s pass-through', (engine) => {
  // What 'tsv' escapes (tab, newline, CR, backslash), what looks like an escape, and what it leaves as it is.
  const AWKWARD = 'tab\t nl\n cr\r back\\slash \\N \\t literal ff\f vt\u000b bs\b Zoë 😀';
  let file: string;
  beforeAll(() => {
    file = join(dir, `tsv-source-${engine}.db`);
    const db = new Database(file);
    try {
      db.exec(`CREATE TABLE awkward (id INTEGER PRIMARY KEY, label VARCHAR(40), body TEXT, amount NUMERIC(12,3), flag BOOLEAN,
          at TIMESTAMP, day DATE, n INT NOT NULL, big INTEGER);
        CREATE TABLE odd (id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL, amount NUMERIC(12,2) NOT NULL, code VARCHAR(4) NOT NULL, small INT NOT NULL);`);
      const insert = db.prepare('INSERT INTO awkward VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      const odd = db.prepare('INSERT INTO odd VALUES (?, ?, ?, ?, ?)');
      db.transaction(() => {
        insert.run(1, 'Zoë 😀', AWKWARD, -123.456, 1, '2024-02-29 23:59:59', '2024-01-31', -2147483648, 9223372036854775807n);
        insert.run(2, null, null, null, null, null, null, 2147483647, null);
        for (let g = 3; g <= 3000; g++) {
          insert.run(g, `label ${g}`, 'x\t'.repeat(g % 5), g / 8, g % 2 === 0 ? 1 : 0, `2020-01-03 ${String(g % 24).padStart(2, '0')}:${String(g % 60).padStart(2, '0')}:00`, `2020-02-${String(1 + (g % 28)).padStart(2, '0')}`, g, -g);
        }
        // What SQLite holds and the declared type does not allow: row 500 an INT beyond 32 bits, row 1500 an hour the
        // row path refuses and PostgreSQL would read as the next day, row 2600 a third of a cent, row 2900 six characters in VARCHAR(4).
        for (let g = 1; g <= 3000; g++) {
          odd.run(g, g === 1500 ? '2024-01-01 24:00:00' : '2024-01-01 10:00:00', g === 2600 ? 10.005 : g / 4, g === 2900 ? 'SIXSIX' : 'ok', g === 500 ? 3_000_000_000 : g);
        }
      })();
      db.exec('ANALYZE');
    } finally {
      db.close();
    }
  });

  const spec = (target: TestDb, table: string) =>
    writeJob(dir, { name: 'text pass-through', source: { url: `sqlite://${file}` }, target: { url: target.url }, tables: [{ source: table, mode: 'replace' }], options: { chunkRows: 1000, verify: 'checksum' } }, `job-${Math.random().toString(36).slice(2)}.json`);

  it('is the plan, and copies awkward text, reals in decimal columns, booleans, times and 64-bit integers exactly, verified', async () => {
    const target = await createTestDb(engine, dir);
    try {
      await passesThrough(spec(target, 'awkward'), 3000, engine === 'sqlite' ? /attached source file/ : /text pass-through/);
      // Again into the table that now exists: staged with dbferry's batch and row numbers, which must read as integers
      // (every row: compare "never", or range hashes would find nothing to stage).
      const upsert = writeJob(dir, { name: 'upsert', source: { url: `sqlite://${file}` }, target: { url: target.url }, tables: [{ source: 'awkward', mode: 'upsert' }], options: { chunkRows: 1000, verify: 'checksum', compare: 'never' } }, `job-${Math.random().toString(36).slice(2)}.json`);
      await passesThrough(upsert, 3000, engine === 'sqlite' ? /attached source file/ : /text pass-through/);
      const select = {
        postgres: `SELECT id, label, upper(encode(convert_to(body, 'UTF8'), 'hex')), amount::text, flag::int, to_char(at, 'YYYY-MM-DD HH24:MI:SS'), day::text, n, big FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id`,
        mysql: "SELECT id, label, HEX(body), CAST(amount AS CHAR), flag, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s'), CAST(day AS CHAR), n, big FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id",
        sqlite: 'SELECT id, label, iif(body IS NULL, NULL, HEX(body)), amount, flag, at, day, n, CAST(big AS TEXT) FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id',
      }[engine];
      const rows = await target.rows(select);
      expect(rows.map((row) => row.map((v) => (v === null ? null : String(v))))).toEqual([
        ['1', 'Zoë 😀', Buffer.from(AWKWARD, 'utf8').toString('hex').toUpperCase(), '-123.456', '1', '2024-02-29 23:59:59', '2024-01-31', '-2147483648', '9223372036854775807'],
        ['2', null, null, null, null, null, null, '2147483647', null],
        // SQLite keeps a decimal's text as the source spelled it: 375.0 is the INTEGER 375 in a NUMERIC column.
        ['3000', 'label 3000', '', engine === 'sqlite' ? '375' : '375.000', '1', '2020-01-03 00:00:00', '2020-02-05', '3000', '-3000'],
      ]);
      if (engine === 'sqlite') {
        // Row for row, storage class for storage class, what the row path writes (a rule keeps a table on it).
        const rowPath = await createTestDb('sqlite', dir);
        const job = writeJob(dir, { name: 'row path', source: { url: `sqlite://${file}` }, target: { url: rowPath.url }, tables: [{ source: 'awkward', mode: 'replace', rules: { n: { min: -1e12 } } }], options: { chunkRows: 1000 } }, `job-${Math.random().toString(36).slice(2)}.json`);
        const r = await dbferry(['run', job, '--json', '--state', state]);
        expect(r.code, r.stderr).toBe(0);
        const typed = 'SELECT ' + ['id', 'label', 'body', 'amount', 'flag', 'at', 'day', 'n', 'big'].map((c) => `typeof(${c}), quote(${c})`).join(', ') + ' FROM awkward ORDER BY id';
        expect(await target.rows(typed)).toEqual(await rowPath.rows(typed));
      }
    } finally {
      await target.drop();
    }
  });

  it('stages a chunk row by row where a value cannot go as text: the row path dead-letters it, the rest is copied', async () => {
    const target = await createTestDb(engine, dir);
    try {
      const r = await dbferry(['run', spec(target, 'odd'), '--json', '--state', state]);
      const stopped = r.events.filter((e) => e.type === 'warning' && /pass-through stopped/.test(String(e.message))).map((e) => String(e.message));
      expect(stopped, JSON.stringify(r.events.filter((e) => e.type === 'warning'))).toHaveLength(3);
      // Chunk 1: SQLite refuses the INT beyond 32 bits where it is the target; PostgreSQL and MariaDB refuse it themselves.
      expect(stopped[0]).toMatch(engine === 'sqlite' ? /chunk 1: .*column "small" holds an integer value/ : /chunk 1: the pass-through stopped/);
      expect(stopped[1]).toMatch(/chunk 2: .*column "at" holds a text value the pass-through cannot carry exactly\); staging it row by row/);
      // Chunk 3 holds two values that cannot go: the check beside the copy finds row 2600's REAL, but the target may
      // refuse row 2900's six characters in VARCHAR(4) first (CI saw PostgreSQL's COPY win); either stops the chunk.
      expect(stopped[2]).toMatch(engine === 'sqlite' ? /chunk 3: .*column "amount" holds a real value/ : /chunk 3: .*(column "amount" holds a real value|code)/);
      if (engine === 'sqlite') {
        // SQLite holds them as they are, and so does the row path into SQLite: nothing is dead-lettered.
        expect(r.events.at(-1)).toMatchObject({ rowsRead: 3000, rowsWritten: 3000, rowsDeadLettered: 0 });
        const kept = await target.rows('SELECT CAST(small AS TEXT), at, amount, code FROM odd WHERE id IN (500, 1500, 2600, 2900) ORDER BY id');
        expect(kept.map((row) => row.map(String))).toEqual([
          ['3000000000', '2024-01-01 10:00:00', '125', 'ok'],
          ['1500', '2024-01-01 24:00:00', '375', 'ok'],
          ['2600', '2024-01-01 10:00:00', '10.005', 'ok'],
          ['2900', '2024-01-01 10:00:00', '725', 'SIXSIX'],
        ]);
        return;
      }
      expect(r.events.at(-1)).toMatchObject({ rowsRead: 3000, rowsWritten: 2996, rowsDeadLettered: 4 });
      const letters = await dbferry(['dead-letters', 'list', '--run', String(r.events[0].runId), '--json', '--state', state]);
      for (const bad of [/3000000000/, /24:00:00/, /10\.005/, /SIXSIX/]) expect(letters.stdout).toMatch(bad);
      const [[count, missing, sum]] = await target.rows('SELECT COUNT(*), SUM(CASE WHEN id IN (500, 1500, 2600, 2900) THEN 1 ELSE 0 END), SUM(amount) FROM odd');
      const expected = Array.from({ length: 3000 }, (_, k) => k + 1).filter((g) => ![500, 1500, 2600, 2900].includes(g)).reduce((a, g) => a + g / 4, 0);
      expect([Number(count), Number(missing), Number(sum)]).toEqual([2996, 0, expected]);
    } finally {
      await target.drop();
    }
  });
});

/** A SQLite source file in the test folder, filled by `fill`. */
function sqliteSource(name: string, fill: (db: Database.Database) => void): string {
  const file = join(dir, name);
  const db = new Database(file);
  try {
    fill(db);
  } finally {
    db.close();
  }
  return file;
}

/** `table` of the SQLite `file` replaced into a new `engine` database; `check` sees the run, its warnings and the target. */
async function runFromSqlite(engine: EngineName, file: string, table: string, options: Record<string, unknown>, check: (r: { code: number | null; stderr: string; stdout: string; events: Ev[] }, warnings: string, target: TestDb) => Promise<void>): Promise<void> {
  const target = await createTestDb(engine, dir);
  try {
    const spec = writeJob(dir, { source: { url: `sqlite://${file}` }, target: { url: target.url }, tables: [{ source: table, mode: 'replace' }], options }, `job-${Math.random().toString(36).slice(2)}.json`);
    const r = await dbferry(['run', spec, '--json', '--state', state]);
    await check(r, r.events.filter((e) => e.type === 'warning').map((e) => String(e.message)).join('\n'), target);
  } finally {
    await target.drop();
  }
}

describe.each(['postgres', 'mysql'] as const)('SQLite → %s pass-through stopped after its first megabytes', (engine) => {
  it('leaves the target session usable: the chunk goes row by row, the refused row is dead-lettered, the rest copied and verified', async () => {
    // WAL mode keeps the checks in the line itself, so the refusal comes while the bulk load is under way.
    const file = sqliteSource(`late-refusal-${engine}.db`, (db) => {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE late (id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL, pad TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO late VALUES (?, ?, ?)');
      db.transaction(() => {
        for (let g = 1; g <= 30_000; g++) insert.run(g, g === 25_000 ? '2024-01-01 24:00:00' : '2024-01-01 10:00:00', `row ${g} `.padEnd(120, 'x'));
      })();
    });
    await runFromSqlite(engine, file, 'late', { verify: 'checksum' }, async (r, warnings, target) => {
      expect(warnings).toMatch(/pass-through stopped \(column "at" holds a text value/);
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(3);
      expect(r.events.at(-1)).toMatchObject({ status: 'dead-lettered', rowsRead: 30_000, rowsWritten: 29_999, rowsDeadLettered: 1 });
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      const [[count, missing]] = await target.rows('SELECT COUNT(*), SUM(CASE WHEN id = 25000 THEN 1 ELSE 0 END) FROM late');
      expect([Number(count), Number(missing)]).toEqual([29_999, 0]);
    });
  });

  it('a NULL in a key that is not INTEGER PRIMARY KEY is not paged past: the chunk goes row by row, where the NULL keys are refused and the rest copied', async () => {
    const file = sqliteSource(`null-keys-${engine}.db`, (db) =>
      db.exec("CREATE TABLE coded (code TEXT PRIMARY KEY, v INT NOT NULL); INSERT INTO coded VALUES (NULL, 1), ('a', 2), ('b', 3), (NULL, 4), ('c', 5)"),
    );
    await runFromSqlite(engine, file, 'coded', { maxInvalidRows: '50%' }, async (r, warnings, target) => {
      expect(warnings).toMatch(/key column "code" holds NULL/);
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(3);
      expect(r.events.at(-1)).toMatchObject({ status: 'dead-lettered', rowsRead: 5, rowsWritten: 3, rowsDeadLettered: 2 });
      expect((await target.rows('SELECT code, v FROM coded ORDER BY code')).map((row) => row.map(String))).toEqual([['a', '2'], ['b', '3'], ['c', '5']]);
    });
  });
});

describe.each(['postgres', 'sqlite'] as const)('one lane passing bytes through into %s, on the main thread', (engine) => {
  it('loses its source connection mid-table and still copies every row once: the rest is read in a new snapshot, said in a warning', async () => {
    const server = await createTestDb('postgres', dir);
    const target = await createTestDb(engine, dir);
    try {
      await server.exec(`CREATE TABLE big (id int PRIMARY KEY, pad varchar(100) NOT NULL);
        INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 800000) g; ANALYZE big`);
      const expectedBig = await server.checksum('big', 'id');
      const spec = writeJob(dir, {
        source: { url: server.url },
        target: { url: target.url },
        tables: [{ source: 'big', mode: 'replace' }],
        options: { chunkRows: 30000, verify: 'checksum', retries: { max: 5, baseDelayMs: 50 } },
      }, `job-${Math.random().toString(36).slice(2)}.json`);
      let killed = 0;
      const r = await dbferryUntil(['run', spec, '--json', '--state', state], (e) => e.type === 'progress' && Number(e.rowsRead ?? 0) >= 30000, async () => {
        killed = await server.killSessions();
      });
      expect(killed, 'the run had source sessions to kill').toBeGreaterThan(0);
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
      const warnings = r.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
      expect(warnings.join('\n')).toMatch(/snapshot was lost|lost the source connection/);
      expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 800000, rowsWritten: 800000, rowsDeadLettered: 0 });
      expect(await target.checksum('big', 'id')).toEqual(expectedBig);
    } finally {
      await server.drop();
      await target.drop();
    }
  });
});
