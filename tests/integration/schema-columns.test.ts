/**
 * Generated columns, comments and case-insensitive unique indexes, in every
 * direction. A generated column is never written to: it is created as one in
 * the target where its expression translates (as written between engines of
 * one kind; across engines only arithmetic, concatenation and lower/upper),
 * else as a plain column holding the source's values, with a warning naming
 * the expression; either way the run verifies. A target table that computes
 * a column itself is not written to in that column. Comments are carried where
 * the target keeps them. A MySQL unique index that ignored case is flagged
 * going where text compares as it is, and folded with caseInsensitiveUnique "lower".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { ENGINES, createTestDb, type EngineName, type TestDb } from '../helpers/targets.js';

// total: arithmetic; label: lower() and concatenation; half: division, which no engine reads alike.
const SCHEMAS: Record<EngineName, string[]> = {
  postgres: [
    `CREATE TABLE item (id int PRIMARY KEY, price numeric(10,2) NOT NULL, qty int NOT NULL, name varchar(40),
       total numeric(12,2) GENERATED ALWAYS AS (price * qty) STORED,
       label varchar(90) GENERATED ALWAYS AS (lower(name) || '-x''s') STORED,
       half int GENERATED ALWAYS AS (qty / 2) STORED)`,
    `COMMENT ON TABLE item IS 'Things sold'`,
    `COMMENT ON COLUMN item.price IS 'Unit price, in EUR: it''s net'`,
  ],
  mysql: [
    `CREATE TABLE item (id int PRIMARY KEY, price decimal(10,2) NOT NULL, qty int NOT NULL, name varchar(40),
       total decimal(12,2) AS (price * qty) STORED,
       label varchar(90) AS (concat(lower(name), '-x''s')) VIRTUAL,
       half int AS (qty DIV 2) VIRTUAL) COMMENT 'Things sold'`,
    `ALTER TABLE item MODIFY price decimal(10,2) NOT NULL COMMENT 'Unit price, in EUR: it''s net'`,
  ],
  sqlite: [
    `CREATE TABLE item (id INTEGER PRIMARY KEY, price REAL NOT NULL, qty INTEGER NOT NULL, name TEXT,
       total REAL GENERATED ALWAYS AS (price * qty) STORED,
       label TEXT AS (lower(name) || '-x''s') VIRTUAL,
       half INTEGER AS (qty / 2))`,
  ],
};
const ROWS = [`INSERT INTO item (id, price, qty, name) VALUES (1, 2.5, 4, 'Ann'), (2, 10, 3, 'BOB'), (3, 1.25, 0, NULL)`];

/** Which of the columns the target computes (by its catalog). */
async function generatedColumns(db: TestDb, table: string): Promise<string[]> {
  let found: unknown[][];
  if (db.engine === 'postgres') found = await db.rows(`SELECT attname FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attgenerated <> ''`);
  else if (db.engine === 'mysql') found = await db.rows(`SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' AND EXTRA LIKE '%GENERATED%'`);
  else found = await db.rows(`SELECT name FROM pragma_table_xinfo('${table}') WHERE hidden IN (2, 3)`);
  return found.map(([n]) => String(n)).sort();
}

