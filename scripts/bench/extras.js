// The extra sections of the bench, after the main table: DESIGN.md's claims
// on the rate limit, parallelism and memory, each measured on its own runs of
// dbferry (verify "none" for timing; every target still checked against its
// source: the `orders` fingerprint, or the wide table's checksum).
//
//   rate-limit   rateLimit.rowsPerSecond / bytesPerSecond: achieved over the staging phase against the cap
//   parallel     one table: parallel 1 unsplit vs cores + 1 lanes (key-range chunks);
//                two tables of ROWS/2: parallel 1 vs 2
//   memory-wide  a table of WIDE_ROWS values of WIDE_MB MB each: peak RSS
//   memory-big   BIG rows of `orders` (only with BIG=…): peak RSS next to ROWS'
//   queue        runs on BullMQ through `dbferry worker`: the queue's own cost per run, and
//                runs spread over 1, 2, 3 workers (scripts/bench/queue.js; needs Redis)
//
// TOOLS selects them by these names (substring: TOOLS=rate, TOOLS=parallel,
// TOOLS=memory); with TOOLS unset every section runs. PATHS picks their paths;
// unset, each runs on its default paths (below).
import { availableParallelism } from 'node:os';
import { dbferryJobCase, PATHS } from './cases.js';
import { createDb, dropDb, fingerprint, fpDiff, wideChecksum, wideDiff } from './db.js';
import { measure } from './measure.js';
import { median } from './report.js';
import { buildMy, buildPg, buildWidePg } from './workload.js';
import { runQueue } from './queue.js';

const PATH = Object.fromEntries(PATHS.map((p) => [p.id, p]));

export const SECTIONS = ['rate-limit', 'parallel', 'memory-wide', 'memory-big', 'queue'];

function wanted(cfg, name) {
  return !cfg.tools || [...cfg.tools].some((t) => name.includes(t));
}

/** The section's paths: those PATHS selects, else its defaults. */
function pathsFor(cfg, defaults) {
  return cfg.paths ? PATHS.filter((p) => cfg.paths.has(p.id)) : defaults.map((id) => PATH[id]);
}

/** Which sections run on which paths; a path a section cannot use is listed with the reason. */
export function planExtras(cfg) {
  const plan = {};
  if (wanted(cfg, 'rate-limit')) plan.rate = pathsFor(cfg, ['pg-pg']).map((p) => ({ p }));
  if (wanted(cfg, 'parallel')) {
    plan.parallel = pathsFor(cfg, ['pg-pg', 'my-my']).map((p) => ({
      p,
      skip:
        p.from === 'sqlite'
          ? 'its cases build their tables in PostgreSQL or MariaDB only'
          : p.to === 'sqlite'
            ? 'a SQLite target takes one writer at a time'
            : undefined,
    }));
  }
  if (wanted(cfg, 'memory-wide')) {
    plan.wide = pathsFor(cfg, ['pg-pg', 'pg-my', 'pg-sqlite']).map((p) => ({ p, skip: p.from !== 'pg' ? 'the wide table is built in PostgreSQL only' : undefined }));
  }
  if (wanted(cfg, 'memory-big')) {
    if (!cfg.big) plan.big = { skip: 'BIG is not set (BIG=10000000 adds one pg-pg round on 10M rows; it takes minutes)' };
    else if (cfg.paths && !cfg.paths.has('pg-pg')) plan.big = { skip: 'runs on pg-pg only, which PATHS leaves out' };
    else plan.big = { p: PATH['pg-pg'] };
  }
  if (wanted(cfg, 'queue')) plan.queue = true;
  return plan;
}

/** Source engines whose standard workload (ROWS rows of `orders`) the planned sections read. */
export function extrasNeed(plan) {
  const need = new Set();
  for (const e of plan.rate ?? []) need.add(e.p.from);
  for (const e of plan.parallel ?? []) if (!e.skip) need.add(e.p.from);
  // The figure for ROWS rows next to BIG's, when the main table has none.
  if (plan.big?.p) need.add('pg');
  return need;
}

const fmtRate = (n) => (n === undefined ? '–' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${Math.round(n / 1e3)}k` : String(Math.round(n)));
const fmtBytes = (n) => (n === undefined ? '–' : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} kB`);

