/**
 * Issue 5: no row vanishes. Each bad row ends in the dead-letter queue with a
 * reason, the counts add up, retry applies what was fixed, limits roll back,
 * a webhook hears about failures, and verify finds a single changed value.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

let dir: string;
let state: string;
let target: TestDb;
const source = () => join(dir, 'source.db');

function makeSource(): void {
  const db = new Database(source());
  db.exec(`
    CREATE TABLE customers (id INTEGER PRIMARY KEY, code TEXT, name TEXT, age INTEGER, email TEXT, country TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
    INSERT INTO customers SELECT i, 'C' || i, 'name ' || i, 20 + i % 50, 'c' || i || '@example.com', 'DE' FROM n;
    UPDATE customers SET name = NULL WHERE id = 101;                        -- NOT NULL
    UPDATE customers SET code = 'C-TOO-LONG-CODE' WHERE id = 202;           -- varchar(8)
    UPDATE customers SET age = 70000 WHERE id = 303;                        -- smallint range
    UPDATE customers SET email = 'c5@example.com' WHERE id = 404;           -- unique index
    UPDATE customers SET country = 'XX' WHERE id = 505;                     -- foreign key
    UPDATE customers SET code = 'X606' WHERE id = 606;                      -- rules.code.pattern`);
  db.close();
}

async function makeTarget(): Promise<void> {
  await target.exec(`
    CREATE TABLE countries (code char(2) PRIMARY KEY);
    INSERT INTO countries VALUES ('DE'), ('FR');
    CREATE TABLE customers (id bigint PRIMARY KEY, code varchar(8), name text NOT NULL, age smallint,
      email text UNIQUE, country char(2) REFERENCES countries (code));`);
}

function job(options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, pattern = '^C[0-9]+$') {
  const tables = [{ source: 'customers', mode: 'upsert', allowLossy: true, rules: { code: { pattern } } }];
  return writeJob(dir, { name: 'customers', source: { url: `sqlite://${source()}` }, target: { url: target.url }, tables, options, ...extra }, `job-${Math.random().toString(36).slice(2)}.json`);
}

beforeAll(async () => {
  dir = tempDir('dbferry-dlq-');
  state = join(dir, 'state');
  makeSource();
  target = await createTestDb('postgres', dir);
  await makeTarget();
});
afterAll(() => target?.drop());

describe('rows the target refuses', () => {
  it('maxInvalidRows: 0 fails the run and leaves the target untouched (exit 1)', async () => {
    const before = await target.checksum('customers', 'id');
    const r = await dbferry(['run', job({ maxInvalidRows: 0 }), '--json', '--state', state]);
    expect(r.code).toBe(1);
    const kept = await dbferry(['dead-letters', 'list', '--all', '--json', '--run', String(r.events[0].runId), '--state', state]);
    expect(kept.events.length).toBeGreaterThan(0);
    expect(kept.events.every((e) => e.status === 'rolled-back')).toBe(true);
    expect(String(r.events.at(-1)!.error)).toMatch(/more than options.maxInvalidRows \(0 rows\)|more than 0 rows were refused/);
    expect(await target.checksum('customers', 'id')).toEqual(before);
  });

  it('each bad row is dead-lettered with its reason; the good rows land; counts add up (exit 3)', async () => {
    const r = await dbferry(['run', job({ maxInvalidRows: 10 }), '--json', '--state', state]);
    expect(r.code, r.stderr).toBe(3);
    const summary = r.events.at(-1)!;
    expect(summary).toMatchObject({ status: 'dead-lettered', rowsRead: 2000, rowsWritten: 1994, rowsDeadLettered: 6 });
    expect((summary.tables as { verified: string }[])[0].verified).toBe('checksum');
    const [[count]] = await target.rows('SELECT count(*) FROM customers');
    expect(Number(count)).toBe(1994);

    const list = await dbferry(['dead-letters', 'list', '--json', '--state', state]);
    expect(list.events.every((e) => e.runId === summary.runId)).toBe(true);
    const letters = list.events.map((e) => ({ key: (e.key as unknown[])[0], reason: (e.reasons as string[])[0] }));
    expect(letters.map((l) => l.key).sort()).toEqual([101, 202, 303, 404, 505, 606]);
    const reason = (key: number) => letters.find((l) => l.key === key)!.reason;
    expect(reason(101)).toMatch(/name.*null|null value in column "name"/i);
    expect(reason(202)).toMatch(/code|character varying\(8\)|too long/i);
    expect(reason(303)).toMatch(/age|smallint|out of range/i);
    expect(reason(404)).toMatch(/customers_email_key|unique/i);
    expect(reason(505)).toMatch(/customers_country_fkey|foreign key/i);
    expect(reason(606)).toBe('code: "X606" does not match rules.code.pattern ^C[0-9]+$');
  });

  it('after the target is fixed, retry applies those rows and empties the queue', async () => {
    await target.exec(`ALTER TABLE customers ALTER COLUMN code TYPE varchar(32), ALTER COLUMN age TYPE integer, ALTER COLUMN name DROP NOT NULL;
      INSERT INTO countries VALUES ('XX'); UPDATE customers SET email = 'old-c5@example.com' WHERE id = 5;`);
    // The rule was too strict: the user fixes it in the job file and retries with it.
    const r = await dbferry(['dead-letters', 'retry', '--job', job({}, {}, '^[A-Z][A-Z0-9-]*$'), '--json', '--state', state]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 6, rowsWritten: 6, rowsDeadLettered: 0 });
    const list = await dbferry(['dead-letters', 'list', '--state', state]);
    expect(list.stdout).toContain('the dead-letter queue is empty');
    const [[count]] = await target.rows('SELECT count(*) FROM customers');
    expect(Number(count)).toBe(2000);
    const [[age]] = await target.rows('SELECT age FROM customers WHERE id = 303');
    expect(Number(age)).toBe(70000);
  });
});

describe.each(['mysql', 'postgres'] as const)('a 25 MB value into %s', (engine) => {
  it('is loaded whole and verified, within a lane\'s heap (MariaDB: 1.5 times max_allowed_packet, which LOAD DATA in pieces does not hit)', async () => {
    const server = await createTestDb(engine, dir);
    const file = join(dir, `big-values-${engine}.db`);
    const db = new Database(file);
    db.exec('CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO docs VALUES (?, ?)');
    for (let i = 1; i <= 50; i++) if (i !== 25) insert.run(i, `doc ${i}`);
    // 25 MB, with every character the bulk formats escape (NUL only where the engine stores it) and
    // non-ASCII ones, so the JavaScript string takes two bytes a character: 50 MB of heap.
    const piece = engine === 'mysql' ? 'abc\tdef\\gh\r\n\u0000' : 'abc\tdef\\gh\r\nij';
    const big = `ü${piece.repeat(Math.ceil(25_165_824 / piece.length))}`;
    insert.run(25, big);
    db.close();
    try {
      const spec = writeJob(dir, { name: 'docs', source: { url: `sqlite://${file}` }, target: { url: server.url }, tables: [{ source: 'docs', mode: 'replace' }] }, `big-values-${engine}.json`);
      const r = await dbferry(['run', spec, '--json', '--state', state]);
      expect(r.code, r.stderr + r.stdout.slice(-600)).toBe(0);
      expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 50, rowsWritten: 50, rowsDeadLettered: 0 });
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true, method: 'checksum' });
      const [[count, length, sha]] = await server.rows(
        engine === 'mysql'
          ? 'SELECT count(*), max(char_length(body)), (SELECT sha2(body, 256) FROM docs WHERE id = 25) FROM docs'
          : "SELECT count(*), max(char_length(body)), (SELECT encode(sha256(convert_to(body, 'UTF8')), 'hex') FROM docs WHERE id = 25) FROM docs",
      );
      expect(Number(count)).toBe(50);
      expect(Number(length)).toBe(big.length);
      expect(sha).toBe(createHash('sha256').update(big).digest('hex'));
    } finally {
      await server.drop();
    }
  }, 120_000);
});

describe('notifications', () => {
  it('a webhook on loopback receives the summary of a failed run; a dead webhook never fails a run', async () => {
    const received: unknown[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const failing = writeJob(dir, { source: { url: `sqlite://${source()}` }, target: { url: target.url }, tables: [{ source: 'no_such_table' }], notify: { webhook: `http://127.0.0.1:${port}/hook?token=s3cret` } }, 'hook.json');
      const r = await dbferry(['run', failing, '--json', '--state', state]);
      expect(r.code).toBe(2);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ method: 'POST', type: 'application/json', body: { type: 'summary', status: 'failed', job: 'unnamed job' } });
      expect(JSON.stringify((received[0] as { body: unknown }).body)).toContain('no_such_table');
    } finally {
      server.close();
    }
    const dead = await dbferry(['run', job({}, { notify: { webhook: `http://127.0.0.1:${port}/gone?token=s3cret` } }), '--json', '--state', state]);
    expect(dead.code).toBe(3);
    const warning = dead.events.find((e) => e.type === 'warning' && String(e.message).includes('webhook'));
    expect(warning?.message).toContain(`could not notify the webhook at http://127.0.0.1:${port}`);
    expect(dead.stdout).not.toContain('s3cret');
    expect(dead.events.at(-1)!.type).toBe('summary');
  });
});

describe('verify', () => {
  it('finds a single changed value in a 1,000,000-row table and names its key range', async () => {
    await target.exec(`CREATE TABLE big (id bigint PRIMARY KEY, v text, n numeric(12,2));
      INSERT INTO big SELECT g, md5(g::text), g / 100.0 FROM generate_series(1, 1000000) g;
      CREATE TABLE big_copy AS SELECT * FROM big; ALTER TABLE big_copy ADD PRIMARY KEY (id);`);
    const spec = writeJob(dir, { source: { url: target.url }, target: { url: target.url }, tables: [{ source: 'big', target: 'big_copy', mode: 'replace' }] }, 'verify.json');
    const plan = await dbferry(['plan', spec, '--json']);
    const planned = (plan.events[0].tables as { estimate?: number; bytes?: number }[])[0];
    expect(planned.bytes).toBeGreaterThan(50_000_000); // 1M rows of md5 text and a numeric
    const same = await dbferry(['verify', spec]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('big → public.big_copy: equal (checksum; source 1,000,000, target 1,000,000 rows)');
    await target.exec(`UPDATE big_copy SET n = n + 0.01 WHERE id = 654321`);
    const changed = await dbferry(['verify', spec]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('DIFFERENT');
    // The servers sum up key ranges of the two tables (same engine, same types); the range that differs is compared
    // row by row, which names the row and the 10,000 keys around it (where they start depends on the ranges).
    const around = (out: string, message: string) => {
      const m = new RegExp(`keys (\\d+) … (\\d+): row (\\d+) ${message}`).exec(out);
      expect(m, out).not.toBeNull();
      const [from, to, row] = m!.slice(1).map(Number);
      expect(from <= row && row <= to && to - from < 10_000, out).toBe(true);
      return row;
    };
    expect(around(changed.stdout, 'differs in "n" \\(source "6543.21", target "6543.22"\\)')).toBe(654321);
    // A row gone from the target, and one it has that the source has not.
    await target.exec(`UPDATE big_copy SET n = n - 0.01 WHERE id = 654321; DELETE FROM big_copy WHERE id = 123456; INSERT INTO big_copy VALUES (1000001, 'extra', 0); ANALYZE big, big_copy`);
    const moved = await dbferry(['verify', spec]);
    expect(moved.code).toBe(1);
    expect(around(moved.stdout, 'is missing in the target')).toBe(123456);
    expect(around(moved.stdout, 'is in the target but not in the source')).toBe(1000001);
    expect(moved.stdout).not.toMatch(/654321/);
    await target.exec(`INSERT INTO big_copy VALUES (123456, md5('123456'), 1234.56); DELETE FROM big_copy WHERE id = 1000001`);
    const again = await dbferry(['verify', spec]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('equal (checksum; source 1,000,000, target 1,000,000 rows)');
  }, 120_000);
});
