#!/usr/bin/env node
// Builds examples/shop.db, the bundled demo database: a small shop with
// customers, products, orders and order_items. Deterministic: the same file
// content every time (a seeded PRNG, fixed dates), so tests can rely on it.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(root, process.argv[2] ?? 'examples/shop.db');
if (existsSync(out) && !process.argv.includes('--force')) process.exit(0);
mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });

let seed = 20241125;
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const first = ['Ada', 'Björn', 'Chloé', 'Dmitri', 'Eva', 'François', 'Grace', 'Hiro', 'Inès', 'José', 'Katarzyna', 'Linus', 'Małgorzata', 'Noor', 'Øyvind', 'Priya', 'Søren', 'Zoë', '美咲', 'Ольга'];
const last = ['Lovelace', 'Ångström', "O'Brien", 'Müller', 'Núñez', 'Kowalski', 'Hopper', 'Tanaka', 'Dubois', 'García', 'Nakamura', 'Smith', 'Ivanova', 'Ben Ali'];
const countries = ['DE', 'FR', 'JP', 'US', 'PL', 'NO', 'ES', 'IN', 'SE', 'GB'];
const adjectives = ['Red', 'Compact', 'Heavy-duty', 'Organic', 'Wireless', 'Vintage', 'Smart', 'Foldable'];
const nouns = ['Kettle', 'Lamp', 'Backpack', 'Keyboard', 'Teapot', 'Drill', 'Notebook', 'Headphones', 'Chair', 'Bicycle bell'];

const db = new Database(out);
db.pragma('journal_mode = DELETE');
db.exec(`
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  country CHAR(2) NOT NULL,
  vip BOOLEAN NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  sku VARCHAR(32) NOT NULL UNIQUE,
  name TEXT NOT NULL,
  price NUMERIC(10,2) NOT NULL,
  weight_kg REAL,
  active BOOLEAN NOT NULL DEFAULT 1
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  status TEXT NOT NULL,
  note TEXT,
  created_at DATETIME NOT NULL
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders (id),
  line INTEGER NOT NULL,
  product_id INTEGER NOT NULL REFERENCES products (id),
  qty INTEGER NOT NULL,
  unit_price NUMERIC(10,2) NOT NULL,
  PRIMARY KEY (order_id, line)
);
`);

const day = (n) => new Date(Date.UTC(2024, 0, 1) + n * 86400000 + int(0, 86399) * 1000).toISOString().slice(0, 19).replace('T', ' ');
const insert = db.transaction(() => {
  const c = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)');
  for (let id = 1; id <= 500; id++) {
    const f = pick(first);
    const l = pick(last);
    c.run(id, `${f} ${l}`, `customer${id}@example.com`, pick(countries), rand() < 0.1 ? 1 : 0, day(int(0, 300)));
  }
  const p = db.prepare('INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)');
  const prices = [];
  for (let id = 1; id <= 200; id++) {
    const price = (int(99, 49999) / 100).toFixed(2);
    prices[id] = price;
    p.run(id, `SKU-${String(id).padStart(5, '0')}`, `${pick(adjectives)} ${pick(nouns)}`, Number(price), rand() < 0.15 ? null : Math.round(rand() * 20000) / 1000, rand() < 0.9 ? 1 : 0);
  }
  const o = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?)');
  const i = db.prepare('INSERT INTO order_items VALUES (?, ?, ?, ?, ?)');
  const notes = ['leave at the door', 'gift wrap, please', 'Größe M bitte', 'fragile — handle with care', 'call before delivery 📦', 'tab\tand\nnewline'];
  for (let id = 1; id <= 2000; id++) {
    o.run(id, int(1, 500), pick(['new', 'paid', 'shipped', 'delivered', 'cancelled']), rand() < 0.2 ? pick(notes) : null, day(int(0, 330)));
    const lines = int(1, 5);
    for (let line = 1; line <= lines; line++) {
      const product = int(1, 200);
      i.run(id, line, product, int(1, 9), Number(prices[product]));
    }
  }
});
insert();
db.close();
process.stdout.write(`wrote ${out}\n`);