function describe(m, extra = '') {
  if (m.status === 'failed') return `FAILED ${m.message}`;
  return `${m.seconds.toFixed(2)} s, peak RSS ${m.rssMb.toFixed(0)} MB${extra}${m.status === 'wrong' ? `, WRONG: ${m.message}` : ''} (load ${m.loadBefore})`;
}

/** A measurement's figures for the JSON (its events' summary included). */
function brief(m) {
  if (!m) return undefined;
  const { path, id, round, seconds, rssMb, status, message, loadBefore, phases, stage, warnings, summary } = m;
  return { path, id, round, seconds, rssMb, status, message, loadBefore, phases, stage, warnings, summary };
}

// ---------------------------------------------------------------------------
// Rate limit

/**
 * The caps. A cap must bind (well below what dbferry does uncapped) and the
 * run must be long enough that the bucket's initial burst (it starts full:
 * one second's allowance, README "rateLimit") weighs little: over a run of T
 * seconds that burst alone lifts the achieved rate by about 1/(T-1). So the
 * cap is the lower of
 *   - what makes the staging take RATE_SECONDS (default 15 s: burst ≈ +7%), and
 *   - 25% of the uncapped staging rate measured in the same invocation, on the
 *     same path, with a never-binding limit (rowsPerSecond 1e12): an active
 *     limit stages row by row (no binary COPY pass-through), so that is the
 *     code path the capped runs take, and 25% of it leaves a wide margin for
 *     a noisy machine.
 * A fixed fraction of ROWS alone would not bind when dbferry is slow, and 25%
 * alone would make slow runs of big tables (or, at small ROWS, runs so short
 * the burst and startup dominate).
 */
function capFor(total, uncappedRate, seconds) {
  const byTime = total / seconds;
  const byRate = uncappedRate ? 0.25 * uncappedRate : Infinity;
  return Math.max(1, Math.round(Math.min(byTime, byRate)));
}

async function runRate(ctx, entries, expected, log) {
  const { cfg } = ctx;
  const out = { rounds: 1, rateSeconds: cfg.rateSeconds, paths: [] };
  const all = [];
  for (const { p } of entries) {
    const mk = (id, tool, rateLimit) => dbferryJobCase({ path: p.id, id, tool, options: { rateLimit } });
    const res = { path: p.id, pathLabel: p.label };
    // 1. Uncapped (a limit that never binds): the yardstick for the caps.
    const u = await measure(ctx, mk('rate-uncapped', 'uncapped (never-binding limit)', { rowsPerSecond: 1e12, bytesPerSecond: 1e15 }), p, 1, expected);
    all.push(u);
    const uOk = u.status === 'ok' && u.stage?.seconds > 0;
    res.uncapped = {
      ...brief(u),
      rowsPerSecond: uOk ? u.stage.rows / u.stage.seconds : undefined,
      bytesPerSecond: uOk && u.stage.bytes !== undefined ? u.stage.bytes / u.stage.seconds : undefined,
    };
    log(`[rate limit] ${p.label}, uncapped: ${describe(u, uOk ? `, staging ${fmtRate(res.uncapped.rowsPerSecond)} rows/s, ${fmtBytes(res.uncapped.bytesPerSecond)}/s` : '')}`);

    // 2. Rows per second.
    const rowsCap = capFor(cfg.rows, res.uncapped.rowsPerSecond, cfg.rateSeconds);
    const r = await measure(ctx, mk('rate-rows', `rowsPerSecond ${rowsCap}`, { rowsPerSecond: rowsCap }), p, 1, expected);
    all.push(r);
    res.rows = capResult(r, rowsCap, r.stage?.rows, cfg.rows);
    log(`[rate limit] ${p.label}, rowsPerSecond ${fmtRate(rowsCap)}: ${describe(r, res.rows.achieved !== undefined ? `, achieved ${fmtRate(res.rows.achieved)} rows/s (${signed(res.rows.deviationPercent)})` : '')}`);

    // 3. Bytes per second: the total is what the uncapped run staged (table-staged `bytes`).
    const totalBytes = u.stage?.bytes;
    if (!totalBytes) {
      res.bytes = { status: 'skipped', message: uOk ? 'table-staged events carry no `bytes`' : 'the uncapped run failed: no byte total to size the cap' };
    } else {
      const bytesCap = capFor(totalBytes, res.uncapped.bytesPerSecond, cfg.rateSeconds);
      const b = await measure(ctx, mk('rate-bytes', `bytesPerSecond ${bytesCap}`, { bytesPerSecond: bytesCap }), p, 1, expected);
      all.push(b);
      res.bytes = capResult(b, bytesCap, b.stage?.bytes, totalBytes);
      log(`[rate limit] ${p.label}, bytesPerSecond ${fmtBytes(bytesCap)}/s: ${describe(b, res.bytes.achieved !== undefined ? `, achieved ${fmtBytes(res.bytes.achieved)}/s (${signed(res.bytes.deviationPercent)})` : '')}`);
    }
    out.paths.push(res);
  }
  return { section: out, measurements: all };
}

