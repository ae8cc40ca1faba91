/**
 * MariaDB → MariaDB range hashes (compare before copying): rows of the same
 * types are hashed as CRC32 + CRC32C of their native text where the server has
 * CRC32C. Each kind of change still makes its bucket differ, and only its
 * bucket, also where a column is NOT NULL on one side and nullable on the
 * other; the differing buckets' conditions (key ranges, IN lists) select
 * exactly their keys. Against another engine, the server's normalized text
 * (which skips what a column's type cannot hold) hashes as rowHash.ts does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/shared/connectionUrl.js';
import { mysqlDialect, MysqlSession } from '../../src/main/engine/dialects/mysql/index.js';
import type { BucketHash, BucketSet } from '../../src/main/engine/dialects/dialect.js';
import { bucketHashesInProcess, hashKinds, inBucketSet, type HashKind } from '../../src/main/engine/pipeline/rowHash.js';
import type { Column } from '../../src/main/engine/types.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';

const ROWS = 200;
const WIDTH = 4n;

const table = (name: string, nameNull: string, note = 'text') => `CREATE TABLE ${name} (
  id int NOT NULL PRIMARY KEY, name varchar(40) ${nameNull}, amount decimal(14,4) NULL,
  at datetime(6) NULL, note ${note} NULL, bin varbinary(16) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

let db: MysqlTestDatabase;
let session: MysqlSession;
let source: Column[];
let target: Column[];
/** The target table of the test: 'tgt' (the source's types) or 'tgt2' (MEDIUMTEXT for TEXT, as dbferry's own copy creates it). */
let tgt = 'tgt';

async function buckets(name: string, columns: Column[], kinds: ReturnType<typeof kindsOf>): Promise<Map<bigint, BucketHash>> {
  const out = await session.bucketHashes({ table: { name }, columns, orderBy: ['id'], batchRows: 1000, kinds, buckets: { lo: 1n, width: WIDTH, narrow: true } });
  return new Map(out.map((b) => [b.bucket, b]));
}

function kindsOf() {
  const k = hashKinds(source, target, session, session);
  if (!('kinds' in k)) throw new Error(k.reason);
  return k.kinds;
}

