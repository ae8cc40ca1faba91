// Talking to the three engines through their own command-line clients
// (the same ones the reference pipes use), and to SQLite files in-process.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { must, run, sh } from './exec.js';

export function pgArgs(cfg, db) {
  return ['-h', cfg.pg.host, '-p', String(cfg.pg.port), '-U', cfg.pg.user, '-d', db, '-X', '-v', 'ON_ERROR_STOP=1'];
}
export function pgEnv(cfg) {
  return cfg.pg.password ? { PGPASSWORD: cfg.pg.password } : {};
}
/** The psql command line as bash words (for pipes). */
export function psqlCmd(cfg, db) {
  return ['psql', ...pgArgs(cfg, db)].map(sh).join(' ');
}
export function pgUrl(cfg, db) {
  const auth = cfg.pg.password ? `${encodeURIComponent(cfg.pg.user)}:${encodeURIComponent(cfg.pg.password)}` : encodeURIComponent(cfg.pg.user);
  return `postgres://${auth}@${cfg.pg.host}:${cfg.pg.port}/${db}`;
}

export async function pgQuery(cfg, db, sql) {
  const r = await must(['psql', ...pgArgs(cfg, db), '-Atq', '-F', '\t', '-c', sql], { env: pgEnv(cfg) });
  return r.stdout.trim();
}

export function myArgs(cfg) {
  return ['-h', cfg.my.host, '-P', String(cfg.my.port), '-u', cfg.my.user, '--default-character-set=utf8mb4'];
}
export function myEnv(cfg) {
  return cfg.my.password ? { MYSQL_PWD: cfg.my.password } : {};
}
export function mariadbCmd(cfg, tool = 'mariadb') {
  return [tool, ...myArgs(cfg)].map(sh).join(' ');
}
export function myUrl(cfg, db) {
  const auth = cfg.my.password ? `${encodeURIComponent(cfg.my.user)}:${encodeURIComponent(cfg.my.password)}` : encodeURIComponent(cfg.my.user);
  return `mysql://${auth}@${cfg.my.host}:${cfg.my.port}/${db}`;
}

export async function myQuery(cfg, db, sql) {
  const r = await must(['mariadb', ...myArgs(cfg), '-N', '-B', ...(db ? ['-D', db] : []), '-e', sql], { env: myEnv(cfg) });
  return r.stdout.trim();
}

export function sqliteQuery(file, sql) {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).raw(true).get();
  } finally {
    db.close();
  }
}

// Databases: created and dropped by name; every name starts with the run id.
export async function createDb(cfg, engine, name) {
  if (engine === 'pg') await pgQuery(cfg, 'postgres', `CREATE DATABASE "${name}"`);
  else if (engine === 'my') await myQuery(cfg, undefined, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
}

export async function dropDb(cfg, engine, name) {
  if (engine === 'pg') {
    await run(['psql', ...pgArgs(cfg, 'postgres'), '-Atqc', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`], { env: pgEnv(cfg) });
  } else if (engine === 'my') {
    await run(['mariadb', ...myArgs(cfg), '-e', `DROP DATABASE IF EXISTS \`${name}\``], { env: myEnv(cfg) });
  }
}

/** Every database of this bench run still on the servers (for the final clean-up). */
export async function listRunDbs(cfg) {
  const pg = await pgQuery(cfg, 'postgres', `SELECT datname FROM pg_database WHERE datname LIKE '${cfg.runId}%'`).catch(() => '');
  const my = await myQuery(cfg, undefined, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '${cfg.runId}%'`).catch(() => '');
  return { pg: pg ? pg.split('\n') : [], my: my ? my.split('\n') : [] };
}

/**
 * A fingerprint of an `orders` table, the same in every engine when the data
 * is the same: rows, sums of the numbers, NULL notes, characters of the notes
 * (catches mojibake), active rows, first/last timestamp.
 */
const FP_COLS = ['rows', 'sum_id', 'sum_customer', 'sum_qty', 'sum_price', 'notes', 'note_chars', 'active', 'min_ts', 'max_ts'];

function normalizeFp(values) {
  const v = values.map((x) => (x === null || x === undefined ? '' : String(x)));
  const o = Object.fromEntries(FP_COLS.map((k, i) => [k, v[i]]));
  o.sum_price = Number(o.sum_price).toFixed(2);
  o.min_ts = o.min_ts.slice(0, 19).replace('T', ' ');
  o.max_ts = o.max_ts.slice(0, 19).replace('T', ' ');
  for (const k of ['rows', 'sum_id', 'sum_customer', 'sum_qty', 'notes', 'note_chars', 'active']) o[k] = BigInt(o[k] || 0).toString();
  return o;
}

export async function fingerprint(cfg, engine, where, table = 'orders') {
  if (engine === 'pg') {
    const t = table.split('.').map((p) => `"${p}"`).join('.');
    const out = await pgQuery(
      cfg,
      where,
      `SELECT count(*), sum(id), sum(customer_id), sum(qty), sum(price), count(note), coalesce(sum(char_length(note)),0), ` +
        `sum(CASE WHEN active::text IN ('true','t','1') THEN 1 ELSE 0 END), min(created_at)::text, max(created_at)::text FROM ${t}`,
    );
    return normalizeFp(out.split('\t'));
  }
  if (engine === 'my') {
    const out = await myQuery(
      cfg,
      where,
      `SELECT count(*), sum(id), sum(customer_id), sum(qty), sum(price), count(note), coalesce(sum(char_length(note)),0), sum(active<>0), min(created_at), max(created_at) FROM \`${table}\``,
    );
    return normalizeFp(out.split('\t'));
  }
  const row = sqliteQuery(
    where,
    `SELECT count(*), sum(id), sum(customer_id), sum(qty), printf('%.2f', sum(price)), count(note), coalesce(sum(length(note)),0), sum(active<>0), min(created_at), max(created_at) FROM "${table}"`,
  );
  return normalizeFp(row);
}

