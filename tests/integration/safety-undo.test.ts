/**
 * Issue 4's guarantees against every target engine (continued from safety.test.ts):
 * all or nothing when apply fails, undo of every mode, Ctrl-C.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir } from '../helpers/cli.js';
import { isTableStarted, job, makeSource, sourceChecksums, targetChecksums } from '../helpers/safety.js';
import { ENGINES, createTestDb, type EngineName } from '../helpers/targets.js';

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

describe.each(ENGINES)('into %s', (engine: EngineName) => {
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
    // Undo does not depend on the size of the table: a ledger of 4,000 rows is still 8 batches of 500.
    makeSource(src, 1, 4000);
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
