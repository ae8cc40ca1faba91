/**
 * Issue 4's guarantees (continued from safety.test.ts): dead letters across a crash,
 * dropped target and source connections, a consistent source snapshot.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createPgDatabase, type PgTestDatabase } from '../helpers/postgres.js';
import { ACCOUNTS, LEDGER, isTableStarted, job, makeSource, sourceChecksums, targetChecksums } from '../helpers/safety.js';
import { createTestDb, type EngineName } from '../helpers/targets.js';
import { startTransfers } from '../helpers/transfers.js';

let dir: string;
let state: string;
let source: string;
let expected: ReturnType<typeof sourceChecksums>;
beforeAll(() => {
  dir = tempDir('dbferry-safety-');
  state = join(dir, 'state');
  source = join(dir, 'source.db');
  makeSource(source);
  expected = sourceChecksums(source);
});

describe.each(['sqlite', 'postgres'] as EngineName[])('dead letters across a crash, into %s', (engine) => {
  it('a resumed run records each refused row once', async () => {
    // Ledger ids ending in 00 break the rule (1 row in 100): every 500-row batch refuses some.
    const refused = LEDGER / 100;
    for (const delayMs of [20, 60, 120]) {
      const target = await createTestDb(engine, dir);
      try {
        const spec = writeJob(dir, {
          source: { url: `sqlite://${source}` },
          target: { url: target.url },
          tables: [{ source: 'accounts', mode: 'upsert' }, { source: 'ledger', mode: 'append', rules: { id: { pattern: '[^0]0$|[1-9]$' } } }],
          options: { batch: { maxRows: 500 }, maxInvalidRows: '5%' },
        }, `dl-crash-${engine}-${delayMs}.json`);
        const killed = await dbferryUntil(['run', spec, '--state', state], isTableStarted('ledger'), (c) => void c.kill('SIGKILL'), { delayMs });
        const runId = killed.events[0].runId as string;
        if (killed.signal === 'SIGKILL') {
          const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
          expect(resumed.code, resumed.stderr + resumed.stdout.split('\n').filter((l) => /error|summary/.test(l)).join('\n')).toBe(3);
          expect(resumed.events.at(-1)).toMatchObject({ rowsRead: ACCOUNTS + LEDGER, rowsDeadLettered: refused });
        }
        const letters = await dbferry(['dead-letters', 'list', '--json', '--run', runId, '--state', state]);
        const keys = letters.events.map((e) => (e.key as number[])[0]);
        expect(keys.length, `${delayMs} ms`).toBe(refused);
        expect(new Set(keys).size).toBe(refused);
      } finally {
        await target.drop();
      }
    }
  }, 120_000);
});

describe.each(['postgres', 'mysql'] as EngineName[])('%s target connection killed mid-batch', (engine) => {
  it('is retried on a new connection and the run completes exactly', async () => {
    const target = await createTestDb(engine, dir);
    try {
      const r = await dbferryUntil(
        // A rule keeps the ledger on the row path (no text pass-through), batch by batch: the batch in flight is what is killed.
        ['run', job(dir, source, target, { accounts: 'upsert', ledger: 'append' }, { batch: { maxRows: 200 } }, { rules: { amount: { min: -1_000_000 } } }), '--state', state],
        isTableStarted('ledger'),
        async () => {
          expect(await target.killSessions()).toBeGreaterThan(0);
        },
        { delayMs: 30 },
      );
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
      expect(r.events.some((e) => e.type === 'retry')).toBe(true);
      expect(await targetChecksums(target)).toEqual(expected);
    } finally {
      await target.drop();
    }
  });
});

describe.each(['postgres', 'mysql'] as EngineName[])('%s source connection killed mid-read', (engine) => {
  it('is reconnected, reads on after the last staged key, and the run completes and verifies exactly', async () => {
    const ROWS = 300_000;
    const server = await createTestDb(engine, dir);
    const target = await createTestDb('sqlite', dir);
    try {
      await server.exec('CREATE TABLE big (id int PRIMARY KEY, pad varchar(100) NOT NULL)');
      await server.exec(
        engine === 'postgres'
          ? `INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, ${ROWS}) g`
          : `INSERT INTO big SELECT seq, REPEAT(MD5(seq), 3) FROM seq_1_to_${ROWS}`,
      );
      const expectedBig = await server.checksum('big', 'id');
      const spec = writeJob(dir, {
        source: { url: server.url },
        target: { url: target.url },
        // A rule keeps the table on the row path (PostgreSQL → SQLite would pass it through, a chunk per statement):
        // what is tested here is reading on after the last staged batch.
        tables: [{ source: 'big', mode: 'replace', rules: { pad: { pattern: '^[0-9a-f]+$' } } }],
        options: { batch: { maxRows: 1000 }, parallel: 1, verify: 'checksum', retries: { max: 5, baseDelayMs: 50 } },
      }, `source-kill-${engine}.json`);
      let killed = 0;
      const r = await dbferryUntil(
        ['run', spec, '--state', state],
        (e) => e.type === 'progress' && Number(e.rowsRead ?? 0) >= 20_000,
        async () => {
          killed = await server.killSessions();
        },
      );
      expect(killed).toBeGreaterThan(0);
      expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
      expect(r.events.some((e) => e.type === 'warning' && String(e.message).includes('lost the source connection'))).toBe(true);
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      expect(await target.checksum('big', 'id')).toEqual(expectedBig);
      // Killed again while verifying (300k rows take about a second): the comparison starts over on new sessions.
      let killedInVerify = 0;
      const again = await dbferryUntil(
        ['run', spec, '--state', state],
        (e) => e.type === 'apply-committed',
        async () => {
          killedInVerify = await server.killSessions();
        },
        { delayMs: 150 },
      );
      expect(killedInVerify).toBeGreaterThan(0);
      expect(again.code, again.stderr + again.stdout.slice(-800)).toBe(0);
      expect(again.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      expect(expectedBig!.rows).toBe(ROWS);
    } finally {
      await target.drop();
      await server.drop();
    }
  });
});

describe('a consistent source snapshot', () => {
  let pgSource: PgTestDatabase;
  beforeAll(async () => {
    pgSource = await createPgDatabase('dbferry_snapshot');
    const c = new pg.Client({ connectionString: pgSource.url });
    await c.connect();
    await c.query(`CREATE TABLE a (id int PRIMARY KEY, balance int NOT NULL); CREATE TABLE b (id int PRIMARY KEY, balance int NOT NULL);
      INSERT INTO a SELECT g, 1000 FROM generate_series(1, 20000) g; INSERT INTO b SELECT g, 1000 FROM generate_series(1, 20000) g;`);
    await c.end();
  });
  afterAll(() => pgSource?.drop());

  it.each(['sqlite', 'mysql'] as EngineName[])('rows moved between two tables during a PostgreSQL → %s run all appear or none do', async (engine) => {
    const target = await createTestDb(engine, dir);
    const mover = new pg.Client({ connectionString: pgSource.url });
    await mover.connect();
    const transfers = startTransfers((sql, params) => mover.query(sql, params), (i) => `$${i}`);
    try {
      const spec = writeJob(dir, {
        source: { url: pgSource.url },
        target: { url: target.url },
        tables: [{ source: 'a', mode: 'replace' }, { source: 'b', mode: 'replace' }],
        // Two lanes where the target takes them: each reads through its own session, joined to one snapshot.
        options: { batch: { maxRows: 200 }, parallel: 2 },
      }, `snap-${engine}.json`);
      const r = await dbferry(['run', spec, '--json', '--state', state]);
      await transfers.stop();
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const order = r.events.filter((e) => e.type === 'table-started' || e.type === 'table-staged').map((e) => e.type);
      if (engine === 'mysql') expect(order.slice(0, 2)).toEqual(['table-started', 'table-started']);
      else expect(r.events.some((e) => e.type === 'warning' && String(e.message).includes('staged one chunk at a time'))).toBe(true);
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
