/**
 * MySQL/MariaDB → MySQL/MariaDB: a table dbferry creates has the source's
 * column types, not the ones its logical mapping picks. The mapping made a
 * TINYINT(1) a plain TINYINT (an ORM then reads a number, not a boolean) and
 * a TEXT a MEDIUMTEXT (TEXT's limit is counted in bytes, the mapping's in
 * characters), so the migrated schema differed from its source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const dir = tempDir('dbferry-mysql-native-');
let source: TestDb;
let target: TestDb;
const columnTypes = (db: TestDb) =>
  db.rows("SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'account' ORDER BY ORDINAL_POSITION");

beforeAll(async () => {
  source = await createTestDb('mysql', dir);
  target = await createTestDb('mysql', dir);
  await source.exec(`
    CREATE TABLE account (
      id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
      active tinyint(1) NOT NULL DEFAULT 1,
      flags tinyint unsigned,
      bio text,
      notes mediumtext,
      code char(3) NOT NULL,
      region varchar(20),
      level mediumint,
      balance decimal(12,2),
      born year,
      seen datetime(3)
    ) DEFAULT CHARSET utf8mb4;
    INSERT INTO account (active, flags, bio, notes, code, region, level, balance, born, seen) VALUES
      (1, 7, 'a long story', 'n', 'abc', 'north', -5, 12.50, 1999, '2024-01-02 03:04:05.678'),
      (0, NULL, NULL, NULL, 'xyz', NULL, NULL, NULL, NULL, NULL);
  `);
});
afterAll(async () => {
  await source?.drop();
  await target?.drop();
});

describe('MariaDB → MariaDB, a new table', () => {
  it('has every column of the source type, and the same rows', async () => {
    const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'account' }] });
    const r = await dbferry(['run', job, '--state', tempDir('dbferry-mysql-native-state-')]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(await columnTypes(target)).toEqual(await columnTypes(source));
    const all = 'SELECT id, active, flags, bio, notes, code, region, level, balance, born, seen FROM account ORDER BY id';
    expect(await target.rows(all)).toEqual(await source.rows(all));
  });
});
