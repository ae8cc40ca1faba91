/**
 * The safety tests' SQLite source (accounts and a ledger that references them), its
 * checksums read with better-sqlite3, a target's read with its native driver, and
 * the job they run: shared by tests/integration/safety*.test.ts.
 */
import Database from 'better-sqlite3';
import { writeJob } from './cli.js';
import { digest, type TestDb } from './targets.js';

export const ACCOUNTS = 1000;
export const LEDGER = 20_000;
export type Ev = Record<string, unknown> & { type: string };

/** A SQLite source: accounts and a ledger that references them (`ledgerRows` of it, LEDGER unless said). */
export function makeSource(path: string, version = 1, ledgerRows = LEDGER): void {
  const db = new Database(path);
  db.exec(`
    DROP TABLE IF EXISTS ledger; DROP TABLE IF EXISTS accounts;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance NUMERIC(12,2) NOT NULL);
    CREATE TABLE ledger (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id), amount NUMERIC(12,2) NOT NULL, memo TEXT);`);
  const a = db.prepare('INSERT INTO accounts VALUES (?, ?, ?)');
  const l = db.prepare('INSERT INTO ledger VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= ACCOUNTS; i++) a.run(i, `owner ${i} v${version}`, ((i * 37) % 100000) / 100);
    for (let i = 1; i <= ledgerRows; i++) l.run(i, 1 + (i % ACCOUNTS), (((i * 7919) % 50000) - 10000) / 100, i % 10 ? `memo ${i} — ü` : null);
  })();
  db.close();
}

export function sourceChecksums(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      accounts: digest(db.prepare('SELECT * FROM accounts ORDER BY id').raw(true).all() as unknown[][]),
      ledger: digest(db.prepare('SELECT * FROM ledger ORDER BY id').raw(true).all() as unknown[][]),
    };
  } finally {
    db.close();
  }
}

export async function targetChecksums(target: TestDb) {
  return { accounts: await target.checksum('accounts', 'id'), ledger: await target.checksum('ledger', 'id') };
}

export function job(dir: string, source: string, target: TestDb, modes: { accounts: string; ledger: string }, options: Record<string, unknown> = {}, ledger: Record<string, unknown> = {}) {
  return writeJob(dir, {
    name: 'safety',
    source: { url: `sqlite://${source}` },
    target: { url: target.url },
    tables: [
      { source: 'accounts', mode: modes.accounts },
      { source: 'ledger', mode: modes.ledger, ...ledger },
    ],
    options: { batch: { maxRows: 500 }, retries: { max: 5, baseDelayMs: 50 }, ...options },
  }, `job-${Math.random().toString(36).slice(2)}.json`);
}

export const isTableStarted = (table: string) => (e: Ev) => e.type === 'table-started' && e.table === table;
