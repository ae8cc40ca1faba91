#!/usr/bin/env node
// `npm run bench`: the standard `orders` workload (DESIGN.md, "Performance")
// in PostgreSQL, MariaDB and SQLite; dbferry against the reference tools on
// each path, alternately, ROUNDS rounds, medians; one table on stdout and
// bench-results/latest.json. Missing reference tools are reported as skipped.
//
//   ROWS=1000000 ROUNDS=3 node scripts/bench.js
//   PATHS=pg-pg,my-pg TOOLS=dbferry,copy  (optional filters, substring match)
//   BENCH_PG_URL, BENCH_MYSQL_URL (server URLs), BENCH_KEEP=1 (keep databases)
//   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (extra node flags for dbferry)
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ROOT } from './bench/config.js';
import { run, stopLive, which } from './bench/exec.js';
import { createDb, dropDb, fingerprint, fpDiff, listRunDbs, myQuery, pgQuery } from './bench/db.js';
import { buildMy, buildPg, buildSqlite } from './bench/workload.js';
import { buildCases, makeContext, PATHS } from './bench/cases.js';
import { formatReport, summarize, writeJson } from './bench/report.js';

const cfg = loadConfig();
const log = (s) => process.stderr.write(`${s}\n`);
const fmtRate = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${Math.round(n / 1e3)}k`);

let cleaning = false;
async function cleanup() {
  if (cleaning || cfg.keep) return;
  cleaning = true;
  const left = await listRunDbs(cfg);
  for (const name of left.pg) await dropDb(cfg, 'pg', name);
  for (const name of left.my) await dropDb(cfg, 'my', name);
  rmSync(cfg.work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`\nbench: ${sig}, stopping and dropping this run's databases…`);
    stopLive();
    cleanup().finally(() => process.exit(130));
  });
}

function selected(c) {
  if (cfg.paths && !cfg.paths.has(c.path)) return false;
  if (cfg.tools && ![...cfg.tools].some((t) => c.id.includes(t) || c.tool.includes(t))) return false;
  return true;
}

async function versions() {
  const v = async (argv) => {
    const r = await run(argv);
    return r.code === 0 ? (r.stdout || r.stderr).trim().split('\n')[0] : undefined;
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    postgres: await pgQuery(cfg, 'postgres', 'SHOW server_version').catch(() => undefined),
    mariadb: await myQuery(cfg, undefined, 'SELECT version()').catch(() => undefined),
    sqlite3: which('sqlite3') ? await v(['sqlite3', '--version']) : undefined,
    pgloader: which('pgloader') ? await v(['pgloader', '--version']) : undefined,
  };
}

