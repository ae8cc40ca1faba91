/**
 * What a migration of the Sakila sample database (jOOQ/sakila, PostgreSQL →
 * PostgreSQL, schema "full") found:
 *
 * - An index is rebuilt from its own text only over columns that keep their
 *   type: film.fulltext is a tsvector, which dbferry holds as text, and its
 *   GiST index on text failed the whole migration ("data type text has no
 *   default operator class for access method gist"). Such an index is not
 *   carried, and the plan says why; the others are.
 * - Its keys draw from sequences created apart (CREATE SEQUENCE, then DEFAULT
 *   nextval(…), not owned by the column): pg_get_serial_sequence does not name
 *   them, and the keys were not carried (no default, no identity: the
 *   application's next INSERT failed). They are generated keys like serial.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, type TestDb } from '../helpers/targets.js';

describe('Sakila, PostgreSQL → PostgreSQL', () => {
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
    await source.exec('CREATE SEQUENCE actor_actor_id_seq START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1');
    await source.exec("CREATE TABLE actor (actor_id integer DEFAULT nextval('actor_actor_id_seq'::regclass) NOT NULL PRIMARY KEY, first_name text NOT NULL)");
    await source.exec("INSERT INTO actor (first_name) SELECT 'Actor ' || g FROM generate_series(1, 200) g");
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

  it('carries a key whose sequence the column does not own, continuing after the largest key', async () => {
    const job = writeJob(dir, { name: 'actor', source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'actor', mode: 'replace' }], options: { schema: 'full', verify: 'checksum' } }, 'actor.json');
    const r = await dbferry(['run', job, '--json', '--state', `${dir}/state`]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const [[identity]] = await target.rows("SELECT is_identity FROM information_schema.columns WHERE table_name = 'actor' AND column_name = 'actor_id'");
    expect(identity).toBe('YES');
    await target.exec("INSERT INTO actor (first_name) VALUES ('new')");
    expect((await target.rows("SELECT actor_id FROM actor WHERE first_name = 'new'")).map((x) => Number(x[0]))).toEqual([201]);
  });
});