function signed(x) {
  return x === undefined ? '–' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
}

/** A capped run: achieved = amount ÷ staging window; the burst bound is what the initial full bucket alone allows. */
function capResult(m, cap, amount, total) {
  const r = { cap, ...brief(m) };
  if (m.status === 'failed') return r;
  if (!m.stage || !(m.stage.seconds > 0) || amount === undefined) {
    r.status = r.status === 'ok' ? 'no staging window' : r.status;
    return r;
  }
  r.stageSeconds = m.stage.seconds;
  r.achieved = amount / m.stage.seconds;
  r.deviationPercent = (r.achieved / cap - 1) * 100;
  r.within10Percent = Math.abs(r.deviationPercent) <= 10;
  r.burstBoundPercent = total > cap ? (total / (total - cap) - 1) * 100 : undefined;
  return r;
}

// ---------------------------------------------------------------------------
// Parallelism

async function buildParallelSource(ctx, engine) {
  const { cfg } = ctx;
  const db = `${cfg.runId}_par`;
  const half = Math.floor(cfg.rows / 2);
  await createDb(cfg, engine, db);
  const build = engine === 'pg' ? buildPg : buildMy;
  await build(cfg, db, half);
  await build(cfg, db, cfg.rows - half, { table: 'orders_b', first: half + 1 });
  return {
    db,
    half,
    fp: { orders: await fingerprint(cfg, engine, db, 'orders'), orders_b: await fingerprint(cfg, engine, db, 'orders_b') },
  };
}

