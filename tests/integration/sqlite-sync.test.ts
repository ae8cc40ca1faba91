/**
 * The walking skeleton as a user drives it: the CLI against real SQLite files.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT, dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { sqliteAll, sqliteChecksum, sqliteExec } from '../helpers/sqlite.js';

const SHOP = join(ROOT, 'examples/shop.db');
const TABLES = { customers: 'id', products: 'id', orders: 'id', order_items: 'order_id, line' } as const;

let dir: string;
let state: string;
beforeEach(() => {
  dir = tempDir();
  state = join(dir, 'state');
});

function job(mode: string, extra: Record<string, unknown> = {}) {
  return writeJob(dir, {
    name: `shop ${mode}`,
    source: { url: `sqlite://${SHOP}` },
    target: { url: 'sqlite:copy.db' },
    tables: Object.keys(TABLES).map((source) => ({ source, mode })),
    ...extra,
  });
}

function expectCopyEqualsSource() {
  for (const [table, key] of Object.entries(TABLES)) {
    expect(sqliteChecksum(join(dir, 'copy.db'), table, key), table).toEqual(sqliteChecksum(SHOP, table, key));
  }
}

function targetChecksums() {
  return Object.entries(TABLES).map(([t, k]) => sqliteChecksum(join(dir, 'copy.db'), t, k));
}

describe('SQLite → SQLite with the CLI', () => {
  it('runs the bundled demo job: exact copy, summary, exit 0', async () => {
    copyFileSync(SHOP, join(dir, 'shop.db'));
    copyFileSync(join(ROOT, 'examples/demo.json'), join(dir, 'demo.json'));
    const r = await dbferry(['run', join(dir, 'demo.json'), '--state', state]);
    expect(r.stderr).toContain('applying 4 tables in one transaction');
    expect(r.stdout).toMatch(/^done: 8,672 rows read, 8,672 written, 0 dead-lettered/);
    expect(r.code).toBe(0);
    for (const [table, key] of Object.entries(TABLES)) {
      expect(sqliteChecksum(join(dir, 'demo-copy.db'), table, key), table).toEqual(sqliteChecksum(SHOP, table, key));
    }
    // No staging table is left behind; the apply transaction recorded the run in the target.
    expect(sqliteAll(join(dir, 'demo-copy.db'), "SELECT name FROM sqlite_master WHERE substr(name, 1, 13) = '_dbferry_stg_'")).toEqual([]);
    expect(sqliteAll(join(dir, 'demo-copy.db'), 'SELECT count(*) AS n FROM _dbferry_applied_runs')).toEqual([{ n: 1 }]);
    // Again, nothing changed: the headline says no row was written, not the rows it staged to compare.
    const again = await dbferry(['run', join(dir, 'demo.json'), '--state', state]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^done: [\d,]+ rows read, 0 written, 8,672 unchanged, 0 dead-lettered/);
  });

  it('emits JSON events, first run-started and last the summary, and records the run', async () => {
    const r = await dbferry(['run', job('upsert'), '--json', '--state', state]);
    expect(r.code).toBe(0);
    expect(r.events[0]).toMatchObject({ type: 'run-started' });
    const summary = r.events.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: 8672, rowsWritten: 8672, rowsDeadLettered: 0 });
    expect((summary.tables as unknown[]).length).toBe(4);
    const runs = await dbferry(['runs', '--json', '--state', state]);
    expect(runs.events).toHaveLength(1);
    expect(runs.events[0]).toMatchObject({ id: summary.runId, status: 'succeeded', rowsWritten: 8672 });
    const stored = new Database(join(state, 'dbferry.db'), { readonly: true });
    const types = stored.prepare('SELECT type FROM run_events WHERE run_id = ? ORDER BY seq').pluck().all(summary.runId);
    stored.close();
    expect(types[0]).toBe('run-started');
    expect(types.at(-1)).toBe('summary');
    expect(types).toContain('apply-committed');
  });

  it('takes a YAML job file as it takes JSON, and names a YAML mistake', async () => {
    const yaml = join(dir, 'job.yaml');
    writeFileSync(yaml, `name: shop in YAML\nsource: { url: "sqlite://${SHOP}" }\ntarget: { url: "sqlite:copy.db" }\ntables:\n${Object.keys(TABLES).map((t) => `  - source: ${t}\n    mode: upsert\n`).join('')}`);
    const r = await dbferry(['run', yaml, '--state', state]);
    expect(r.code, r.stderr).toBe(0);
    expectCopyEqualsSource();
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, 'name: [unclosed\n');
    const b = await dbferry(['plan', broken]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('(file): not valid YAML');
  });

  it('upsert twice gives the same target (idempotent)', async () => {
    const spec = job('upsert');
    expect((await dbferry(['run', spec, '--state', state])).code).toBe(0);
    const first = targetChecksums();
    const second = await dbferry(['run', spec, '--json', '--state', state]);
    expect(second.code).toBe(0);
    expect(targetChecksums()).toEqual(first);
    const applied = second.events.filter((e) => e.type === 'table-applied');
    expect(applied.map((e) => e.inserted)).toEqual([0, 0, 0, 0]);
    expectCopyEqualsSource();
  });

  it('mirror deletes target rows absent from the source and restores changed ones', async () => {
    expect((await dbferry(['run', job('upsert'), '--state', state])).code).toBe(0);
    sqliteExec(
      join(dir, 'copy.db'),
      // A row whose order is gone: the copy's foreign keys would refuse it, so they are off for this edit.
      `PRAGMA foreign_keys = OFF;
       INSERT INTO order_items VALUES (999999, 1, 1, 1, '1.00');
       INSERT INTO customers VALUES (100000, 'Ghost', 'ghost@example.com', 'XX', 0, '2024-01-01 00:00:00');
       UPDATE products SET price = '0.01' WHERE id = 7;`,
    );
    const r = await dbferry(['run', job('mirror'), '--json', '--state', state]);
    expect(r.code).toBe(0);
    const deleted = Object.fromEntries(r.events.filter((e) => e.type === 'table-applied').map((e) => [e.table, e.deleted]));
    expect(deleted).toEqual({ customers: 1, products: 0, orders: 0, order_items: 1 });
    expectCopyEqualsSource();
  });

  it('replace gives an exact copy whatever the target held', async () => {
    expect((await dbferry(['run', job('upsert'), '--state', state])).code).toBe(0);
    // Orders whose items stay behind: the copy's foreign keys would refuse it, so they are off for this edit.
    sqliteExec(join(dir, 'copy.db'), `PRAGMA foreign_keys = OFF; DELETE FROM orders WHERE id > 1500; UPDATE customers SET name = 'changed';`);
    const r = await dbferry(['run', job('replace'), '--state', state]);
    expect(r.code).toBe(0);
    expectCopyEqualsSource();
  });

  it('append adds rows; "where", "columns" and "target" pick a subset', async () => {
    const part = (where: string) =>
      writeJob(dir, {
        source: { url: `sqlite://${SHOP}` },
        target: { url: 'sqlite:copy.db' },
        tables: [{ source: 'customers', target: 'people', mode: 'append', columns: ['id', 'name', 'country'], where }],
      });
    expect((await dbferry(['run', part('id <= 100'), '--state', state])).code).toBe(0);
    expect(sqliteAll(join(dir, 'copy.db'), 'SELECT count(*) AS n FROM people')).toEqual([{ n: 100 }]);
    const r = await dbferry(['run', part("id > 100 AND country = 'DE'"), '--state', state]);
    expect(r.code).toBe(0);
    const [{ n: de }] = sqliteAll(SHOP, "SELECT count(*) AS n FROM customers WHERE id > 100 AND country = 'DE'") as { n: number }[];
    expect(sqliteAll(join(dir, 'copy.db'), 'SELECT count(*) AS n FROM people')).toEqual([{ n: 100 + de }]);
    expect(Object.keys(sqliteAll(join(dir, 'copy.db'), 'SELECT * FROM people LIMIT 1')[0] as object)).toEqual(['id', 'name', 'country']);
  });
});

describe('bad input leaves the target untouched', () => {
  it('a spec with three mistakes exits 2 and names all three', async () => {
    const spec = writeJob(dir, {
      source: { url: `sqlite://${SHOP}` },
      target: { url: 'mssql://x' },
      tables: [{ source: 'orders', mode: 'merge' }],
      options: { batch: { maxRows: 0 } },
    });
    const r = await dbferry(['run', spec, '--state', state]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has 3 problems');
    expect(r.stderr).toContain('target.url: must start with postgres://');
    expect(r.stderr).toContain('tables[0].mode: expected one of "replace", "append", "upsert", "mirror"');
    expect(r.stderr).toContain('options.batch.maxRows: must be at least 1');
    expect(existsSync(join(dir, 'copy.db'))).toBe(false);
  });

  it('a missing source file is named, and no target is created', async () => {
    const spec = writeJob(dir, { source: { url: 'sqlite:missing.db' }, target: { url: 'sqlite:copy.db' }, tables: [{ source: 'orders' }] });
    const r = await dbferry(['run', spec, '--state', state]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`the source SQLite file ${join(dir, 'missing.db')} does not exist`);
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
    expect(existsSync(join(dir, 'copy.db'))).toBe(false);
  });

  it('an unknown table is named with the tables that exist; exit 2; target unchanged', async () => {
    expect((await dbferry(['run', job('upsert'), '--state', state])).code).toBe(0);
    const before = targetChecksums();
    const spec = writeJob(dir, { source: { url: `sqlite://${SHOP}` }, target: { url: 'sqlite:copy.db' }, tables: [{ source: 'customers', mode: 'replace' }, { source: 'invoices' }] });
    const r = await dbferry(['run', spec, '--state', state]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('tables[1] (invoices): no table "invoices" in the source; it has: customers, order_items, orders, products');
    expect(targetChecksums()).toEqual(before);
    const plan = await dbferry(['plan', spec]);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toContain('no table "invoices" in the source');
  });

  it('a run refused by its plan, or a plan alone, leaves no new target file behind', async () => {
    const spec = writeJob(dir, { source: { url: `sqlite://${SHOP}` }, target: { url: 'sqlite:new.db' }, tables: [{ source: 'invoices' }] });
    const r = await dbferry(['run', spec, '--state', state]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('no table "invoices" in the source');
    expect(existsSync(join(dir, 'new.db')), 'an empty new.db was left behind').toBe(false);
    const planned = writeJob(dir, { source: { url: `sqlite://${SHOP}` }, target: { url: 'sqlite:new.db' }, tables: [{ source: 'customers' }] });
    expect((await dbferry(['plan', planned])).code).toBe(0);
    expect(existsSync(join(dir, 'new.db')), 'dbferry plan created new.db').toBe(false);
    // A target that existed, empty, stays: it was not dbferry's to remove.
    sqliteExec(join(dir, 'empty.db'), 'VACUUM');
    const existing = writeJob(dir, { source: { url: `sqlite://${SHOP}` }, target: { url: 'sqlite:empty.db' }, tables: [{ source: 'invoices' }] });
    expect((await dbferry(['run', existing, '--state', state])).code).toBe(2);
    expect(existsSync(join(dir, 'empty.db'))).toBe(true);
  });

  it('one file as both source and target is refused by the plan, saying why; exit 2; the file unchanged', async () => {
    const file = join(dir, 'same.db');
    copyFileSync(SHOP, file);
    const before = sqliteChecksum(file, 'customers', 'id');
    const spec = writeJob(dir, { source: { url: `sqlite://${file}` }, target: { url: 'sqlite:same.db' }, tables: [{ source: 'customers', target: 'customers_copy', mode: 'replace' }] });
    const r = await dbferry(['run', spec, '--state', state]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/the source and the target are the same SQLite file .*same\.db.*copy into another file/);
    expect(sqliteChecksum(file, 'customers', 'id')).toEqual(before);
    expect((sqliteAll(file, "SELECT name FROM sqlite_master WHERE name = 'customers_copy'") as unknown[]).length).toBe(0);
  });

  it('a locked target fails with a clear message, and is unchanged once the lock is gone', async () => {
    expect((await dbferry(['run', job('upsert'), '--state', state])).code).toBe(0);
    const before = targetChecksums();
    const holder = new Database(join(dir, 'copy.db'));
    holder.exec("BEGIN EXCLUSIVE; UPDATE customers SET name = 'locked' WHERE id = 1");
    try {
      const r = await dbferry(['run', job('replace'), '--state', state]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`the SQLite database ${join(dir, 'copy.db')} is locked by another process`);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(targetChecksums()).toEqual(before);
  });

  it('a read-only target fails with a clear message and is unchanged', async () => {
    expect((await dbferry(['run', job('upsert'), '--state', state])).code).toBe(0);
    const before = targetChecksums();
    const spec = writeJob(dir, { source: { url: `sqlite://${SHOP}` }, target: { url: 'sqlite:copy.db?mode=ro' }, tables: [{ source: 'customers', mode: 'replace' }] });
    const r = await dbferry(['run', spec, '--state', state]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('the database users may not do what this job needs; nothing was changed');
    expect(r.stdout).toMatch(/target: .*read-only/);
    expect(targetChecksums()).toEqual(before);
  });

  it('a mapping that would change values is refused unless accepted; a longer text than a declared length is stored whole', async () => {
    sqliteExec(join(dir, 'src.db'), "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT, price NUMERIC(12,4)); INSERT INTO t VALUES (1, 'a long note', 1.5), (2, 'ok', 2.25)");
    sqliteExec(join(dir, 'copy.db'), 'CREATE TABLE t (id INTEGER PRIMARY KEY, note VARCHAR(4), price NUMERIC(12,2))');
    const spec = (allowLossy?: boolean) => writeJob(dir, { source: { url: 'sqlite:src.db' }, target: { url: 'sqlite:copy.db' }, tables: [{ source: 't', allowLossy }] });
    // Rounding to 2 places would change a value: refused up front.
    const refused = await dbferry(['plan', spec()]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/price .*NUMERIC\(12,4\) .*→ NUMERIC\(12,2\)\s+LOSSY: decimal\(12,4\) would be rounded to 2 decimal places/);
    expect(refused.stderr).toContain('accept it with "allowLossy": true');
    // SQLite does not bind VARCHAR(4): a longer note is stored whole, so the plan has nothing to say of it.
    expect(refused.stderr + refused.stdout).not.toMatch(/"note"|note \(TEXT/);
    const accepted = await dbferry(['plan', spec(true)]);
    expect(accepted.code).toBe(0);
    expect((await dbferry(['run', spec(true), '--state', state])).code).toBe(0);
    expect(sqliteAll(join(dir, 'copy.db'), 'SELECT id, note FROM t ORDER BY id')).toEqual([{ id: 1, note: 'a long note' }, { id: 2, note: 'ok' }]);
  });

  it('a key that is not unique in the source is flagged in the plan', async () => {
    const spec = (key: string[]) =>
      writeJob(dir, { source: { url: `sqlite://${SHOP}` }, target: { url: 'sqlite:copy.db' }, tables: [{ source: 'customers', key, mode: 'upsert' }] }, `key-${key[0]}.json`);
    const unique = await dbferry(['plan', spec(['email']), '--json']);
    // (Its other warning: with email as the new table's key, id no longer generates keys in SQLite.)
    expect((unique.events[0].warnings as string[]).filter((w) => w.includes('"key"'))).toEqual([]);
    const loose = await dbferry(['plan', spec(['country']), '--json']);
    expect((loose.events[0].warnings as string[]).filter((w) => w.includes('"key"'))).toEqual([expect.stringContaining('customers: "key" (country) is not the primary key or a unique index in the source')]);
  });

  it('a state store from a newer dbferry is refused, not corrupted', async () => {
    sqliteExec(join(state, '..', 'newer.db'), 'PRAGMA user_version = 999');
    const newer = join(dir, 'newer-state');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(newer);
    copyFileSync(join(dir, 'newer.db'), join(newer, 'dbferry.db'));
    const r = await dbferry(['runs', '--state', newer]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('was written by a newer dbferry');
    expect(readFileSync(join(newer, 'dbferry.db')).equals(readFileSync(join(dir, 'newer.db')))).toBe(true);
  });
});