async function buildSources(ctx, needed) {
  const t0 = Date.now();
  const jobs = [];
  if (needed.has('pg')) {
    jobs.push(
      (async () => {
        await createDb(cfg, 'pg', ctx.src.pg);
        await buildPg(cfg, ctx.src.pg, cfg.rows);
      })(),
    );
  }
  if (needed.has('my')) {
    jobs.push(
      (async () => {
        await createDb(cfg, 'my', ctx.src.my);
        await buildMy(cfg, ctx.src.my, cfg.rows);
      })(),
    );
  }
  if (needed.has('sqlite')) buildSqlite(ctx.src.sqlite, cfg.rows);
  await Promise.all(jobs);
  log(`workload: ${cfg.rows.toLocaleString('en-US')} rows in ${[...needed].join(', ')} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const fps = {};
  for (const engine of needed) fps[engine] = await fingerprint(cfg, engine, ctx.src[engine]);
  const [first, ...rest] = [...needed];
  for (const e of rest) {
    const d = fpDiff(fps[first], fps[e]);
    if (d) throw new Error(`the workload differs between ${first} and ${e}: ${d}`);
  }
  return fps[first];
}

/** dbferry's phases from the arrival times of its --json events. */
function phasesOf(times, total) {
  const t = (k) => times[k];
  if (t('run-started') === undefined || t('summary') === undefined) return undefined;
  const staged = t('table-staged') ?? t('table-started');
  const committed = t('apply-committed') ?? staged;
  return {
    startup: t('run-started'),
    plan: (t('table-started') ?? t('run-started')) - t('run-started'),
    stage: staged - (t('table-started') ?? staged),
    apply: committed - staged,
    post: t('summary') - committed,
    exit: total - t('summary'),
  };
}

async function measure(ctx, c, p, round, expected) {
  const s = await c.setup(ctx, round, p);
  // Other work on the machine skews every figure: keep the load seen at the start.
  const load = loadavg()[0];
  const cmd = c.command(ctx, s);
  const times = {};
  let summary;
  const r = await run(cmd.argv ?? [], {
    bash: cmd.bash,
    env: cmd.env,
    sampleRss: true,
    maxRssFile: cmd.dbferry ? join(cfg.work, 'maxrss.txt') : undefined,
    onLine: cmd.dbferry
      ? (line, t) => {
          if (!line.startsWith('{')) return;
          try {
            const e = JSON.parse(line);
            if (times[e.type] === undefined || e.type === 'table-staged' || e.type === 'verify') times[e.type] = t;
            if (e.type === 'summary') summary = e;
          } catch {
            /* not an event */
          }
        }
      : undefined,
  });
  // dbferry is one process (worker threads included): GNU time's exact peak,
  // or the polled sum over its process tree if it ever starts more.
  const rssMb = Math.max(r.rssMb ?? 0, r.exitMaxRssMb ?? 0);
  const m = { path: c.path, id: c.id, round, seconds: r.seconds, rssMb, status: 'ok', loadBefore: Number(load.toFixed(2)) };
  if (r.code !== 0) {
    m.status = 'failed';
    m.message = `exit ${r.code}: ${summary?.error ?? (r.stderr.trim().split('\n').slice(-3).join(' ') || r.stdout.trim().split('\n').slice(-1)[0])}`;
  } else {
    if (cmd.dbferry) m.phases = phasesOf(times, r.seconds);
    try {
      const fp = await fingerprint(cfg, p.to, s.target);
      const d = fpDiff(expected, fp, c.ignore);
      if (d) {
        m.status = 'wrong';
        m.message = `target differs from the source: ${d}`;
      }
    } catch (err) {
      m.status = 'wrong';
      m.message = `target not readable: ${String(err.message).split('\n')[0]}`;
    }
  }
  await ctx.dropTarget(p.to, s.target);
  if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  if (s.state) rmSync(s.state, { recursive: true, force: true });
  return m;
}

async function main() {
  if (!existsSync(join(ROOT, 'out', 'main', 'cli.js'))) {
    throw new Error('dbferry is not built: run `npm run build` (or `npm run bench`, which builds first)');
  }
  // Run a snapshot of the build: a rebuild during the bench must not swap dbferry's files under it.
  const app = join(cfg.work, 'app');
  mkdirSync(join(app, 'out'), { recursive: true });
  cpSync(join(ROOT, 'out', 'main'), join(app, 'out', 'main'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
  cfg.bin = join(app, 'bin', 'dbferry.js');
  for (const t of ['psql', 'mariadb']) if (!which(t)) throw new Error(`${t} is needed to build the workload and check targets`);

  const allCases = buildCases(cfg);
  const cases = allCases.filter(selected);
  const paths = PATHS.filter((p) => cases.some((c) => c.path === p.id));
  const needed = new Set(paths.flatMap((p) => [p.from, p.to]).filter((e) => e !== 'sqlite' || paths.some((p) => p.from === 'sqlite')));
  const ctx = makeContext(cfg);
  const machine = await versions();
  log(`bench ${cfg.runId}: ROWS=${cfg.rows} ROUNDS=${cfg.rounds}, work dir ${cfg.work}`);
  const expected = await buildSources(ctx, needed);

  const measurements = [];
  for (const c of cases) if (c.skip) log(`skipped: ${c.path} ${c.tool} (${c.skip})`);
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const p of paths) {
      const here = cases.filter((c) => c.path === p.id && !c.skip);
      // Alternate: each round starts with a different tool of the path.
      const shift = (round - 1) % Math.max(1, here.length);
      const ordered = [...here.slice(shift), ...here.slice(0, shift)];
      for (const c of ordered) {
        const m = await measure(ctx, c, p, round, expected);
        measurements.push(m);
        const what =
          m.status === 'failed'
            ? `FAILED ${m.message}`
            : `${m.seconds.toFixed(2)} s, ${fmtRate(cfg.rows / m.seconds)} rows/s, peak RSS ${m.rssMb.toFixed(0)} MB${m.status === 'wrong' ? `, WRONG: ${m.message}` : ''}`;
        log(`[round ${round}/${cfg.rounds}] ${p.label}, ${c.tool}: ${what} (load ${m.loadBefore})`);
      }
    }
  }

  const summary = summarize(cases, measurements, cfg.rows);
  const loads = measurements.map((m) => m.loadBefore);
  machine.loadAverage = { min: Math.min(...loads), max: Math.max(...loads), cores: machine.cpus };
  const meta = { rows: cfg.rows, rounds: cfg.rounds, machine };
  const text = formatReport(summary, meta);
  process.stdout.write(`\n${text}\n`);
  writeJson(cfg.out, { generatedAt: new Date().toISOString(), runId: cfg.runId, ...meta, ...summary });
  log(`\nwritten: ${cfg.out}`);
}

let code = 0;
try {
  await main();
} catch (err) {
  log(`bench: ${err instanceof Error ? err.message : String(err)}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