/** The buckets whose count or hash differ between src and tgt. */
async function differing(): Promise<bigint[]> {
  const kinds = kindsOf();
  const [a, b] = [await buckets('src', source, kinds), await buckets(tgt, target, kinds)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((id) => a.get(id)?.rows !== b.get(id)?.rows || a.get(id)?.hash !== b.get(id)?.hash).sort((x, y) => Number(x - y));
}

beforeAll(async () => {
  db = await createMysqlDatabase();
  await db.admin.query(table('src', 'NOT NULL'));
  // The same types; only the target's name may be NULL.
  await db.admin.query(table('tgt', 'NULL'));
  await db.admin.query(`INSERT INTO src SELECT seq, CONCAT('item ', seq), seq + 0.5, TIMESTAMP'2024-01-01 10:00:00.123456' + INTERVAL seq MINUTE,
    IF(seq % 10 = 0, NULL, CONCAT('note ', seq)), IF(seq % 7 = 0, NULL, UNHEX(HEX(seq))) FROM seq_1_to_${ROWS}`);
  await db.admin.query('INSERT INTO tgt SELECT * FROM src');
  await db.admin.query(table('tgt2', 'NULL', 'mediumtext'));
  await db.admin.query('INSERT INTO tgt2 SELECT * FROM src');
  await db.admin.query(`CREATE TABLE norm (id int NOT NULL PRIMARY KEY, d0 decimal(10,0) NOT NULL, d2 decimal(12,2) NULL, dt0 datetime NOT NULL,
    dt6 datetime(6) NULL, t0 time NULL, t3 time(3) NULL, name varchar(20) NOT NULL, note text NULL)`);
  await db.admin.query(`INSERT INTO norm SELECT seq, seq * 10, IF(seq % 5 = 0, NULL, seq / 4), TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq HOUR,
    IF(seq % 6 = 0, NULL, TIMESTAMP'2024-01-01 00:00:00.5' + INTERVAL seq SECOND), IF(seq % 7 = 0, NULL, SEC_TO_TIME(seq * 61)),
    SEC_TO_TIME(seq * 1.25), CONCAT('Größe ', seq), IF(seq % 3 = 0, NULL, REPEAT('x', seq % 4)) FROM seq_1_to_${ROWS}`);
  session = (await mysqlDialect.open(parseConnectionUrl(db.url), { baseDir: process.cwd(), role: 'source', statementTimeoutMs: 60_000 })) as MysqlSession;
  source = (await session.describeTable({ name: 'src' }))!.columns;
});

afterAll(async () => {
  await session?.close();
  await db?.drop();
});

describe.each(['tgt', 'tgt2'])('MariaDB range hashes into %s', (name) => {
  beforeAll(async () => {
    tgt = name;
    target = (await session.describeTable({ name }))!.columns;
  });

  it('hashes with CRC32 + CRC32C and matches equal rows whatever the columns allow', async () => {
    if (session.facts.flavor === 'mariadb') expect(session.nativeRowHash).toBe('crc32+crc32c');
    // MEDIUMTEXT prints as TEXT does: native text there too.
    expect(kindsOf().every((k) => k === 'native')).toBe(true);
    expect(target.find((c) => c.name === 'name')!.nullable).toBe(true);
    expect(source.find((c) => c.name === 'name')!.nullable).toBe(false);
    expect(await differing()).toEqual([]);
  });

  const changes: Array<[string, number, string]> = [
    ['a case-only change', 6, "UPDATE tgt SET name = 'ITEM 6' WHERE id = 6"],
    ['NULL where the source has a value (NOT NULL there)', 9, 'UPDATE tgt SET name = NULL WHERE id = 9'],
    ["'' where there was NULL", 20, "UPDATE tgt SET note = '' WHERE id = 20"],
    ["'-' where there was NULL", 30, "UPDATE tgt SET note = '-' WHERE id = 30"],
    ['NULL where there was a value', 33, 'UPDATE tgt SET note = NULL WHERE id = 33'],
    ["a '|' shifting text into the next column", 41, "UPDATE tgt SET amount = NULL, name = 'item 41|41.5000' WHERE id = 41"],
    ["a decimal's last digit", 50, 'UPDATE tgt SET amount = 50.5001 WHERE id = 50'],
    ["a timestamp's fraction, by a microsecond", 61, "UPDATE tgt SET at = at + INTERVAL 1 MICROSECOND WHERE id = 61"],
    ['bytes', 77, "UPDATE tgt SET bin = X'00' WHERE id = 77"],
    ['a deleted key', 88, 'DELETE FROM tgt WHERE id = 88'],
    ['a key the source lacks', 1000, "INSERT INTO tgt (id, name) VALUES (1000, 'extra')"],
  ];
  it.each(changes)('finds %s in its bucket alone', async (_what, id, sql) => {
    await db.admin.query(sql.replace(/\btgt\b/, tgt));
    try {
      expect(await differing()).toEqual([BigInt(id - 1) / WIDTH]);
    } finally {
      await db.admin.query(`DELETE FROM ${tgt} WHERE id = ? OR id = 1000`, [id]);
      await db.admin.query(`INSERT INTO ${tgt} SELECT * FROM src WHERE id = ?`, [id]);
    }
    expect(await differing()).toEqual([]);
  });

});

describe('MariaDB normalized text and bucket conditions', () => {
  it('prints the normalized text of other engines as rowHash.ts does, also where a type holds no fraction or no NULL', async () => {
    const columns = (await session.describeTable({ name: 'norm' }))!.columns;
    const kinds: HashKind[] = ['int', 'dec', 'dec', 'ts', 'ts', 'time', 'time', 'text', 'text'];
    const req = { table: { name: 'norm' }, columns, orderBy: ['id'], batchRows: 1000, kinds, buckets: { lo: 1n, width: 8n, narrow: true } };
    const server = await session.bucketHashes(req);
    const here = await bucketHashesInProcess(session, req);
    const byId = (list: typeof server) => [...list].sort((a, b) => Number(a.bucket - b.bucket));
    expect(byId(server)).toEqual(byId(here));
    expect(server.length).toBe(ROWS / 8);
  });

  it("selects exactly the buckets' keys: as a few key ranges, as a list of keys, and as a span of many buckets", async () => {
    const sets: BucketSet[] = [
      { lo: '1', narrow: true, levels: [{ width: '4', ids: ['0', '1', '2', '10', '49'] }] },
      { lo: '1', narrow: true, levels: [{ width: '2', ids: Array.from({ length: 60 }, (_, i) => String(i * 3 + (i % 2))) }] },
      { lo: '1', narrow: true, levels: [{ width: '8000', ids: Array.from({ length: 40 }, (_, i) => String(i * 2)) }] },
      { lo: '-5', narrow: false, levels: [{ width: '1', ids: ['5', '6', '105'] }, { width: '8', ids: ['3', '4', '20'] }] },
    ];
    for (const set of sets) {
      const [rows] = await db.admin.query(`SELECT id FROM src WHERE ${session.bucketCondition('id', set)} ORDER BY id`);
      const want = Array.from({ length: ROWS }, (_, i) => i + 1).filter((k) => inBucketSet(set, k));
      expect((rows as Array<{ id: number }>).map((r) => r.id)).toEqual(want);
    }
  });
});
