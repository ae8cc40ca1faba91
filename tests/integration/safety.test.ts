/**
 * Issue 4's guarantees, each against real servers and every target engine:
 * all or nothing, undo, exactly once across crashes, a consistent source.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createPgDatabase, type PgTestDatabase } from '../helpers/postgres.js';
import { ENGINES, createTestDb, digest, type EngineName, type TestDb } from '../helpers/targets.js';
import { startTransfers } from '../helpers/transfers.js';

const ACCOUNTS = 1000;
const LEDGER = 20_000;
type Ev = Record<string, unknown> & { type: string };

/** A SQLite source: accounts and a ledger that references them. */
function makeSource(path: string, version = 1): void {
  const db = new Database(path);
  db.exec(`
    DROP TABLE IF EXISTS ledger; DROP TABLE IF EXISTS accounts;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance NUMERIC(12,2) NOT NULL);
    CREATE TABLE ledger (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id), amount NUMERIC(12,2) NOT NULL, memo TEXT);`);
  const a = db.prepare('INSERT INTO accounts VALUES (?, ?, ?)');
  const l = db.prepare('INSERT INTO ledger VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= ACCOUNTS; i++) a.run(i, `owner ${i} v${version}`, ((i * 37) % 100000) / 100);
    for (let i = 1; i <= LEDGER; i++) l.run(i, 1 + (i % ACCOUNTS), (((i * 7919) % 50000) - 10000) / 100, i % 10 ? `memo ${i} — ü` : null);
  })();
  db.close();
}

function sourceChecksums(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      accounts: digest(db.prepare('SELECT * FROM accounts ORDER BY id').raw(true).all() as unknown[][]),
      ledger: digest(db.prepare('SELECT * FROM ledger ORDER BY id').raw(true).all() as unknown[][]),
    };
  } finally {
    db.close();
  }
}

async function targetChecksums(target: TestDb) {
  return { accounts: await target.checksum('accounts', 'id'), ledger: await target.checksum('ledger', 'id') };
}

function job(dir: string, source: string, target: TestDb, modes: { accounts: string; ledger: string }, options: Record<string, unknown> = {}, ledger: Record<string, unknown> = {}) {
  return writeJob(dir, {
    name: 'safety',
    source: { url: `sqlite://${source}` },
    target: { url: target.url },
    tables: [
      { source: 'accounts', mode: modes.accounts },
      { source: 'ledger', mode: modes.ledger, ...ledger },
    ],
    options: { batch: { maxRows: 500 }, retries: { max: 5, baseDelayMs: 50 }, ...options },
  }, `job-${Math.random().toString(36).slice(2)}.json`);
}

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

const isTableStarted = (table: string) => (e: Ev) => e.type === 'table-started' && e.table === table;
const KILL_POINTS: { name: string; at: (e: Ev) => boolean; delayMs: number }[] = [
  { name: 'right after planning', at: (e) => e.type === 'plan', delayMs: 0 },
  { name: 'staging the first table', at: isTableStarted('accounts'), delayMs: 0 },
  { name: 'early in the second table', at: isTableStarted('ledger'), delayMs: 0 },
  { name: 'mid second table', at: isTableStarted('ledger'), delayMs: 40 },
  { name: 'late in the second table', at: isTableStarted('ledger'), delayMs: 120 },
  { name: 'as apply starts', at: (e) => e.type === 'apply-started', delayMs: 0 },
  { name: 'during apply', at: (e) => e.type === 'apply-started', delayMs: 4 },
  { name: 'after the apply commit', at: (e) => e.type === 'apply-committed', delayMs: 0 },
];