async function columnOrder(db: TestDb, table: string): Promise<string[]> {
  if (db.engine === 'postgres') return (await db.rows(`SELECT attname FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).map(([n]) => String(n));
  if (db.engine === 'mysql') return (await db.rows(`SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`)).map(([n]) => String(n));
  return (await db.rows(`SELECT name FROM pragma_table_xinfo('${table}') ORDER BY cid`)).map(([n]) => String(n));
}

/** "table: text" and "column: text" for each comment. */
async function comments(db: TestDb, table: string): Promise<string[]> {
  if (db.engine === 'postgres') {
    const rows = await db.rows(`SELECT 'table', obj_description('${table}'::regclass, 'pg_class') UNION ALL
      SELECT attname, col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attnum > 0`);
    return rows.filter(([, t]) => t !== null).map(([n, t]) => `${String(n)}: ${String(t)}`).sort();
  }
  if (db.engine === 'mysql') {
    const rows = await db.rows(`SELECT 'table', TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' UNION ALL
      SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'`);
    return rows.filter(([, t]) => t !== '').map(([n, t]) => `${String(n)}: ${String(t)}`).sort();
  }
  return [];
}

async function fails(p: Promise<unknown>): Promise<boolean> {
  return p.then(
    () => false,
    () => true,
  );
}

interface PlanItem {
  object: string;
  name: string;
  fate: string;
  note?: string;
}

const dir = tempDir('dbferry-schema-columns-');
const sources = new Map<EngineName, TestDb>();

beforeAll(async () => {
  for (const engine of ENGINES) {
    const db = await createTestDb(engine, dir);
    for (const sql of [...SCHEMAS[engine], ...ROWS]) await db.exec(sql);
    sources.set(engine, db);
  }
});
afterAll(async () => {
  for (const db of sources.values()) await db.drop();
});

describe.each(ENGINES)('from %s', (from) => {
  it.each(ENGINES)('into a new %s database: generated columns computed or carried as values, comments carried', async (into) => {
    const source = sources.get(from)!;
    const target = await createTestDb(into, dir);
    try {
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'item' }] }, `job-${from}-${into}.json`);
      const plan = await dbferry(['plan', job, '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const planned = plan.events[0] as unknown as { tables: { schema?: PlanItem[] }[]; warnings: string[] };
      const items = planned.tables[0].schema ?? [];
      const generatedItems = Object.fromEntries(items.filter((i) => i.object === 'generated column').map((i) => [i.name, i]));
      expect(Object.keys(generatedItems).sort()).toEqual(['half', 'label', 'total']);

      const run = await dbferry(['run', job, '--json', '--state', tempDir('dbferry-schema-columns-state-')]);
      const summary = run.events.at(-1)!;
      expect(summary.status, `${String(summary.error)}\n${run.stderr}`).toBe('succeeded');

      // What the target computes: as written between engines of one kind; across engines, what translates safely.
      const same = from === into;
      const decimalIntoSqlite = into === 'sqlite' && from !== 'sqlite';
      const foldsWithSqlite = into === 'sqlite' || from === 'sqlite';
      const expected = [...(same || !decimalIntoSqlite ? ['total'] : []), ...(same || !foldsWithSqlite ? ['label'] : []), ...(same ? ['half'] : [])].sort();
      expect(await generatedColumns(target, 'item')).toEqual(expected);
      expect(await columnOrder(target, 'item')).toEqual(['id', 'price', 'qty', 'name', 'total', 'label', 'half']);
      for (const name of ['total', 'label', 'half']) {
        const item = generatedItems[name];
        if (expected.includes(name)) expect(item.note ?? '', name).toMatch(/computed by the target/);
        else {
          expect(item.note, name).toMatch(/plain column holding the source's values/);
          expect(planned.warnings.join('\n')).toContain(`item.${name}: the generated column (`);
        }
      }
      // The values are there either way (verified by the run), and a new row gets its computed ones.
      const values = await target.rows(`SELECT id, total, label FROM item ORDER BY id`);
      expect(values.map(([id, total, label]) => [Number(id), Number(total), label])).toEqual([
        [1, 10, "ann-x's"],
        [2, 30, "bob-x's"],
        [3, 0, null],
      ]);
      await target.exec(`INSERT INTO item (id, price, qty, name) VALUES (4, 1.5, 2, 'Zed')`);
      const [[total, label]] = await target.rows(`SELECT total, label FROM item WHERE id = 4`);
      expect(total === null ? null : Number(total)).toBe(expected.includes('total') ? 3 : null);
      expect(label).toBe(expected.includes('label') ? "zed-x's" : null);

      // Comments: carried where the target keeps them, named where not.
      const commentItems = items.filter((i) => i.object === 'comment');
      if (from === 'sqlite') expect(commentItems).toEqual([]);
      else if (into === 'sqlite') {
        expect(commentItems.map((i) => i.fate)).toEqual(['not carried', 'not carried']);
        expect(commentItems[0].note).toMatch(/SQLite keeps no comments/);
      } else expect(await comments(target, 'item')).toEqual(["price: Unit price, in EUR: it's net", 'table: Things sold']);
    } finally {
      await target.drop();
    }
  });
});

