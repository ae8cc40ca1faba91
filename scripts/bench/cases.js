// What is timed: per path, the reference tools and dbferry. Each case has
// prepare (untimed: a fresh target), the timed command, and a check (untimed:
// the target's fingerprint must equal the source's).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { must, run, sh, which } from './exec.js';
import { createDb, dropDb, mariadbCmd, myEnv, myQuery, myUrl, pgEnv, pgQuery, pgUrl, psqlCmd } from './db.js';

export const PATHS = [
  { id: 'pg-pg', label: 'PostgreSQL → PostgreSQL', from: 'pg', to: 'pg' },
  { id: 'my-pg', label: 'MariaDB → PostgreSQL', from: 'my', to: 'pg' },
  { id: 'sqlite-pg', label: 'SQLite → PostgreSQL', from: 'sqlite', to: 'pg' },
  { id: 'pg-my', label: 'PostgreSQL → MariaDB', from: 'pg', to: 'my' },
  { id: 'my-my', label: 'MariaDB → MariaDB', from: 'my', to: 'my' },
  { id: 'pg-sqlite', label: 'PostgreSQL → SQLite', from: 'pg', to: 'sqlite' },
  { id: 'my-sqlite', label: 'MariaDB → SQLite', from: 'my', to: 'sqlite' },
  { id: 'sqlite-sqlite', label: 'SQLite → SQLite', from: 'sqlite', to: 'sqlite' },
];

/**
 * References measured on one path that are also the yardstick of another
 * (the target side's bulk load is what limits it): PostgreSQL → MariaDB is
 * held against `mariadb-dump --tab` + LOAD DATA as issue 6 asks.
 */
export const CROSS_REFERENCES = { 'pg-my': ['my-my'] };

const PG_DDL = `CREATE TABLE orders (
  id bigint PRIMARY KEY, customer_id int NOT NULL, sku varchar(32) NOT NULL, qty int NOT NULL,
  price numeric(12,2) NOT NULL, note text, created_at timestamp NOT NULL, active boolean NOT NULL)`;
const MY_DDL = `CREATE TABLE orders (
  id bigint NOT NULL PRIMARY KEY, customer_id int NOT NULL, sku varchar(32) NOT NULL, qty int NOT NULL,
  price decimal(12,2) NOT NULL, note text NULL, created_at datetime NOT NULL, active boolean NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
const SQLITE_DDL = `CREATE TABLE orders (
  id INTEGER PRIMARY KEY, customer_id INT NOT NULL, sku VARCHAR(32) NOT NULL, qty INT NOT NULL,
  price NUMERIC(12,2) NOT NULL, note TEXT, created_at TIMESTAMP NOT NULL, active BOOLEAN NOT NULL)`;

/** Per-invocation state shared by the cases: source names, counters, caches. */
export function makeContext(cfg) {
  let n = 0;
  return {
    cfg,
    src: { pg: `${cfg.runId}_src`, my: `${cfg.runId}_src`, sqlite: join(cfg.work, 'src.db') },
    csv: {},
    /** A fresh target in an engine: a database name, or a SQLite file path. */
    async freshTarget(engine) {
      n++;
      if (engine === 'sqlite') return join(cfg.work, `t${n}.db`);
      const name = `${cfg.runId}_t${n}`;
      await createDb(cfg, engine, name);
      return name;
    },
    async dropTarget(engine, where) {
      if (engine === 'sqlite') {
        await run(['rm', '-f', where, `${where}-wal`, `${where}-shm`, `${where}-journal`]);
      } else await dropDb(cfg, engine, where);
    },
    url(engine, where) {
      if (engine === 'pg') return pgUrl(cfg, where);
      if (engine === 'my') return myUrl(cfg, where);
      return `sqlite://${where}`;
    },
  };
}

async function createOrders(ctx, engine, where) {
  if (engine === 'pg') await pgQuery(ctx.cfg, where, PG_DDL);
  else if (engine === 'my') await myQuery(ctx.cfg, where, MY_DDL);
  else await must(['sqlite3', where, SQLITE_DDL]);
}

