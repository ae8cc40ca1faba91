/**
 * Between PostgreSQL databases an index is rebuilt from its own text, but only
 * over columns that keep their type: Sakila's film.fulltext is a tsvector,
 * which dbferry holds as text, and its GiST index on text failed the whole
 * migration ("data type text has no default operator class for access method
 * gist"). Such an index is not carried, and the plan says why; the others are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

describe('an index over a column whose type changes (PostgreSQL → PostgreSQL)', () => {
  const dir = tempDir();
  let source: TestDb;
  let target: TestDb;

  beforeAll(async () => {
    source = await createTestDb('postgres', dir);
    target = await createTestDb('postgres', dir);
    await source.exec(`CREATE TABLE film (film_id int PRIMARY KEY, title text NOT NULL, fulltext tsvector NOT NULL)`);
    await source.exec(`INSERT INTO film SELECT g, 'Film ' || g, to_tsvector('english', 'film number ' || g) FROM generate_series(1, 200) g`);
    await source.exec('CREATE INDEX film_fulltext_idx ON film USING gist (fulltext)');
    await source.exec('CREATE INDEX film_title_idx ON film (title)');
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
  });

  it('migrates the table, carries the other index, and says why the GiST index is not carried', async () => {
    const job = writeJob(dir, { name: 'film', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'film', mode: 'replace' }], options: { schema: 'full', verify: 'checksum' } });
    const r = await dbferry(['run', job, '--json', '--state', `${dir}/state`]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsWritten: 200 });
    const indexes = (await target.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'film' ORDER BY 1")).map((x) => String(x[0]));
    expect(indexes).toEqual(['film_pkey', 'film_title_idx']);
    expect(r.stdout).toMatch(/film_fulltext_idx.*fulltext is text in the target \(tsvector in the source\).*gist/);
  });
});
