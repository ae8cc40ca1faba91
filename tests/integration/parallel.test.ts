/**
 * Parallel lanes: a table split into key-range chunks, copied by worker
 * threads at once, each reading the run's one snapshot; killed at random
 * points and resumed, it still ends with every row exactly once.
 * (Pass-through from MariaDB and SQLite: parallel-passthrough.test.ts; a lost source
 * connection on one lane: parallel-lost-source.test.ts.)
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createMysqlDatabase, mysqlServerOptions, type MysqlTestDatabase } from '../helpers/mysql.js';
import { expectAwkward, passesThrough } from '../helpers/passthrough.js';
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
      await passesThrough(state, spec(target, 'awkward'), 3000);
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
      await passesThrough(state, spec(target, 'awkward'), 3000, /JSON pass-through/);
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


const PG_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\f': '\\f', '\u000b': '\\x0b', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u0008': '\\b' };

/** An E'' string literal of s, control characters escaped. */
function pgLiteral(s: string): string {
  return `E'${[...s].map((ch) => PG_ESCAPES[ch] ?? ch).join('')}'`;
}
