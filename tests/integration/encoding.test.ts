/**
 * A table's source "encoding": SQLite TEXT written in latin1 or Windows-1252
 * by an old application is decoded on purpose and arrives as the characters
 * it meant, in PostgreSQL and MariaDB, and verification (which reads the
 * source the same way) passes. Without it, such text is dead-lettered
 * (tests/integration/fit.test.ts). A MySQL/MariaDB latin1 table needs no
 * option: the server converts to the connection's UTF-8 itself.
 */
import { describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type EngineName } from '../helpers/targets.js';

// 'caf' E9 ' ' 96 ' 10' 80 → Windows-1252: "café – 10€"; ISO-8859-1: "café \u0096 10\u0080".
const SEED = `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, tag TEXT);
  INSERT INTO notes VALUES (1, 'plain', 'a'), (2, CAST(X'636166E9209620313080' AS TEXT), CAST(X'FC62' AS TEXT)), (3, 'déjà (UTF-8)', NULL), (4, NULL, 'd')`;

describe.each(['postgres', 'mysql'] as EngineName[])('a SQLite source table with "encoding", into %s', (engine) => {
  it('"windows-1252": the bytes arrive as the characters they meant (0x96 an en dash, 0x80 the euro), verified by checksum', async () => {
    const dir = tempDir('dbferry-encoding-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb(engine, dir);
    try {
      await source.exec(SEED);
      const job = writeJob(dir, {
        source: { url: source.url },
        target: { url: target.url },
        tables: [{ source: 'notes', mode: 'upsert', encoding: 'windows-1252' }],
        options: { verify: 'checksum', maxInvalidRows: 0 },
      });
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(0);
      expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: 4, rowsWritten: 4, rowsDeadLettered: 0 });
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      const rows = (await target.rows('SELECT id, body, tag FROM notes ORDER BY id')).map((row) => [Number(row[0]), row[1], row[2]]);
      // Valid UTF-8 bytes are decoded as Windows-1252 too: the table's text is in one encoding.
      expect(rows).toEqual([
        [1, 'plain', 'a'],
        [2, 'café – 10€', 'üb'],
        [3, 'dÃ©jÃ\u00a0 (UTF-8)', null],
        [4, null, 'd'],
      ]);
      // A second run finds nothing to change: the source is read (and compared) decoded the same way.
      const again = await dbferry(['run', job, '--json', '--state', dir]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});

describe('a SQLite source table with "encoding", into SQLite', () => {
  it('is decoded on the row path (not copied byte for byte by SQLite), and a key column is read as stored', async () => {
    const dir = tempDir('dbferry-encoding-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb('sqlite', dir);
    try {
      await source.exec("CREATE TABLE tags (code TEXT PRIMARY KEY, label TEXT); INSERT INTO tags VALUES ('a', CAST(X'E97465' AS TEXT)), ('b', 'plain')");
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'tags', mode: 'replace', encoding: 'windows-1252' }] });
      const plan = await dbferry(['plan', job, '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      expect((plan.events[0].warnings as string[]).join('\n')).toContain('tags.code is a key column: it is read as stored, not decoded from windows-1252');
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(0);
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      expect(await target.rows('SELECT code, label, hex(label) FROM tags ORDER BY code')).toEqual([
        ['a', 'éte', 'C3A97465'],
        ['b', 'plain', '706C61696E'],
      ]);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});

describe('"encoding": "latin1" (ISO-8859-1)', () => {
  it('maps each byte to the code point of the same number: 0x96 is U+0096, kept as such in PostgreSQL', async () => {
    const dir = tempDir('dbferry-encoding-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb('postgres', dir);
    try {
      await source.exec(SEED);
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'notes', mode: 'replace', encoding: 'latin1' }] });
      const r = await dbferry(['run', job, '--json', '--state', dir]);
      expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(0);
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      const [row] = await target.rows("SELECT body, encode(convert_to(body, 'UTF8'), 'hex') FROM notes WHERE id = 2");
      expect(row[0]).toBe('café \u0096 10\u0080');
      expect(row[1]).toBe('636166c3a920c296203130c280');
    } finally {
      await target.drop();
      await source.drop();
    }
  });

  it('is refused for a MariaDB source, whose latin1 columns already arrive as UTF-8 (checked: é and its 0x96 en dash copy right without it)', async () => {
    const dir = tempDir('dbferry-encoding-');
    const source = await createTestDb('mysql', dir);
    const target = await createTestDb('postgres', dir);
    try {
      // MySQL's latin1 is Windows-1252: 0x96 is the en dash.
      await source.exec("CREATE TABLE notes (id int PRIMARY KEY, body varchar(40)) CHARACTER SET latin1; INSERT INTO notes VALUES (1, CONCAT('caf', _latin1 X'E9', ' ', _latin1 X'96', ' 10', _latin1 X'80'))");
      const refused = await dbferry(['plan', writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'notes', encoding: 'latin1' }] }, 'refused.json')]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('"encoding" decodes the text of a SQLite source; MySQL/MariaDB converts a latin1 column to UTF-8 itself when it sends it: remove "encoding" from notes');
      const r = await dbferry(['run', writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'notes' }] }), '--json', '--state', dir]);
      expect(r.code, r.stdout.slice(-3000) + r.stderr.slice(-2000)).toBe(0);
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true });
      expect(await target.rows('SELECT body FROM notes')).toEqual([['café – 10€']]);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});
