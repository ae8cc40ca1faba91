/**
 * A worker thread that runs the check of a SQLite pass-through (tsv.ts:
 * checkList) on its own connection to the source file, while the main thread
 * copies the same rows unchecked: the two halves of the work on two cores.
 * One query at a time; each file opened once, read-only.
 */
import Database from 'better-sqlite3';
import { parentPort } from 'node:worker_threads';
import type { CheckReply, CheckRequest } from './checker.js';
import { registerUtf8Check } from './tsv.js';
import { registerKeyHash } from './keyHash.js';

if (!parentPort) throw new Error('sqliteCheckWorker runs in a worker thread');
const port = parentPort;
const open = new Map<string, Database.Database>();

function connection(file: string): Database.Database {
  let db = open.get(file);
  if (!db) {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    registerUtf8Check(db);
    // A delta run's chunk of hashed key buckets is read WHERE its key hash is among them.
    registerKeyHash(db);
    open.set(file, db);
  }
  return db;
}

port.on('message', (m: CheckRequest) => {
  let reply: CheckReply;
  try {
    // Structured cloning turns Buffers into Uint8Arrays: better-sqlite3 binds Buffers.
    const params = m.params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p) : p));
    const row = connection(m.file).prepare(m.sql).raw(true).safeIntegers(true).get(...params) as unknown[] | undefined;
    reply = { id: m.id, row: row ?? null };
  } catch (err) {
    reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
