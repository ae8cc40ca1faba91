// Settings of one bench invocation, from the environment.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function csv(name) {
  const raw = process.env[name];
  return raw ? new Set(raw.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
}

/** Connection settings; the CLI tools get them as flags, dbferry as URLs. */
function endpoint(urlText) {
  const u = new URL(urlText);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port) || undefined,
    user: decodeURIComponent(u.username),
    password: u.password ? decodeURIComponent(u.password) : undefined,
  };
}

const pgUrl = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const myUrl = process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/mysql';

export function loadConfig() {
  const runId = `dbfb_${Date.now().toString(36)}_${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'dbferry-bench-'));
  const pg = { ...endpoint(pgUrl), port: endpoint(pgUrl).port ?? 5432 };
  const my = { ...endpoint(myUrl), port: endpoint(myUrl).port ?? 3306 };
  return {
    rows: positiveInt('ROWS', 1_000_000),
    rounds: positiveInt('ROUNDS', 3),
    /** Optional filters: PATHS=pg-pg,my-pg  TOOLS=dbferry,pgloader (substring match). */
    paths: csv('PATHS'),
    tools: csv('TOOLS'),
    keep: process.env.BENCH_KEEP === '1',
    /** Rate limit section: the capped runs are sized to take about this long (see extras.js). */
    rateSeconds: positiveInt('RATE_SECONDS', 15),
    /** Memory section: the wide table's rows and MB per value. */
    wideRows: positiveInt('WIDE_ROWS', 40),
    wideMb: positiveInt('WIDE_MB', 10),
    /** Memory section: rows of the optional big orders table (off unless set; BIG=10000000 takes minutes). */
    big: process.env.BIG ? positiveInt('BIG', undefined) : undefined,
    runId,
    work,
    pg,
    my,
    out: resolve(ROOT, process.env.BENCH_OUT || 'bench-results/latest.json'),
    bin: join(ROOT, 'bin', 'dbferry.js'),
  };
}