/** A reference command; `skip` says why it cannot run here. */
function reference(path, id, label, { tools, note, ignore, setup, command, table }) {
  const missing = tools.filter((t) => !which(t));
  return {
    path,
    id,
    tool: label,
    kind: 'reference',
    note,
    ignore,
    table,
    skip: missing.length ? `not installed: ${missing.join(', ')}` : undefined,
    setup,
    command,
  };
}

function pgloaderCase(path, sourceUrlOf) {
  return reference(path, 'pgloader', 'pgloader', {
    tools: ['pgloader'],
    note: 'pgloader defaults: include drop, create tables, create indexes, reset sequences',
    async setup(ctx, round) {
      const target = await ctx.freshTarget('pg');
      const load = join(ctx.cfg.work, `pgloader-${path}-${round}.load`);
      const alter = path === 'my-pg' ? `\n  ALTER SCHEMA '${ctx.src.my}' RENAME TO 'public'` : '';
      writeFileSync(
        load,
        `LOAD DATABASE\n  FROM ${sourceUrlOf(ctx)}\n  INTO ${pgUrl(ctx.cfg, target)}\n` +
          `  WITH include drop, create tables, create indexes, reset sequences${alter};\n`,
      );
      return { target, load };
    },
    command: (ctx, s) => ({ argv: ['pgloader', '--root-dir', join(ctx.cfg.work, 'pgloader'), s.load] }),
  });
}

/** `sqlite3` arguments that import `file` as CSV, or as the tab-separated text MariaDB's client prints. */
const importArgs = (file, tabs) => (tabs ? ['.mode tabs', `.import ${file} orders`] : [`.import --csv ${file} orders`]);

function sqliteImportCase(path, exportCsv, tabs = false) {
  const what = tabs ? 'tab-separated text' : 'CSV';
  return reference(path, 'sqlite-import', `sqlite3 .import (${tabs ? 'TSV' : 'CSV'})`, {
    tools: ['sqlite3'],
    note: `times only \`.import\` into a table with PK; the ${what} is exported beforehand, untimed; NULL notes arrive as empty strings`,
    ignore: ['notes'],
    async setup(ctx) {
      if (!ctx.csv[path]) {
        const file = join(ctx.cfg.work, `${path}.csv`);
        await exportCsv(ctx, file);
        ctx.csv[path] = file;
      }
      const target = await ctx.freshTarget('sqlite');
      await createOrders(ctx, 'sqlite', target);
      return { target };
    },
    command: (ctx, s) => ({ argv: ['sqlite3', s.target, ...importArgs(ctx.csv[path], tabs)] }),
  });
}

/** The same rows piped from the source's export into `sqlite3 .import` as they come: export and import both timed. */
function sqlitePipeCase(path, exportCommand, tools, tabs = false) {
  return reference(path, 'sqlite-pipe', `export | sqlite3 .import (${tabs ? 'TSV' : 'CSV'})`, {
    tools: ['sqlite3', ...tools],
    note: `the ${tabs ? 'tab-separated' : 'CSV'} export piped into \`.import /dev/stdin\` of a table with PK, both timed; NULL notes arrive as empty strings`,
    ignore: ['notes'],
    async setup(ctx) {
      const target = await ctx.freshTarget('sqlite');
      await createOrders(ctx, 'sqlite', target);
      return { target };
    },
    command: (ctx, s) => ({ bash: `${exportCommand(ctx)} | sqlite3 ${sh(s.target)} ${importArgs('/dev/stdin', tabs).map(sh).join(' ')}`, env: { ...pgEnv(ctx.cfg), ...myEnv(ctx.cfg) } }),
  });
}

function dbferryCase(path, verify, validate = true) {
  const variant = `${verify}${validate ? '' : '-novalidate'}`;
  return {
    path,
    id: `dbferry-${variant}`,
    tool: `dbferry (verify ${verify}${validate ? '' : ', no validation'})`,
    kind: 'dbferry',
    verify,
    async setup(ctx, round, p) {
      const target = await ctx.freshTarget(p.to);
      const job = join(ctx.cfg.work, `job-${path}-${variant}-${round}.json`);
      const state = join(ctx.cfg.work, `state-${path}-${variant}-${round}`);
      mkdirSync(state, { recursive: true });
      writeFileSync(
        job,
        JSON.stringify(
          {
            name: `bench ${path} ${variant}`,
            source: { url: ctx.url(p.from, ctx.src[p.from]) },
            target: { url: ctx.url(p.to, target) },
            tables: [{ source: 'orders', mode: 'replace' }],
            options: { verify, validate },
          },
          null,
          2,
        ),
      );
      return { target, job, state };
    },
    command: dbferryCommand,
  };
}

