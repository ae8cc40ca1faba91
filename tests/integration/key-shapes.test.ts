/**
 * Every key shape, every source × target pair: a table dbferry creates has
 * exactly the source's columns, NOT NULLs and primary key (read from each
 * engine's own catalog, not through dbferry), none of dbferry's columns, and
 * its key is an index a later upsert can use. Then what verification must
 * catch in a created table whose shape is wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb, ENGINES, type EngineName, type TestDb } from '../helpers/targets.js';

interface Shape {
  columns: Array<{ name: string; notNull: boolean }>;
  primaryKey: string[];
}

/** Text keys that sort differently by collation than by code point. */
const WORDS = ['apple', 'Banana', 'cherry', 'Ärger', 'zeta', 'Zulu', 'élan', 'Øre', 'x y', 'x'];

/** The source tables, one per key shape, in each engine's own spelling. */
function sourceDdl(engine: EngineName): string[] {
  const uuid = engine === 'postgres' ? 'uuid' : engine === 'mysql' ? 'char(36)' : 'TEXT';
  const text = engine === 'sqlite' ? 'TEXT' : 'varchar(20)';
  return [
    `CREATE TABLE k_int (id integer NOT NULL PRIMARY KEY, v ${text})`,
    `CREATE TABLE k_big (id bigint NOT NULL PRIMARY KEY, v ${text} NOT NULL)`,
    `CREATE TABLE k_text (code ${text} NOT NULL PRIMARY KEY, n integer)`,
    `CREATE TABLE k_char (code char(4) NOT NULL PRIMARY KEY, n integer)`,
    `CREATE TABLE k_uuid (id ${uuid} NOT NULL PRIMARY KEY, n integer)`,
    `CREATE TABLE k_mixed (a integer NOT NULL, b ${text} NOT NULL, v ${text}, PRIMARY KEY (a, b))`,
    `CREATE TABLE k_none (a integer, v ${text})`,
  ];
}

function sourceRows(): string[] {
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const uuids = WORDS.map((_, i) => `${(i * 0x1f3).toString(16).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`);
  return [
    `INSERT INTO k_int VALUES ${WORDS.map((w, i) => `(${i + 1}, ${q(w)})`).join(', ')}`,
    `INSERT INTO k_big VALUES ${WORDS.map((w, i) => `(${9_000_000_000_000_000 + i}, ${q(w)})`).join(', ')}`,
    `INSERT INTO k_text VALUES ${WORDS.map((w, i) => `(${q(w)}, ${i})`).join(', ')}`,
    `INSERT INTO k_char VALUES ${['ab', 'AC', 'b', 'Äb', 'zz'].map((w, i) => `(${q(w)}, ${i})`).join(', ')}`,
    `INSERT INTO k_uuid VALUES ${uuids.map((u, i) => `(${q(u)}, ${i})`).join(', ')}`,
    `INSERT INTO k_mixed VALUES ${WORDS.map((w, i) => `(${i % 3}, ${q(w)}, ${q(w.toUpperCase())})`).join(', ')}`,
    `INSERT INTO k_none VALUES (1, 'a'), (1, 'a'), (2, NULL)`,
  ];
}

const TABLES = ['k_int', 'k_big', 'k_text', 'k_char', 'k_uuid', 'k_mixed', 'k_none'];

/** A table's columns (in order), their NOT NULLs and its primary key, from the engine's own catalog. */
async function shapeOf(db: TestDb, table: string): Promise<Shape> {
  if (db.engine === 'sqlite') {
    const rows = await db.rows(`SELECT name, "notnull", pk FROM pragma_table_info('${table}') ORDER BY cid`);
    const pk = rows.filter((r) => Number(r[2]) > 0).sort((a, b) => Number(a[2]) - Number(b[2]));
    return { columns: rows.map((r) => ({ name: String(r[0]), notNull: Number(r[1]) === 1 || Number(r[2]) > 0 })), primaryKey: pk.map((r) => String(r[0])) };
  }
  if (db.engine === 'postgres') {
    const rows = await db.rows(`SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '${table}' ORDER BY ordinal_position`);
    const pk = await db.rows(
      `SELECT a.attname FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       WHERE i.indrelid = 'public.${table}'::regclass AND i.indisprimary ORDER BY k.ord`,
    );
    return { columns: rows.map((r) => ({ name: String(r[0]), notNull: r[1] === 'NO' })), primaryKey: pk.map((r) => String(r[0])) };
  }
  const rows = await db.rows(`SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '${table}' ORDER BY ordinal_position`);
  const pk = await db.rows(
    `SELECT column_name FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = '${table}' AND constraint_name = 'PRIMARY' ORDER BY ordinal_position`,
  );
  return { columns: rows.map((r) => ({ name: String(r[0]), notNull: r[1] === 'NO' })), primaryKey: pk.map((r) => String(r[0])) };
}

