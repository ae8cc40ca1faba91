/**
 * On pgloader's own ground, MySQL → PostgreSQL, dbferry carries at least what
 * pgloader 3.6.9 carries: the same Chinook-like MariaDB database loaded by
 * both into two PostgreSQL databases, whose catalogs are then compared, index
 * by index (by columns: the names differ), key by key, default by default,
 * and each generated key's next value. Skipped where pgloader is not
 * installed (Debian: `apt-get install pgloader`; CI installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

const pgloader = spawnSync('pgloader', ['--version']).status === 0;

const CHINOOK = [
  `CREATE TABLE artist (ArtistId int NOT NULL AUTO_INCREMENT PRIMARY KEY, Name varchar(120)) ENGINE=InnoDB`,
  `CREATE TABLE album (AlbumId int NOT NULL AUTO_INCREMENT PRIMARY KEY, Title varchar(160) NOT NULL, ArtistId int NOT NULL,
     KEY IFK_AlbumArtistId (ArtistId), CONSTRAINT FK_AlbumArtistId FOREIGN KEY (ArtistId) REFERENCES artist (ArtistId)) ENGINE=InnoDB`,
  `CREATE TABLE genre (GenreId int NOT NULL AUTO_INCREMENT PRIMARY KEY, Name varchar(120), UNIQUE KEY genre_name (Name)) ENGINE=InnoDB`,
  `CREATE TABLE track (TrackId int NOT NULL AUTO_INCREMENT PRIMARY KEY, Name varchar(200) NOT NULL, AlbumId int, GenreId int,
     Milliseconds int NOT NULL, UnitPrice decimal(10,2) NOT NULL DEFAULT 0.99, AddedAt datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
     KEY IFK_TrackAlbumId (AlbumId), KEY IFK_TrackGenreId (GenreId), KEY track_name_ms (Name, Milliseconds),
     CONSTRAINT FK_TrackAlbumId FOREIGN KEY (AlbumId) REFERENCES album (AlbumId) ON DELETE CASCADE,
     CONSTRAINT FK_TrackGenreId FOREIGN KEY (GenreId) REFERENCES genre (GenreId) ON DELETE SET NULL) ENGINE=InnoDB`,
  `CREATE TABLE playlist (PlaylistId int NOT NULL AUTO_INCREMENT PRIMARY KEY, Name varchar(120)) ENGINE=InnoDB`,
  `CREATE TABLE playlist_track (PlaylistId int NOT NULL, TrackId int NOT NULL, PRIMARY KEY (PlaylistId, TrackId), KEY IFK_PlaylistTrackTrackId (TrackId),
     CONSTRAINT FK_PlaylistTrackPlaylistId FOREIGN KEY (PlaylistId) REFERENCES playlist (PlaylistId),
     CONSTRAINT FK_PlaylistTrackTrackId FOREIGN KEY (TrackId) REFERENCES track (TrackId)) ENGINE=InnoDB`,
  `CREATE TABLE employee (EmployeeId int NOT NULL AUTO_INCREMENT PRIMARY KEY, LastName varchar(20) NOT NULL, ReportsTo int, Active tinyint(1) NOT NULL DEFAULT 1,
     KEY IFK_EmployeeReportsTo (ReportsTo), CONSTRAINT FK_EmployeeReportsTo FOREIGN KEY (ReportsTo) REFERENCES employee (EmployeeId)) ENGINE=InnoDB`,
  `INSERT INTO artist (Name) VALUES ('AC/DC'), ('Accept'), ('Aerosmith')`,
  `INSERT INTO album (Title, ArtistId) VALUES ('For Those About To Rock', 1), ('Balls to the Wall', 2), ('Restless and Wild', 2)`,
  `INSERT INTO genre (Name) VALUES ('Rock'), ('Jazz'), ('Metal'), ('Pop')`,
  `DELETE FROM genre WHERE GenreId = 4`,
  `INSERT INTO track (Name, AlbumId, GenreId, Milliseconds, UnitPrice) VALUES ('For Those About To Rock', 1, 1, 343719, 0.99), ('Balls to the Wall', 2, 1, 342562, 0.99), ('Fast As a Shark', 3, 3, 230619, 0.99)`,
  `INSERT INTO playlist (Name) VALUES ('Music'), ('Movies')`,
  `INSERT INTO playlist_track VALUES (1, 1), (1, 2), (2, 3)`,
  `INSERT INTO employee (LastName, ReportsTo) VALUES ('Adams', NULL), ('Edwards', 1), ('Peacock', 2)`,
];

interface Catalog {
  indexes: string[];
  foreignKeys: string[];
  defaults: string[];
  /** Each generated key and the value it hands out next. */
  generated: string[];
}