/** The timed command of every dbferry case: `dbferry run JOB --json --state DIR` on the bench's snapshot of the build. */
export function dbferryCommand(ctx, s) {
  return { argv: [process.execPath, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ctx.cfg.bin, 'run', s.job, '--json', '--state', s.state], dbferry: true };
}

/**
 * A dbferry case of the extra sections (rate limit, parallelism, memory): a
 * job over `tables` of the source database `sourceOf(ctx, p)` (default: the
 * workload's source) with `options` (verify "none" unless given), its events
 * kept; `check(ctx, s, p)` checks the target when the `orders` fingerprint is
 * not the check.
 */
export function dbferryJobCase({ path, id, tool, tables = ['orders'], options = {}, sourceOf, check }) {
  return {
    path,
    id,
    tool,
    kind: 'dbferry',
    keepEvents: true,
    check,
    async setup(ctx, round, p) {
      const target = await ctx.freshTarget(p.to);
      const job = join(ctx.cfg.work, `job-${path}-${id}-${round}.json`);
      const state = join(ctx.cfg.work, `state-${path}-${id}-${round}`);
      mkdirSync(state, { recursive: true });
      const source = sourceOf ? sourceOf(ctx, p) : ctx.src[p.from];
      writeFileSync(
        job,
        JSON.stringify(
          {
            name: `bench ${path} ${id}`,
            source: { url: ctx.url(p.from, source) },
            target: { url: ctx.url(p.to, target) },
            tables: tables.map((t) => ({ source: t, mode: 'replace' })),
            options: { verify: 'none', ...options },
          },
          null,
          2,
        ),
      );
      return { target, job, state };
    },
    command: dbferryCommand,
  };
}