describe.each(ENGINES)('into %s', (engine: EngineName) => {
  it(`SIGKILL at ${KILL_POINTS.length} points, then resume: target equals source, no duplicates`, async () => {
    for (const point of KILL_POINTS) {
      const target = await createTestDb(engine, dir);
      try {
        const killed = await dbferryUntil(['run', job(dir, source, target, { accounts: 'upsert', ledger: 'append' }), '--state', state], point.at, (c) => void c.kill('SIGKILL'), { delayMs: point.delayMs });
        const runId = killed.events[0]?.runId as string;
        expect(runId, point.name).toBeTruthy();
        if (killed.signal === 'SIGKILL') {
          // Untouched until the apply commits, then complete. A commit may land just before the kill
          // without its event reaching us (promoting a new table is a rename: apply takes a millisecond),
          // so a table the events do not say is committed is absent or complete, never partial; and
          // where apply is one transaction (PostgreSQL, SQLite) both tables are one or the other
          // together. MySQL's DDL commits on its own: new tables are renamed into place one by one.
          const now = await targetChecksums(target);
          const committed = killed.events.some((e) => e.type === 'apply-committed');
          const complete = (t: 'accounts' | 'ledger') => JSON.stringify(now[t]) === JSON.stringify(expected[t]);
          for (const t of ['accounts', 'ledger'] as const) {
            if (committed) expect(now[t], `${point.name}: ${t}`).toEqual(expected[t]);
            else expect(now[t] === null || complete(t), `${point.name}: ${t} partly written`).toBe(true);
          }
          if (!committed && engine !== 'mysql') expect(now.accounts === null, `${point.name}: one table applied without the other`).toBe(now.ledger === null);
          const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
          // A fast run (tables passed through) may have finished, and said so in its history, as the kill landed.
          const finished = resumed.code === 2 && /finished \(succeeded\); there is nothing to resume/.test(resumed.stderr);
          if (!finished) {
            expect(resumed.code, `${point.name}: ${resumed.stderr}${resumed.stdout.slice(-500)}`).toBe(0);
            // Every row written once: none refused as a duplicate of a row staged before the kill.
            expect(resumed.events.at(-1), point.name).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: ACCOUNTS + LEDGER, rowsWritten: ACCOUNTS + LEDGER, rowsDeadLettered: 0 });
          }
        } else {
          // It finished before the kill landed: still a valid outcome.
          expect(killed.code, point.name).toBe(0);
        }
        expect(await targetChecksums(target), point.name).toEqual(expected);
        const staging = (await target.tables()).filter((t) => t.startsWith('_dbferry_stg_'));
        expect(staging, point.name).toEqual([]);
      } finally {
        await target.drop();
      }
    }
  }, 240_000);

  it('a failure during apply leaves every target table exactly as before; exit 1', async () => {
    const target = await createTestDb(engine, dir);
    try {
      const seeded = await dbferry(['run', job(dir, source, target, { accounts: 'replace', ledger: 'replace' }), '--state', state]);
      expect(seeded.code).toBe(0);
      await target.exec(engine === 'postgres' ? `UPDATE accounts SET owner = 'before' WHERE id < 10; DELETE FROM ledger WHERE id > 19000` : `UPDATE accounts SET owner = 'before' WHERE id < 10`);
      if (engine === 'mysql') await target.exec('DELETE FROM ledger WHERE id > 19000');
      if (engine === 'sqlite') await target.exec('DELETE FROM ledger WHERE id > 19000');
      const before = await targetChecksums(target);
      const triggers: Record<EngineName, string[]> = {
        postgres: [
          `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 1000 THEN RAISE EXCEPTION 'ledger row 1000 refused by trigger'; END IF; RETURN NEW; END $$`,
          'CREATE TRIGGER boom BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION boom()',
        ],
        mysql: [`CREATE TRIGGER boom BEFORE INSERT ON ledger FOR EACH ROW BEGIN IF NEW.id = 1000 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger row 1000 refused by trigger'; END IF; END`],
        sqlite: [`CREATE TRIGGER boom BEFORE INSERT ON ledger WHEN NEW.id = 1000 BEGIN SELECT RAISE(ABORT, 'ledger row 1000 refused by trigger'); END`],
      };
      for (const sql of triggers[engine]) await target.exec(sql);
      // With the default "dead-letter", a refused row is isolated and the rest applied (exit 3);
      // a user who wants all or nothing for such rows says "fail".
      const r = await dbferry(['run', job(dir, source, target, { accounts: 'mirror', ledger: 'replace' }, { onInvalidRow: 'fail' }), '--json', '--state', state]);
      expect(r.code).toBe(1);
      expect(r.events.at(-1)).toMatchObject({ type: 'summary', status: 'failed' });
      expect(String(r.events.at(-1)!.error)).toContain('ledger row 1000 refused by trigger');
      expect(await targetChecksums(target)).toEqual(before);
      expect((await target.tables()).filter((t) => /^_dbferry_(stg|bak)_/.test(t))).toEqual([]);
    } finally {
      await target.drop();
    }
  });

  it.each(['replace', 'upsert', 'mirror'])('backups restore undoes a %s run exactly', async (mode) => {
    const target = await createTestDb(engine, dir);
    const src = join(dir, `restore-${engine}-${mode}.db`);
    makeSource(src, 1);
    try {
      expect((await dbferry(['run', job(dir, src, target, { accounts: 'upsert', ledger: 'upsert' }), '--state', state])).code).toBe(0);
      const v1 = await targetChecksums(target);
      // The source moves on: changed, new and deleted rows.
      const db = new Database(src);
      db.exec(`UPDATE accounts SET owner = 'changed', balance = 1.5 WHERE id % 7 = 0;
               INSERT INTO accounts VALUES (5000, 'new', 2.25);
               DELETE FROM ledger WHERE id % 11 = 0;
               INSERT INTO ledger VALUES (90001, 5000, 3.75, 'new row');`);
      db.close();
      const run2 = await dbferry(['run', job(dir, src, target, { accounts: mode, ledger: mode }), '--json', '--state', state]);
      expect(run2.code).toBe(0);
      // Upsert keeps target rows the source no longer has; replace and mirror make the target equal.
      if (mode !== 'upsert') expect(await targetChecksums(target)).toEqual(sourceChecksums(src));
      else expect(await targetChecksums(target)).not.toEqual(v1);
      const runId = run2.events[0].runId as string;
      const restore = await dbferry(['backups', 'restore', runId, '--state', state]);
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.stdout).toContain(`restored the target as it was before run ${runId}`);
      expect(await targetChecksums(target)).toEqual(v1);
      const again = await dbferry(['backups', 'restore', runId, '--state', state]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('already undone');
    } finally {
      await target.drop();
    }
  });

  it('Ctrl-C mid-run: exit 130, target untouched, resume completes it', async () => {
    const target = await createTestDb(engine, dir);
    try {
      // A rule keeps the ledger on the row path, 100 rows a batch: a pass-through would copy its 20,000 rows
      // before the signal arrives (CI saw exit 0 into MariaDB), and the run would rightly finish.
      const slow = job(dir, source, target, { accounts: 'upsert', ledger: 'append' }, { batch: { maxRows: 100 } }, { rules: { amount: { min: -1_000_000 } } });
      const r = await dbferryUntil(['run', slow, '--state', state], isTableStarted('ledger'), (c) => void c.kill('SIGINT'), { delayMs: 5 });
      expect(r.code).toBe(130);
      expect(r.events.at(-1)).toMatchObject({ type: 'summary', status: 'cancelled' });
      const now = await targetChecksums(target);
      expect(now.accounts).toBeNull();
      expect(now.ledger).toBeNull();
      const resumed = await dbferry(['resume', r.events[0].runId as string, '--json', '--state', state]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await targetChecksums(target)).toEqual(expected);
    } finally {
      await target.drop();
    }
  });
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
