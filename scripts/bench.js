#!/usr/bin/env node
// `npm run bench`: the standard `orders` workload (DESIGN.md, "Performance")
// in PostgreSQL, MariaDB and SQLite; dbferry against the reference tools on
// each path, alternately, ROUNDS rounds, medians; one table on stdout and
// bench-results/latest.json. Missing reference tools are reported as skipped.
//
// Then the extra sections (scripts/bench/extras.js): rate limit accuracy,
// parallelism and memory, each on its own dbferry runs, every target checked.
//
//   ROWS=1000000 ROUNDS=3 node scripts/bench.js
//   PATHS=pg-pg,my-pg TOOLS=dbferry,copy  (optional filters, substring match)
//   TOOLS=rate | parallel | memory   only that extra section (section names: rate-limit,
//            parallel, memory-wide, memory-big); TOOLS=dbferry,copy runs none of them.
//            PATHS also picks their paths; unset: rate-limit on pg-pg, parallel on pg-pg and
//            my-my, memory-wide on pg-pg and pg-my, memory-big on pg-pg.
//   RATE_SECONDS=15   rate limit: capped runs are sized to stage for about this long (1 round)
//   WIDE_ROWS=40 WIDE_MB=10   memory: the wide table's rows and MB per value (1 round)
//   TOOLS=resync      only the re-sync section (scripts/bench/resync.js): into an existing table,
//            replace again / upsert / mirror after 0.1% changed, against TRUNCATE + bulk load and
//            pt-table-sync; PATHS picks its paths (default pg-pg and my-my)
//            RESYNC_CHANGE=0.0001 the scattered change's share (default 0.001); RESYNC_CASES=replace-again,
//            mirror-0.1,truncate-load only those cases (the first copy always runs)
//   TOOLS=remote      only the remote profile (scripts/bench/remote.js): the servers behind a shaping
//            TCP proxy (REMOTE_MBIT=100 Mbit/s, REMOTE_DELAY_MS=5 ms each way); first copy, bulk pipe,
//            mirror and delta mirror after 0.1% changed, time and bytes; first copy with
//            options.parallel in REMOTE_LANES (1,2,4,8) on its first path; PATHS (default pg-pg, my-pg)
//   TOOLS=usable      only the "time to a usable database" section (scripts/bench/usable.js): orders
//            with 3 secondary indexes and a foreign key to customers, until all is in place, against
//            pgloader (my-pg) and pg_dump | psql (pg-pg); PATHS picks its paths (default both)
//   BIG=10000000      memory: also one pg-pg round on BIG rows of orders (off by default: minutes)
//   BENCH_PG_URL, BENCH_MYSQL_URL (server URLs), BENCH_KEEP=1 (keep databases)
//   BENCH_OUT=file.json (default bench-results/latest.json)
//   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (extra node flags for dbferry)
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ROOT } from './bench/config.js';
import { run, stopLive, which } from './bench/exec.js';
import { createDb, dropDb, fingerprint, fpDiff, listRunDbs, myQuery, pgQuery } from './bench/db.js';
import { extrasNeed, planExtras, runExtras } from './bench/extras.js';
import { formatResync, planResync, resyncNeed, runResync } from './bench/resync.js';
import { formatRemote, planRemote, remoteNeed, runRemote } from './bench/remote.js';
import { formatUsable, planUsable, runUsable } from './bench/usable.js';
import { measure } from './bench/measure.js';
import { buildMy, buildPg, buildSqlite } from './bench/workload.js';
import { buildCases, makeContext, PATHS } from './bench/cases.js';
import { formatExtras, formatReport, summarize, writeJson } from './bench/report.js';

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
  const extrasPlan = planExtras(cfg);
  for (const e of extrasNeed(extrasPlan)) needed.add(e);
  const resyncPlan = planResync(cfg);
  for (const e of resyncNeed(resyncPlan)) needed.add(e);
  const remotePlan = planRemote(cfg);
  for (const e of remoteNeed(remotePlan)) needed.add(e);
  const usablePlan = planUsable(cfg);
  const ctx = makeContext(cfg);
  const machine = await versions();
  machine.availableParallelism = availableParallelism();
  log(`bench ${cfg.runId}: ROWS=${cfg.rows} ROUNDS=${cfg.rounds}, work dir ${cfg.work}`);
  const expected = needed.size ? await buildSources(ctx, needed) : undefined;

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
  const { extras, measurements: extraMeasurements } = await runExtras(ctx, extrasPlan, { expected, mainResults: summary.results, log });
  const resync = await runResync(ctx, resyncPlan, { expected, log });
  const remote = await runRemote(ctx, remotePlan, { expected, log });
  const usable = await runUsable(ctx, usablePlan, { log });
  const loads = [...measurements, ...extraMeasurements].map((m) => m.loadBefore);
  if (loads.length) machine.loadAverage = { min: Math.min(...loads), max: Math.max(...loads), cores: machine.cpus };
  const meta = { rows: cfg.rows, rounds: cfg.rounds, machine };
  const text = [formatReport(summary, meta), formatExtras(extras), formatResync(resync), formatRemote(remote), formatUsable(usable)].filter(Boolean).join('\n');
  process.stdout.write(`\n${text}\n`);
  writeJson(cfg.out, { generatedAt: new Date().toISOString(), runId: cfg.runId, ...meta, ...summary, ...extras, ...(resync ? { resync } : {}), ...(remote ? { remote } : {}), ...(usable ? { usable } : {}) });
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