/** Names folded to lower case and unquoted: pgloader downcases identifiers, dbferry keeps (and so quotes) them. */
async function catalog(db: TestDb): Promise<Catalog> {
  const rows = (sql: string) => db.rows(sql).then((r) => r.map((x) => String(x[0]).toLowerCase().replaceAll('"', '')).sort());
  const indexes = await rows(`SELECT c.relname || '(' || (SELECT string_agg(a.attname, ',' ORDER BY k.o) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n) || ')' || CASE WHEN i.indisunique THEN ' unique' ELSE '' END
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT i.indisprimary AND c.relname NOT LIKE '\\_dbferry%'`);
  const foreignKeys = await rows(`SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'`);
  const defaults = await rows(`SELECT table_name || '.' || column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND column_default IS NOT NULL AND column_default NOT LIKE 'nextval(%' AND table_name NOT LIKE '\\_dbferry%'
      AND column_default NOT LIKE 'NULL%'`); // pgloader writes MariaDB's DEFAULT NULL out, which is every column's default anyway
  const generated: string[] = [];
  for (const [table, column] of await db.rows(`SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`)) {
    const [[next]] = await db.rows(`SELECT nextval(pg_get_serial_sequence('public."${String(table)}"', '${String(column)}'))`);
    generated.push(`${String(table)}.${String(column)} next ${String(next)}`.toLowerCase());
  }
  return { indexes, foreignKeys, defaults, generated: generated.sort() };
}

const dir = tempDir('dbferry-pgloader-');
let source: TestDb;

beforeAll(async () => {
  if (!pgloader) return;
  source = await createTestDb('mysql', dir);
  for (const sql of CHINOOK) await source.exec(sql);
});
afterAll(async () => {
  await source?.drop();
});

it.skipIf(!pgloader)('MariaDB → PostgreSQL: every index, foreign key, default and generated key pgloader carries, dbferry carries too', async () => {
  const byPgloader = await createTestDb('postgres', dir);
  const byDbferry = await createTestDb('postgres', dir);
  try {
    const database = new URL(source.url).pathname.slice(1);
    const load = join(dir, 'chinook.load');
    writeFileSync(load, `LOAD DATABASE FROM ${source.url} INTO ${byPgloader.url}\n ALTER SCHEMA '${database}' RENAME TO 'public';\n`);
    execFileSync('pgloader', ['-q', load], { stdio: 'pipe', timeout: 120_000 });

    const job = writeJob(dir, { source: { url: source.url }, target: { url: byDbferry.url }, tables: '*' }, 'chinook.json');
    const run = await dbferry(['run', job, '--json', '--state', tempDir('dbferry-pgloader-state-')]);
    expect(run.events.at(-1)!.status, run.stderr).toBe('succeeded');

    const theirs = await catalog(byPgloader);
    const ours = await catalog(byDbferry);
    expect(theirs.indexes.length).toBeGreaterThan(5);
    expect(ours.indexes).toEqual(expect.arrayContaining(theirs.indexes));
    expect(ours.foreignKeys).toEqual(expect.arrayContaining(theirs.foreignKeys));
    expect(ours.defaults).toEqual(expect.arrayContaining(theirs.defaults));
    // The same keys generate. pgloader continues after max(id) and hands out the deleted genre 4 again;
    // dbferry continues after the source's counter.
    const keyed = (list: string[]) => list.map((g) => g.replace(/ next \d+$/, ''));
    expect(keyed(ours.generated)).toEqual(keyed(theirs.generated));
    expect(theirs.generated).toContain('genre.genreid next 4');
    expect(ours.generated).toContain('genre.genreid next 5');
  } finally {
    await byPgloader.drop();
    await byDbferry.drop();
  }
});
