/**
 * Incremental tables: only rows past the watermark of the last applied run are
 * read; the watermark lives in the target and moves inside the apply
 * transaction, so a failed run copies the same rows again, never fewer.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { ENGINES, createTestDb, digest, type EngineName, type TestDb } from '../helpers/targets.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('dbferry-incremental-');
});

/** events: an append-only log keyed by id; accounts: rows updated in place, with updated_at. */
function makeSource(path: string): void {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT);
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, updated_at TIMESTAMP NOT NULL);`);
  const e = db.prepare('INSERT INTO events VALUES (?, ?, ?)');
  const a = db.prepare('INSERT INTO accounts VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 3000; i++) e.run(i, `kind ${i % 7}`, i % 5 ? `payload ${i} ü` : null);
    for (let i = 1; i <= 500; i++) a.run(i, `owner ${i}`, `2024-01-01 00:00:${String(i % 60).padStart(2, '0')}`);
  })();
  db.close();
}

function sourceDigest(path: string, table: string, columns = '*'): { rows: number; sha: string } {
  const db = new Database(path, { readonly: true });
  try {
    return digest(db.prepare(`SELECT ${columns} FROM ${table} ORDER BY id`).raw(true).all() as unknown[][]);
  } finally {
    db.close();
  }
}

function job(source: string, target: TestDb, extra: Record<string, unknown> = {}) {
  return writeJob(dir, {
    name: 'incremental',
    source: { url: `sqlite://${source}` },
    target: { url: target.url },
    tables: [
      { source: 'events', mode: 'append', incremental: { cursor: 'id' } },
      { source: 'accounts', mode: 'upsert', incremental: { cursor: 'updated_at' } },
    ],
    options: { batch: { maxRows: 700 } },
    ...extra,
  }, `incr-${Math.random().toString(36).slice(2)}.json`);
}

const tableRows = (r: { events: Array<Record<string, unknown>> }) =>
  Object.fromEntries(((r.events.at(-1)?.tables ?? []) as Array<{ source: string; rowsRead: number }>).map((t) => [t.source, t.rowsRead]));

