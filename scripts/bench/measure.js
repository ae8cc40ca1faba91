// One timed run of one case: fresh target (untimed), the command (timed, with
// peak RSS and dbferry's --json events), the check of the target (untimed),
// and the target dropped again.
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';
import { fingerprint, fpDiff } from './db.js';

/** dbferry's phases from the arrival times of its --json events. */
export function phasesOf(times, total) {
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

/** Events a case with `keepEvents` keeps (with their arrival time `at`, seconds since the start). */
const KEPT = new Set(['table-started', 'table-staged', 'warning', 'apply-committed']);

/**
 * The staging phase of a run from its kept events: first table-started to the
 * last table-staged, the rows read and bytes staged (table-staged's rowsRead
 * and bytes), and the chunks planned (table-started's chunks).
 */
export function stageWindow(events) {
  const started = events.filter((e) => e.type === 'table-started');
  const staged = events.filter((e) => e.type === 'table-staged');
  if (!started.length || !staged.length) return undefined;
  const from = Math.min(...started.map((e) => e.at));
  const to = Math.max(...staged.map((e) => e.at));
  const hasBytes = staged.every((e) => typeof e.bytes === 'number');
  return {
    seconds: to - from,
    rows: staged.reduce((a, e) => a + (e.rowsRead ?? 0), 0),
    bytes: hasBytes ? staged.reduce((a, e) => a + e.bytes, 0) : undefined,
    tables: staged.length,
    chunks: started.reduce((a, e) => a + (e.chunks ?? 0), 0),
    chunksPerTable: Object.fromEntries(started.map((e) => [e.table, e.chunks])),
    /** table-started's estimate: the row count dbferry sized its chunks by. */
    estimates: Object.fromEntries(started.map((e) => [e.table, e.estimate])),
    /** durationMs of each table-staged: dbferry's own clock, table-started → table-staged. */
    tableMs: Object.fromEntries(staged.map((e) => [e.table, e.durationMs])),
  };
}

/**
 * Runs case `c` of path `p` once. The target is checked with `c.check(ctx, s, p)`
 * when the case has one (it returns '' or what differs), else its `orders`
 * fingerprint must equal `expected`.
 */
export async function measure(ctx, c, p, round, expected) {
  const { cfg } = ctx;
  const s = await c.setup(ctx, round, p);
  // Other work on the machine skews every figure: keep the load seen at the start.
  const load = loadavg()[0];
  const cmd = c.command(ctx, s);
  const times = {};
  const events = [];
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
            if (c.keepEvents && KEPT.has(e.type)) events.push({ ...e, at: t });
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
      const d = c.check ? await c.check(ctx, s, p) : fpDiff(expected, await fingerprint(cfg, p.to, s.target), c.ignore);
      if (d) {
        m.status = 'wrong';
        m.message = `target differs from the source: ${d}`;
      }
    } catch (err) {
      m.status = 'wrong';
      m.message = `target not readable: ${String(err.message).split('\n')[0]}`;
    }
  }
  if (c.keepEvents) {
    m.stage = stageWindow(events);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => e.message);
    if (warnings.length) m.warnings = [...new Set(warnings)];
    if (summary) m.summary = { status: summary.status, rowsRead: summary.rowsRead, rowsWritten: summary.rowsWritten, durationMs: summary.durationMs };
  }
  await ctx.dropTarget(p.to, s.target);
  if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  if (s.state) rmSync(s.state, { recursive: true, force: true });
  return m;
}