describe('created tables keep their shape, for every key shape and pair', () => {
  const dir = tempDir();
  const sources = new Map<EngineName, TestDb>();

  beforeAll(async () => {
    for (const engine of ENGINES) {
      const db = await createTestDb(engine, dir);
      for (const sql of [...sourceDdl(engine), ...sourceRows()]) await db.exec(sql);
      sources.set(engine, db);
    }
  });
  afterAll(async () => {
    for (const db of sources.values()) await db.drop();
  });

  for (const from of ENGINES) {
    for (const to of ENGINES) {
      it(`${from} → ${to}: columns, NOT NULLs and primary key as in the source, none of dbferry's`, async () => {
        const source = sources.get(from)!;
        const target = await createTestDb(to, dir);
        try {
          const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: '*', options: { verify: 'checksum' } }, `job-${from}-${to}.json`);
          const r = await dbferry(['run', job, '--json', '--state', dir]);
          expect(r.code, r.stderr).toBe(0);
          for (const table of TABLES) {
            const want = await shapeOf(source, table);
            const got = await shapeOf(target, table);
            expect(got, `${from} → ${to}: ${table}`).toEqual(want);
            expect((await target.rows(`SELECT count(*) FROM ${table}`))[0].map(Number), table).toEqual((await source.rows(`SELECT count(*) FROM ${table}`))[0].map(Number));
          }
          if (to === 'sqlite') {
            // A later upsert finds its rows through the key: the key is an index SQLite's planner uses.
            for (const [table, where] of [['k_text', "code = 'apple'"], ['k_mixed', "a = 1 AND b = 'Banana'"], ['k_uuid', "id = 'x'"]]) {
              const plan = (await target.rows(`EXPLAIN QUERY PLAN SELECT * FROM ${table} WHERE ${where}`)).map((row) => String(row.at(-1))).join('\n');
              expect(plan, table).toMatch(/USING (PRIMARY KEY|INDEX sqlite_autoindex)/);
            }
            // And a second run, an upsert into the tables it made, changes nothing and verifies.
            const again = await dbferry(['run', job, '--json', '--state', dir]);
            expect(again.code, again.stderr).toBe(0);
            expect(await shapeOf(target, 'k_text')).toEqual(await shapeOf(source, 'k_text'));
          }
        } finally {
          await target.drop();
        }
      });
    }
  }
});

describe('verification checks the shape of a table the run created', () => {
  // An event trigger stands in for whatever could damage a new table between its creation and
  // verification (a dialect bug, another session): it changes the table when dbferry renames it into place.
  for (const [damage, undamaged, alter, expected] of [
    ['lacks its key', "EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'victim_pkey')", 'ALTER TABLE public.victim DROP CONSTRAINT victim_pkey', /has primary key none, the plan \(code\)/],
    ['has an extra column', "NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.victim') AND attname = 'extra')", 'ALTER TABLE public.victim ADD COLUMN extra integer', /has columns the plan does not: extra/],
  ] as const) {
    it(`a created table that ${damage} fails the run, naming it`, async () => {
      const dir = tempDir();
      const source = await createTestDb('sqlite', dir);
      const target = await createTestDb('postgres', dir);
      try {
        await source.exec("CREATE TABLE victim (code TEXT NOT NULL PRIMARY KEY, n INTEGER); INSERT INTO victim VALUES ('a', 1), ('B', 2)");
        await target.exec(`
          CREATE FUNCTION damage() RETURNS event_trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF to_regclass('public.victim') IS NOT NULL AND ${undamaged} THEN ${alter}; END IF;
          END $$;
          CREATE EVENT TRIGGER damage ON ddl_command_end WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION damage();`);
        const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'victim' }] });
        const r = await dbferry(['run', job, '--json', '--state', dir]);
        expect(r.code, r.stderr).toBe(1);
        const verify = r.events.find((e) => e.type === 'verify');
        expect(verify?.ok).toBe(false);
        expect((verify?.mismatches as string[]).join('\n')).toMatch(expected);
        const summary = r.events.at(-1)!;
        expect(summary).toMatchObject({ type: 'summary', status: 'failed', errorKind: 'verify' });
        expect(summary.error).toMatch(/^the data was applied, but verification found differences .*dbferry backups restore [0-9a-f-]{36}$/);
        expect(summary.error).not.toMatch(/left as it was/);
      } finally {
        await target.exec('DROP EVENT TRIGGER IF EXISTS damage').catch(() => undefined);
        await target.drop();
        await source.drop();
      }
    });
  }
});
