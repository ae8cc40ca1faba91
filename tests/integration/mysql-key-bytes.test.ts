/**
 * A MySQL/MariaDB target's text key compares under its collation: 'abc' =
 * 'Abc' (_ci) and 'pad' = 'pad ' (PAD SPACE). A source key whose case or
 * trailing spaces changed found its old target row, which was left with the
 * old bytes: verification then reported a mismatch on every run. The target's
 * key now takes the source's bytes, on the compared path and the full one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const dir = tempDir('dbferry-mysql-key-bytes-');
let source: TestDb;
let target: TestDb;

beforeAll(async () => {
  source = await createTestDb('postgres', dir);
  target = await createTestDb('mysql', dir);
  await source.exec(`
    CREATE TABLE item (k varchar(10) PRIMARY KEY, v int);
    INSERT INTO item VALUES ('Abc', 1), ('pad ', 2), ('same', 3), ('New', 4);
    CREATE TABLE tag (k varchar(10) PRIMARY KEY);
    INSERT INTO tag VALUES ('RED'), ('blue');
  `);
});
afterAll(async () => {
  await source?.drop();
  await target?.drop();
});

async function resetTarget(): Promise<void> {
  await target.exec(`
    DROP TABLE IF EXISTS item; DROP TABLE IF EXISTS tag;
    CREATE TABLE item (k varchar(10) COLLATE utf8mb4_general_ci PRIMARY KEY, v int) DEFAULT CHARSET utf8mb4;
    INSERT INTO item VALUES ('abc', 1), ('pad', 2), ('same', 3), ('gone', 9);
    CREATE TABLE tag (k varchar(10) COLLATE utf8mb4_general_ci PRIMARY KEY) DEFAULT CHARSET utf8mb4;
    INSERT INTO tag VALUES ('red'), ('blue');
  `);
}

describe('PostgreSQL → MariaDB (_ci, PAD SPACE key)', () => {
  it.each(['auto', 'never'])('a mirror with compare "%s" gives the target the source\'s key bytes, and verifies', async (compare) => {
    await resetTarget();
    const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'item', mode: 'mirror' }, { source: 'tag', mode: 'upsert' }], options: { compare } }, `job-${compare}.json`);
    const r = await dbferry(['run', job, '--state', tempDir('dbferry-mysql-key-bytes-state-')]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).not.toMatch(/mismatch/i);
    expect(await target.rows('SELECT HEX(k), v FROM item ORDER BY k')).toEqual([
      [Buffer.from('Abc').toString('hex').toUpperCase(), 1],
      [Buffer.from('New').toString('hex').toUpperCase(), 4],
      [Buffer.from('pad ').toString('hex').toUpperCase(), 2],
      [Buffer.from('same').toString('hex').toUpperCase(), 3],
    ]);
    expect(await target.rows('SELECT k FROM tag ORDER BY k')).toEqual([['blue'], ['RED']]);
  });
});
