/**
 * MySQL/MariaDB commits DDL on its own: a migration into it commits its rows,
 * then builds the new tables' indexes, foreign keys and counters. A run
 * killed in between is applied, its schema half built; `resume` builds the
 * rest (what exists already is not built again) and the run ends with the
 * full schema, the counters continuing after the source's.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const ROWS = 30_000;

const dir = tempDir('dbferry-schema-resume-');
const source = join(dir, 'source.db');

beforeAll(() => {
  const db = new Database(source);
  db.exec(`
    CREATE TABLE customer (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
    CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id INTEGER NOT NULL REFERENCES customer (id), placed TEXT NOT NULL, amount INTEGER NOT NULL, note TEXT);
    CREATE INDEX orders_customer ON orders (customer_id);
    CREATE INDEX orders_placed ON orders (placed);
    CREATE INDEX orders_amount_note ON orders (amount, note);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO customer (email, name) SELECT 'c' || i || '@example.com', 'name ' || i FROM n;
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS}) INSERT INTO orders (customer_id, placed, amount, note) SELECT 1 + i % 500, '2024-01-' || (10 + i % 20), i % 997, 'n' || (i % 13) FROM n;
    DELETE FROM orders WHERE id = ${ROWS};
  `);
  db.close();
});

let target: TestDb;
beforeAll(async () => {
  target = await createTestDb('mysql', dir);
});
afterAll(async () => target.drop());

async function indexes(table: string): Promise<string[]> {
  const rows = await target.rows(`SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' AND INDEX_NAME <> 'PRIMARY'`);
  return rows.map(([n]) => String(n)).sort();
}

async function foreignKeys(): Promise<string[]> {
  const rows = await target.rows(`SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'orders'`);
  return rows.map(([n]) => String(n));
}

describe('into MySQL/MariaDB, killed between the apply commit and the end of the schema step', () => {
  it('resume builds the rest of the schema: indexes once, the foreign key, the counters', async () => {
    const state = tempDir('dbferry-schema-resume-state-');
    const job = writeJob(dir, { source: { url: `sqlite://${source}` }, target: { url: target.url }, tables: [{ source: 'customer' }, { source: 'orders' }] });
    const killed = await dbferryUntil(['run', job, '--state', state], (e) => e.type === 'schema-started', (c) => void c.kill('SIGKILL'));
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const runId = killed.events[0].runId as string;
    // The rows are in (the apply committed), the schema is not complete: the foreign key comes last.
    expect(Number((await target.rows('SELECT COUNT(*) FROM orders'))[0][0])).toBe(ROWS - 1);
    expect(await foreignKeys()).toEqual([]);
    // A statement the server finished after its client died: one index is there before resume (made here
    // where the kill came first), which resume must not build again.
    if (!(await indexes('orders')).includes('orders_placed')) await target.exec('CREATE INDEX orders_placed ON orders (placed)');

    const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
    expect(resumed.code, `${resumed.stderr}${resumed.stdout.slice(-1000)}`).toBe(0);
    expect(resumed.events.at(-1)).toMatchObject({ type: 'summary', status: 'succeeded' });

    expect(await indexes('orders')).toEqual(['orders_amount_note', 'orders_customer', 'orders_placed']);
    expect(await indexes('customer')).toEqual(['customer_email_key']);
    expect(await foreignKeys()).toHaveLength(1);
    // The counters continue after the source's (the top order was deleted there).
    await target.exec(`INSERT INTO orders (customer_id, placed, amount) VALUES (1, '2024-02-01', 1)`);
    expect(Number((await target.rows(`SELECT MAX(id) FROM orders`))[0][0])).toBe(ROWS + 1);
    await target.exec(`INSERT INTO customer (email, name) VALUES ('new@example.com', 'new')`);
    expect(Number((await target.rows(`SELECT id FROM customer WHERE email = 'new@example.com'`))[0][0])).toBe(501);
    // Nothing left to build, and the key holds.
    expect(Number((await target.rows('SELECT COUNT(*) FROM _dbferry_schema_pending'))[0][0])).toBe(0);
    await expect(target.exec(`INSERT INTO orders (customer_id, placed, amount) VALUES (9999, '2024-02-01', 1)`)).rejects.toThrow();
    expect(resumed.events.find((e) => e.type === 'schema-started')).toMatchObject({ resumed: true });
  }, 60_000);
});