describe.each(ENGINES)('incremental tables into %s', (engine: EngineName) => {
  it('copies only rows past the watermark; a failed run leaves the watermark where it was', async () => {
    const source = join(dir, `src-${engine}.db`);
    makeSource(source);
    const target = await createTestDb(engine, dir);
    const state = join(dir, `state-${engine}`);
    try {
      const spec = job(source, target);
      const plan1 = await dbferry(['plan', spec, '--json']);
      expect(plan1.events[0].tables).toMatchObject([{ source: 'events', incremental: { cursor: 'id' } }, { source: 'accounts', incremental: { cursor: 'updated_at' } }]);
      expect((plan1.events[0].tables as Array<{ incremental: { since?: string } }>)[0].incremental.since).toBeUndefined();

      const first = await dbferry(['run', spec, '--json', '--state', state]);
      expect(first.code, first.stderr).toBe(0);
      expect(tableRows(first)).toEqual({ events: 3000, accounts: 500 });
      expect(await target.checksum('events', 'id')).toEqual(sourceDigest(source, 'events'));

      // Nothing new: nothing read, nothing appended twice.
      const idle = await dbferry(['run', spec, '--json', '--state', state]);
      expect(idle.code, idle.stderr).toBe(0);
      expect(tableRows(idle)).toEqual({ events: 0, accounts: 0 });

      // New events, and accounts changed (with a newer updated_at) or not.
      const db = new Database(source);
      db.exec(`INSERT INTO events SELECT id + 3000, kind, payload FROM events WHERE id <= 250;
               UPDATE accounts SET owner = owner || ' (moved)', updated_at = '2024-02-01 00:00:00' WHERE id % 10 = 0;`);
      db.close();
      const plan2 = await dbferry(['plan', spec]);
      expect(plan2.stdout).toContain('only rows with id > 3000');
      expect(plan2.stdout).toContain('only rows with updated_at > 2024-01-01 00:00:59');
      const second = await dbferry(['run', spec, '--json', '--state', state]);
      expect(second.code, second.stderr).toBe(0);
      expect(tableRows(second)).toEqual({ events: 250, accounts: 50 });
      expect(await target.checksum('events', 'id')).toEqual(sourceDigest(source, 'events'));
      // Timestamps print differently per engine (MySQL DATETIME(6) shows microseconds): compare the rest.
      expect(digest(await target.rows('SELECT id, owner FROM accounts ORDER BY id'))).toEqual(sourceDigest(source, 'accounts', 'id, owner'));

      // A run that fails at apply (a trigger refuses an event, and onInvalidRow is "fail") moves no watermark...
      const db2 = new Database(source);
      db2.exec('INSERT INTO events SELECT id + 4000, kind, payload FROM events WHERE id <= 100');
      db2.close();
      const boom: Record<EngineName, string[]> = {
        sqlite: [`CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.id = 4050 BEGIN SELECT RAISE(ABORT, 'event 4050 refused'); END`],
        postgres: [
          `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 4050 THEN RAISE EXCEPTION 'event 4050 refused'; END IF; RETURN NEW; END $$`,
          'CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION boom()',
        ],
        mysql: [`CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW BEGIN IF NEW.id = 4050 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'event 4050 refused'; END IF; END`],
      };
      for (const sql of boom[engine]) await target.exec(sql);
      const failing = job(source, target, { options: { batch: { maxRows: 700 }, onInvalidRow: 'fail' } });
      const failed = await dbferry(['run', failing, '--json', '--state', state]);
      expect(failed.code).toBe(1);
      expect(String(failed.events.at(-1)?.error)).toContain('event 4050 refused');
      expect(Number((await target.rows('SELECT count(*) FROM events'))[0][0])).toBe(3250);

      // ...so once the trigger is gone the same rows are copied, each once.
      await target.exec(engine === 'postgres' ? 'DROP TRIGGER boom ON events' : 'DROP TRIGGER boom');
      const third = await dbferry(['run', spec, '--json', '--state', state]);
      expect(third.code, third.stderr).toBe(0);
      expect(tableRows(third)).toEqual({ events: 100, accounts: 0 });
      expect(await target.checksum('events', 'id')).toEqual(sourceDigest(source, 'events'));

      // Undoing that run takes its rows out and puts the watermark back: the next run copies them again.
      const undo = await dbferry(['backups', 'restore', third.events[0].runId as string, '--state', state]);
      expect(undo.code, undo.stderr).toBe(0);
      expect(Number((await target.rows('SELECT count(*) FROM events'))[0][0])).toBe(3250);
      const again = await dbferry(['run', spec, '--json', '--state', state]);
      expect(again.code, again.stderr).toBe(0);
      expect(tableRows(again)).toEqual({ events: 100, accounts: 0 });
      expect(await target.checksum('events', 'id')).toEqual(sourceDigest(source, 'events'));
    } finally {
      await target.drop();
    }
  }, 120_000);
});

describe('incremental cursor checks', () => {
  it('refuses a cursor that is not copied or cannot be ordered the same everywhere', async () => {
    const source = join(dir, 'src-checks.db');
    makeSource(source);
    const spec = writeJob(dir, {
      source: { url: `sqlite://${source}` },
      target: { url: `sqlite://${join(dir, 'checks-target.db')}` },
      tables: [
        { source: 'events', mode: 'append', columns: ['id', 'kind'], incremental: { cursor: 'payload' } },
        { source: 'accounts', mode: 'append', columns: ['owner', 'updated_at'], key: ['owner'], incremental: { cursor: 'id' } },
        { source: 'accounts', target: 'accounts2', mode: 'append', incremental: { cursor: 'owner' } },
      ],
    }, 'incr-checks.json');
    const r = await dbferry(['plan', spec]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('incremental cursor column "payload" must be among the copied "columns"');
    expect(r.stderr).toContain('incremental cursor column "id" must be among the copied "columns"');
    expect(r.stderr).toContain('incremental cursor "owner" (TEXT): an incremental cursor must be an integer, date or timestamp column (it is text)');
  });
});
