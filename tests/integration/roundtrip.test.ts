/**
 * The bundled demo database, around all three engines with `"tables": "*"`:
 * SQLite → PostgreSQL → MariaDB → SQLite gives back the same data, table by
 * table (checksums of normalized values, read with the native drivers).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { tableChecksum, type ColumnCheck } from '../helpers/compare.js';
import type { NativeTarget } from '../helpers/fixtures.js';
import { createMysqlDatabase } from '../helpers/mysql.js';
import { createPgDatabase } from '../helpers/postgres.js';

const SHOP: NativeTarget = { engine: 'sqlite', url: join(ROOT, 'examples/shop.db') };

const TABLES: Record<string, { key: string[]; columns: ColumnCheck[] }> = {
  customers: {
    key: ['id'],
    columns: [
      { name: 'id', kind: 'int' },
      { name: 'name', kind: 'text' },
      { name: 'email', kind: 'text' },
      { name: 'country', kind: 'char' },
      { name: 'vip', kind: 'bool' },
      { name: 'created_at', kind: 'ts' },
    ],
  },
  products: {
    key: ['id'],
    columns: [
      { name: 'id', kind: 'int' },
      { name: 'sku', kind: 'text' },
      { name: 'name', kind: 'text' },
      { name: 'price', kind: 'decimal' },
      { name: 'weight_kg', kind: 'float8' },
      { name: 'active', kind: 'bool' },
    ],
  },
  orders: {
    key: ['id'],
    columns: [
      { name: 'id', kind: 'int' },
      { name: 'customer_id', kind: 'int' },
      { name: 'status', kind: 'text' },
      { name: 'note', kind: 'text' },
      { name: 'created_at', kind: 'ts' },
    ],
  },
  order_items: {
    key: ['order_id', 'line'],
    columns: [
      { name: 'order_id', kind: 'int' },
      { name: 'line', kind: 'int' },
      { name: 'product_id', kind: 'int' },
      { name: 'qty', kind: 'int' },
      { name: 'unit_price', kind: 'decimal' },
    ],
  },
};

const ROWS = { customers: 500, products: 200, orders: 2000, order_items: 5972 };
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.allSettled(drops.map((d) => d()));
});

const urlOf = (db: NativeTarget) => (db.engine === 'sqlite' ? `sqlite://${db.url}` : db.url);

async function checksums(db: NativeTarget) {
  const out: Record<string, { rows: number; sha: string }> = {};
  for (const [table, t] of Object.entries(TABLES)) out[table] = await tableChecksum(db, table, t.columns, t.key);
  return out;
}

describe('the demo shop around every engine', () => {
  it('SQLite → PostgreSQL → MariaDB → SQLite with "tables": "*" gives back identical data', async () => {
    const dir = tempDir('dbferry-roundtrip-');
    const pgDb = await createPgDatabase('dbferry_roundtrip');
    drops.push(pgDb.drop);
    const myDb = await createMysqlDatabase('dbferry_roundtrip');
    drops.push(myDb.drop);
    const hops: NativeTarget[] = [SHOP, { engine: 'postgres', url: pgDb.url }, { engine: 'mysql', url: myDb.url }, { engine: 'sqlite', url: join(dir, 'back.db') }];
    const original = await checksums(SHOP);
    expect(Object.fromEntries(Object.entries(original).map(([t, c]) => [t, c.rows]))).toEqual(ROWS);

    for (let i = 1; i < hops.length; i++) {
      const [from, to] = [hops[i - 1], hops[i]];
      const job = writeJob(dir, { name: `${from.engine} → ${to.engine}`, source: { url: urlOf(from) }, target: { url: urlOf(to) }, tables: '*' }, `hop-${i}.json`);
      const r = await dbferry(['run', job, '--json', '--state', join(dir, 'state')]);
      expect(r.code, `${from.engine} → ${to.engine}: ${r.stderr}\n${JSON.stringify(r.events.at(-1))}`).toBe(0);
      const summary = r.events.at(-1)!;
      expect(summary).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: 8672, rowsWritten: 8672, rowsDeadLettered: 0 });
      const tables = summary.tables as { target: string; created: boolean; mode: string; verified: string }[];
      expect(tables.map((t) => t.target.replace(/^public\./, '')).sort()).toEqual(Object.keys(TABLES).sort());
      for (const t of tables) expect(t).toMatchObject({ created: true, mode: 'upsert', verified: 'checksum' });

      // Missing targets are created and filled parents first (foreign-key order). Only the
      // original declares foreign keys: dbferry creates targets without them (TableDef has none).
      if (i === 1) {
        const order = (r.events.find((e) => e.type === 'plan')!.tables as { target: string }[]).map((t) => t.target.replace(/^public\./, ''));
        expect(order.indexOf('customers')).toBeLessThan(order.indexOf('orders'));
        expect(order.indexOf('orders')).toBeLessThan(order.indexOf('order_items'));
        expect(order.indexOf('products')).toBeLessThan(order.indexOf('order_items'));
      }

      expect(await checksums(to), `after ${from.engine} → ${to.engine}`).toEqual(original);
    }
  });
});