/** What differs between two fingerprints, or '' when they agree. */
export function fpDiff(expected, actual, ignore = []) {
  const bad = [];
  for (const k of FP_COLS) if (!ignore.includes(k) && expected[k] !== actual[k]) bad.push(`${k} ${actual[k]} (expected ${expected[k]})`);
  return bad.join(', ');
}

/**
 * The wide table's check, the same in every engine when the values are: rows,
 * characters of the text values and of the JSON payloads, and an MD5 over
 * every row's MD5(body) || MD5(payload) || id, in id order.
 */
const WIDE_COLS = ['rows', 'body_chars', 'payload_chars', 'digest'];

export async function wideChecksum(cfg, engine, where) {
  let values;
  if (engine === 'pg') {
    const out = await pgQuery(
      cfg,
      where,
      `SELECT count(*), coalesce(sum(char_length(body)),0), coalesce(sum(char_length(doc->>'payload')),0),
              md5(coalesce(string_agg(md5(coalesce(body,'')) || md5(coalesce(doc->>'payload','')) || coalesce(doc->>'id',''), ',' ORDER BY id),''))
       FROM wide`,
    );
    values = out.split('\t');
  } else if (engine === 'my') {
    const payload = "JSON_UNQUOTE(JSON_EXTRACT(doc,'$.payload'))";
    const out = await myQuery(
      cfg,
      where,
      `SET SESSION group_concat_max_len = 16777216;
       SELECT count(*), coalesce(sum(char_length(body)),0), coalesce(sum(char_length(${payload})),0),
              MD5(COALESCE(GROUP_CONCAT(CONCAT(MD5(COALESCE(body,'')), MD5(COALESCE(${payload},'')), COALESCE(JSON_UNQUOTE(JSON_EXTRACT(doc,'$.id')),'')) ORDER BY id SEPARATOR ','),''))
       FROM wide`,
    );
    values = out.split('\t');
  } else {
    // No md5() in SQLite: the same digest, row by row, here.
    const db = new Database(where, { readonly: true });
    try {
      const md5 = (x) => createHash('md5').update(x ?? '', 'utf8').digest('hex');
      const parts = [];
      let bodyChars = 0;
      let payloadChars = 0;
      const it = db
        .prepare(`SELECT id, body, length(body), json_extract(doc,'$.payload'), length(json_extract(doc,'$.payload')), json_extract(doc,'$.id') FROM wide ORDER BY id`)
        .raw(true)
        .iterate();
      for (const [, body, bl, payload, pl, id] of it) {
        bodyChars += bl ?? 0;
        payloadChars += pl ?? 0;
        parts.push(md5(body) + md5(payload) + (id === null || id === undefined ? '' : String(id)));
      }
      values = [parts.length, bodyChars, payloadChars, md5(parts.join(','))];
    } finally {
      db.close();
    }
  }
  return Object.fromEntries(WIDE_COLS.map((k, i) => [k, String(values[i] ?? '')]));
}

/** What differs between two wide checksums, or ''. */
export function wideDiff(expected, actual) {
  return WIDE_COLS.filter((k) => expected[k] !== actual[k])
    .map((k) => `${k} ${actual[k]} (expected ${expected[k]})`)
    .join(', ');
}