describe('a target table that computes a column itself', () => {
  it.each(ENGINES)('%s: the column is not written, the run verifies, and its undo puts the old rows back', async (into) => {
    // SQLite holds a decimal as floating point only where allowed: its target is fed from SQLite.
    const source = sources.get(into === 'sqlite' ? 'sqlite' : 'postgres')!;
    const target = await createTestDb(into, dir);
    try {
      const computed = { postgres: 'numeric(12,2) GENERATED ALWAYS AS (price * qty) STORED', mysql: 'decimal(12,2) AS (price * qty) STORED', sqlite: 'REAL AS (price * qty) STORED' }[into];
      const price = into === 'sqlite' ? 'REAL' : 'decimal(10,2)';
      await target.exec(`CREATE TABLE item (id int PRIMARY KEY, price ${price} NOT NULL, qty int NOT NULL, name varchar(40), total ${computed}, label varchar(90), half int)`);
      await target.exec(`INSERT INTO item (id, price, qty) VALUES (1, 1, 1)`);
      const job = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'item', mode: 'upsert' }] }, `job-existing-${into}.json`);
      const state = tempDir('dbferry-schema-columns-state-');
      const run = await dbferry(['run', job, '--json', '--state', state]);
      const summary = run.events.at(-1)!;
      expect(summary.status, `${String(summary.error)}\n${run.stderr}`).toBe('succeeded');
      const warnings = run.events.filter((e) => e.type === 'warning').map((e) => String(e.message));
      expect(warnings.join('\n')).toMatch(/item\.total is a generated column in the target \(.*\): it is computed there, not copied/);
      expect((await target.rows(`SELECT id, total FROM item ORDER BY id`)).map(([id, t]) => [Number(id), Number(t)])).toEqual([
        [1, 10],
        [2, 30],
        [3, 0],
      ]);
      // Its backup goes back without the computed column.
      const undo = await dbferry(['backups', 'restore', String(run.events[0].runId), '--state', state]);
      expect(undo.code, undo.stderr).toBe(0);
      expect((await target.rows(`SELECT id, total FROM item ORDER BY id`)).map(([id, t]) => [Number(id), Number(t)])).toEqual([[1, 1]]);
    } finally {
      await target.drop();
    }
  });
});

describe('a MySQL unique index that ignored case', () => {
  let mysql: TestDb;
  beforeAll(async () => {
    mysql = await createTestDb('mysql', dir);
    await mysql.exec(`CREATE TABLE person (id int PRIMARY KEY, email varchar(80) COLLATE utf8mb4_general_ci NOT NULL, UNIQUE KEY person_email (email))`);
    await mysql.exec(`INSERT INTO person VALUES (1, 'ann@example.com'), (2, 'Bob@example.com')`);
    await mysql.exec(`CREATE TABLE tag (name varchar(40) COLLATE utf8mb4_general_ci PRIMARY KEY)`);
    await mysql.exec(`INSERT INTO tag VALUES ('red'), ('Blue')`);
  });
  afterAll(async () => mysql.drop());

  it.each([
    ['postgres', 'keep'],
    ['postgres', 'lower'],
    ['sqlite', 'keep'],
    ['sqlite', 'lower'],
  ] as const)('into %s with caseInsensitiveUnique "%s"', async (into, choice) => {
    const target = await createTestDb(into, dir);
    try {
      const job = writeJob(
        dir,
        { source: { url: mysql.url }, target: { url: target.url }, tables: [{ source: 'person' }, { source: 'tag' }], ...(choice === 'lower' ? { options: { caseInsensitiveUnique: 'lower' } } : {}) },
        `job-ci-${into}-${choice}.json`,
      );
      const plan = await dbferry(['plan', job, '--json']);
      expect(plan.code, plan.stderr).toBe(0);
      const planned = plan.events[0] as unknown as { tables: { target: string; schema?: PlanItem[] }[]; warnings: string[] };
      const index = planned.tables.find((t) => t.target.endsWith('person'))!.schema!.find((i) => i.name === 'person_email')!;
      const key = planned.tables.find((t) => t.target.endsWith('tag'))!.schema!.find((i) => i.object === 'unique index')!;
      expect(index.fate).toBe('adapted');
      if (choice === 'keep') {
        expect(index.note).toMatch(/case-sensitive in the target, where MySQL's utf8mb4_general_ci ignored case on email/);
        expect(planned.warnings.join('\n')).toMatch(/unique index person_email is case-sensitive/);
        expect(planned.warnings.join('\n')).toMatch(/tag: the primary key is case-sensitive in the target/);
      } else {
        expect(index.note).toMatch(into === 'postgres' ? /on lower\(email\)/ : /email COLLATE NOCASE/);
        expect(key.note).toMatch(/a unique index on .*name.* beside the primary key/);
      }

      const run = await dbferry(['run', job, '--json', '--state', tempDir('dbferry-schema-columns-state-')]);
      expect(run.events.at(-1)!.status, run.stderr).toBe('succeeded');
      // 'a' then 'A': refused where the index folds case, as MySQL refused it.
      await target.exec(`INSERT INTO person VALUES (3, 'cy@example.com')`);
      expect(await fails(target.exec(`INSERT INTO person VALUES (4, 'CY@example.com')`))).toBe(choice === 'lower');
      expect(await fails(target.exec(`INSERT INTO person VALUES (5, 'cy@example.com')`))).toBe(true);
      expect(await fails(target.exec(`INSERT INTO tag VALUES ('RED')`))).toBe(choice === 'lower');
    } finally {
      await target.drop();
    }
  });
});