async function runParallel(ctx, entries, expected, log) {
  const { cfg } = ctx;
  const cores = availableParallelism();
  const out = { cores, defaultParallel: cores + 1, rounds: cfg.rounds, paths: [] };
  const all = [];
  for (const { p, skip } of entries) {
    if (skip) {
      out.paths.push({ path: p.id, pathLabel: p.label, status: 'skipped', message: skip });
      log(`skipped: parallelism on ${p.id} (${skip})`);
      continue;
    }
    const t0 = Date.now();
    const src = await buildParallelSource(ctx, p.from);
    log(`parallelism: ${p.from} source of two tables (${src.half.toLocaleString('en-US')} + ${(cfg.rows - src.half).toLocaleString('en-US')} rows) built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const two = async (_ctx, s, path) => {
      const bad = [];
      for (const t of ['orders', 'orders_b']) {
        const d = fpDiff(src.fp[t], await fingerprint(cfg, path.to, s.target, t));
        if (d) bad.push(`${t}: ${d}`);
      }
      return bad.join('; ');
    };
    // chunkRows = ROWS + 1 (more than any table's rows) keeps a table one chunk: parallel 1 "unsplit"
    // really is (PostgreSQL's pass-through would otherwise stage a table in chunks, one after another),
    // and the two-table runs compare tables at once against one at a time, not chunking. (Not ROWS:
    // dbferry probes the key chunkRows rows on, finds the last row, and plans an empty second chunk.)
    const unsplit = cfg.rows + 1;
    const cases = [
      dbferryJobCase({ path: p.id, id: 'one-table-parallel-1', tool: 'one table, parallel 1, unsplit (chunkRows = ROWS + 1)', options: { parallel: 1, chunkRows: unsplit } }),
      // cores + 1 lanes, the default where the servers are elsewhere (with local servers dbferry opens fewer).
      dbferryJobCase({ path: p.id, id: 'one-table-chunked', tool: `one table, parallel ${cores + 1} (cores + 1), key-range chunks`, options: { parallel: cores + 1 } }),
      dbferryJobCase({ path: p.id, id: 'two-tables-parallel-1', tool: 'two tables of ROWS/2, parallel 1', tables: ['orders', 'orders_b'], options: { parallel: 1, chunkRows: unsplit }, sourceOf: () => src.db, check: two }),
      dbferryJobCase({ path: p.id, id: 'two-tables-parallel-2', tool: 'two tables of ROWS/2, parallel 2', tables: ['orders', 'orders_b'], options: { parallel: 2, chunkRows: unsplit }, sourceOf: () => src.db, check: two }),
    ];
    const ms = [];
    for (let round = 1; round <= cfg.rounds; round++) {
      const shift = (round - 1) % cases.length;
      for (const c of [...cases.slice(shift), ...cases.slice(0, shift)]) {
        const m = await measure(ctx, c, p, round, expected);
        ms.push(m);
        const extra = m.stage ? `, ${fmtRate(cfg.rows / m.seconds)} rows/s (staging ${fmtRate(m.stage.rows / m.stage.seconds)}), ${m.stage.chunks} chunk${m.stage.chunks === 1 ? '' : 's'}` : '';
        log(`[parallel ${round}/${cfg.rounds}] ${p.label}, ${c.tool}: ${describe(m, extra)}`);
      }
    }
    all.push(...ms);
    await dropDb(cfg, p.from, src.db);
    const variants = Object.fromEntries(cases.map((c) => [c.id, variantResult(c, ms.filter((m) => m.id === c.id), cfg.rows)]));
    const ratio = (a, b, k) => (variants[a][k] && variants[b][k] ? variants[a][k] / variants[b][k] : undefined);
    out.paths.push({
      path: p.id,
      pathLabel: p.label,
      status: 'ok',
      variants,
      oneTable: { ratio: ratio('one-table-chunked', 'one-table-parallel-1', 'rowsPerSecond'), stageRatio: ratio('one-table-chunked', 'one-table-parallel-1', 'stageRowsPerSecond') },
      twoTables: { ratio: ratio('two-tables-parallel-2', 'two-tables-parallel-1', 'rowsPerSecond'), stageRatio: ratio('two-tables-parallel-2', 'two-tables-parallel-1', 'stageRowsPerSecond') },
    });
  }
  return { section: out, measurements: all };
}

/** Medians over the rounds that ran; chunks as the events said (the same every round). */
function variantResult(c, ms, rows) {
  const ok = ms.filter((m) => m.status !== 'failed');
  const failed = ms.find((m) => m.status === 'failed');
  const wrong = ms.find((m) => m.status === 'wrong');
  const seconds = median(ok.map((m) => m.seconds));
  const stageSeconds = median(ok.map((m) => m.stage?.seconds).filter((x) => x > 0));
  const warnings = [...new Set(ms.flatMap((m) => m.warnings ?? []))];
  return {
    id: c.id,
    tool: c.tool,
    status: failed ? 'failed' : wrong ? 'wrong' : 'ok',
    message: failed?.message ?? wrong?.message,
    seconds: failed ? undefined : seconds,
    stageSeconds: failed ? undefined : stageSeconds,
    rowsPerSecond: failed || !seconds ? undefined : rows / seconds,
    stageRowsPerSecond: failed || !stageSeconds ? undefined : rows / stageSeconds,
    rssMb: median(ms.map((m) => m.rssMb)),
    chunks: ok[0]?.stage?.chunksPerTable,
    estimates: ok[0]?.stage?.estimates,
    warnings: warnings.length ? warnings : undefined,
    rounds: ms.map(brief),
  };
}

// ---------------------------------------------------------------------------
// Memory

async function runWide(ctx, entries, log) {
  const { cfg } = ctx;
  const out = { rows: cfg.wideRows, mbPerValue: cfg.wideMb, rounds: 1, paths: [] };
  const all = [];
  const runnable = entries.filter((e) => !e.skip);
  for (const e of entries.filter((x) => x.skip)) {
    out.paths.push({ path: e.p.id, pathLabel: e.p.label, status: 'skipped', message: e.skip });
    log(`skipped: wide values on ${e.p.id} (${e.skip})`);
  }
  if (!runnable.length) return { section: out, measurements: all };
  const db = `${cfg.runId}_wide`;
  const t0 = Date.now();
  await createDb(cfg, 'pg', db);
  await buildWidePg(cfg, db, cfg.wideRows, cfg.wideMb);
  const expected = await wideChecksum(cfg, 'pg', db);
  out.source = expected;
  log(`memory: wide table (${cfg.wideRows} rows × ${cfg.wideMb} MB) built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const { p } of runnable) {
    const c = dbferryJobCase({
      path: p.id,
      id: 'memory-wide',
      tool: `dbferry, ${cfg.wideRows} rows × ${cfg.wideMb} MB values`,
      tables: ['wide'],
      sourceOf: () => db,
      check: async (_ctx, s, path) => wideDiff(expected, await wideChecksum(cfg, path.to, s.target)),
    });
    const m = await measure(ctx, c, p, 1);
    all.push(m);
    log(`[memory] ${p.label}, wide values: ${describe(m)}`);
    out.paths.push({ path: p.id, pathLabel: p.label, ...brief(m), mbPerSecond: m.status !== 'failed' ? (cfg.wideRows * cfg.wideMb) / m.seconds : undefined, within250Mb: m.status !== 'failed' ? m.rssMb <= 250 : undefined });
  }
  await dropDb(cfg, 'pg', db);
  return { section: out, measurements: all };
}

async function runBig(ctx, entry, expected, mainResults, log) {
  const { cfg } = ctx;
  if (entry.skip) return { section: { status: 'skipped', message: entry.skip }, measurements: [] };
  const p = entry.p;
  const all = [];
  const out = { path: p.id, rows: cfg.big, rounds: 1 };
  // ROWS' figure: the main table's dbferry (verify none) on pg-pg when it ran, else one run here.
  const main = mainResults.find((r) => r.path === p.id && r.id === 'dbferry-none' && r.status !== 'failed' && r.status !== 'skipped' && r.rssMb !== undefined);
  if (main) out.base = { rows: cfg.rows, rssMb: main.rssMb, seconds: main.seconds, status: main.status, from: 'main table, dbferry (verify none), median' };
  else {
    const m = await measure(ctx, dbferryJobCase({ path: p.id, id: 'memory-rows', tool: `dbferry, ${cfg.rows} rows` }), p, 1, expected);
    all.push(m);
    log(`[memory] ${p.label}, ${cfg.rows.toLocaleString('en-US')} rows: ${describe(m)}`);
    out.base = { rows: cfg.rows, ...brief(m), from: 'one run in this section' };
  }
  const db = `${cfg.runId}_big`;
  const t0 = Date.now();
  await createDb(cfg, 'pg', db);
  await buildPg(cfg, db, cfg.big);
  const fp = await fingerprint(cfg, 'pg', db);
  log(`memory: ${cfg.big.toLocaleString('en-US')} rows of orders built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const m = await measure(ctx, dbferryJobCase({ path: p.id, id: 'memory-big', tool: `dbferry, ${cfg.big} rows`, sourceOf: () => db }), p, 1, fp);
  all.push(m);
  log(`[memory] ${p.label}, ${cfg.big.toLocaleString('en-US')} rows: ${describe(m, m.status !== 'failed' ? `, ${fmtRate(cfg.big / m.seconds)} rows/s` : '')}`);
  await dropDb(cfg, 'pg', db);
  out.big = { rows: cfg.big, ...brief(m), rowsPerSecond: m.status !== 'failed' ? cfg.big / m.seconds : undefined };
  if (out.base.rssMb !== undefined && m.status !== 'failed') out.growthMb = m.rssMb - out.base.rssMb;
  return { section: out, measurements: all };
}

/** Runs the planned sections; returns their results (for the report and the JSON) and every measurement. */
export async function runExtras(ctx, plan, { expected, mainResults, log }) {
  const extras = {};
  const measurements = [];
  const add = ({ section, measurements: ms }) => {
    measurements.push(...ms);
    return section;
  };
  if (plan.rate) extras.rateLimit = add(await runRate(ctx, plan.rate, expected, log));
  if (plan.parallel) extras.parallelism = add(await runParallel(ctx, plan.parallel, expected, log));
  if (plan.wide || plan.big) {
    extras.memory = { goalMb: 250 };
    if (plan.wide) extras.memory.wide = add(await runWide(ctx, plan.wide, log));
    if (plan.big) extras.memory.big = add(await runBig(ctx, plan.big, expected, mainResults, log));
  }
  if (plan.queue) extras.queue = add(await runQueue(ctx.cfg ?? ctx, log));
  return { extras, measurements };
}