export function buildCases(cfg) {
  const cases = [];
  const my = () => mariadbCmd(cfg);

  // PostgreSQL → PostgreSQL
  cases.push(
    reference('pg-pg', 'copy-binary', 'COPY binary pipe', {
      tools: ['psql'],
      note: 'psql COPY orders TO STDOUT (FORMAT binary) | psql COPY orders FROM STDIN (FORMAT binary), target with PK',
      async setup(ctx) {
        const target = await ctx.freshTarget('pg');
        await createOrders(ctx, 'pg', target);
        return { target };
      },
      command: (ctx, s) => ({
        bash:
          `${psqlCmd(cfg, ctx.src.pg)} -c 'COPY orders TO STDOUT (FORMAT binary)' | ` +
          `${psqlCmd(cfg, s.target)} -c 'COPY orders FROM STDIN (FORMAT binary)'`,
        env: pgEnv(cfg),
      }),
    }),
  );

  // MariaDB → PostgreSQL, SQLite → PostgreSQL
  cases.push(pgloaderCase('my-pg', (ctx) => myUrl(cfg, ctx.src.my)));
  cases.push(pgloaderCase('sqlite-pg', (ctx) => `sqlite://${ctx.src.sqlite}`));

  // PostgreSQL → MariaDB: PostgreSQL's text COPY is MariaDB's LOAD DATA format.
  cases.push(
    reference('pg-my', 'copy-load-data', 'psql COPY | LOAD DATA LOCAL', {
      tools: ['psql', 'mariadb'],
      note: "psql COPY (SELECT …, active::int) TO STDOUT | mariadb LOAD DATA LOCAL INFILE '/dev/stdin', target with PK",
      async setup(ctx) {
        const target = await ctx.freshTarget('my');
        await createOrders(ctx, 'my', target);
        return { target };
      },
      command: (ctx, s) => ({
        bash:
          `${psqlCmd(cfg, ctx.src.pg)} -c 'COPY (SELECT id, customer_id, sku, qty, price, note, created_at, active::int FROM orders) TO STDOUT' | ` +
          `${my(ctx)} --local-infile=1 -D ${sh(s.target)} -e ${sh("LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE orders CHARACTER SET utf8mb4")}`,
        env: { ...pgEnv(cfg), ...myEnv(cfg) },
      }),
    }),
  );

  // MariaDB → MariaDB
  cases.push(
    reference('my-my', 'dump-pipe', 'mariadb-dump | mariadb', {
      tools: ['mariadb-dump', 'mariadb'],
      note: 'mariadb-dump --single-transaction db orders | mariadb db2 (extended INSERTs; creates the table with PK)',
      async setup(ctx) {
        return { target: await ctx.freshTarget('my') };
      },
      command: (ctx, s) => ({
        bash: `${mariadbCmd(cfg, 'mariadb-dump')} --single-transaction ${sh(ctx.src.my)} orders | ${my(ctx)} -D ${sh(s.target)}`,
        env: myEnv(cfg),
      }),
    }),
    reference('my-my', 'dump-tab', 'mariadb-dump --tab + LOAD DATA', {
      tools: ['mariadb-dump', 'mariadb'],
      note: 'mariadb-dump --tab=DIR (server writes the rows), then mariadb < orders.sql and LOAD DATA INFILE (server reads them)',
      async setup(ctx, round) {
        const target = await ctx.freshTarget('my');
        const dir = join(ctx.cfg.work, `tab-${round}-${target}`);
        mkdirSync(dir, { recursive: true });
        chmodSync(dir, 0o777);
        chmodSync(ctx.cfg.work, 0o755);
        return { target, dir };
      },
      command: (ctx, s) => ({
        bash:
          `${mariadbCmd(cfg, 'mariadb-dump')} --single-transaction --tab=${sh(s.dir)} ${sh(ctx.src.my)} orders && ` +
          `${my(ctx)} -D ${sh(s.target)} < ${sh(join(s.dir, 'orders.sql'))} && ` +
          `${my(ctx)} -D ${sh(s.target)} -e ${sh(`LOAD DATA INFILE '${join(s.dir, 'orders.txt')}' INTO TABLE orders CHARACTER SET utf8mb4`)}`,
        env: myEnv(cfg),
      }),
    }),
  );

  // Any → SQLite
  const pgCsv = (ctx) => `${psqlCmd(cfg, ctx.src.pg)} -c 'COPY (SELECT id, customer_id, sku, qty, price, note, created_at, active::int FROM orders ORDER BY id) TO STDOUT (FORMAT csv)'`;
  const sqliteCsv = (ctx) => `sqlite3 -csv ${sh(ctx.src.sqlite)} 'SELECT * FROM orders ORDER BY id'`;
  // The client's batch output, row by row (--quick): tab-separated, --raw leaves values unescaped (the workload's
  // have no tab or newline); a NULL note is printed empty, as in the CSV exports.
  const myTsv = (ctx) =>
    `${my(ctx)} --quick -N -B --raw -D ${sh(ctx.src.my)} -e ${sh("SELECT id, customer_id, sku, qty, price, COALESCE(note, ''), created_at, active FROM orders ORDER BY id")}`;
  cases.push(
    sqliteImportCase('pg-sqlite', async (ctx, file) => {
      await must([], { bash: `${pgCsv(ctx)} > ${sh(file)}`, env: pgEnv(cfg) });
    }),
    sqlitePipeCase('pg-sqlite', pgCsv, ['psql']),
    sqliteImportCase('my-sqlite', async (ctx, file) => {
      await must([], { bash: `${myTsv(ctx)} > ${sh(file)}`, env: myEnv(cfg) });
    }, true),
    sqlitePipeCase('my-sqlite', myTsv, ['mariadb'], true),
    sqliteImportCase('sqlite-sqlite', async (ctx, file) => {
      await must([], { bash: `${sqliteCsv(ctx)} > ${sh(file)}` });
    }),
    sqlitePipeCase('sqlite-sqlite', sqliteCsv, []),
  );

  for (const p of PATHS) cases.push(dbferryCase(p.id, 'none'), dbferryCase(p.id, 'checksum'), dbferryCase(p.id, 'none', false));
  // A path's cases side by side, references first.
  const order = new Map(PATHS.map((p, i) => [p.id, i]));
  return cases
    .map((c, i) => ({ c, i }))
    .sort((a, b) => order.get(a.c.path) - order.get(b.c.path) || (a.c.kind === b.c.kind ? a.i - b.i : a.c.kind === 'reference' ? -1 : 1))
    .map(({ c }) => c);
}

