// The remote profile of the bench (issue 16, part 6): the servers behind a
// shaping TCP proxy on loopback (netshape.js), as a DBA's workstation reaches
// them: REMOTE_MBIT (100) Mbit/s each way, REMOTE_DELAY_MS (5) ms each way, so
// a 10 ms round trip. dbferry's job points at the proxy's ports; setup and the
// checks of each target talk to the servers directly, so only the timed run
// crosses the link and its bytes are counted. Per path (default pg-pg, my-pg),
// each round, one target:
//
//   first-copy     dbferry replace into a new table (the yardstick)
//   bulk-pipe      reference over the same link: TRUNCATE, then the path's
//                  bulk pipe (binary COPY | COPY, mariadb --quick | COPY)
//   mirror-0.1     after 0.1% of the rows changed, scattered (as in resync.js),
//                  a mirror run: what a re-sync costs today
//   delta-0.1      the same change, mirror with options.compare "always" (delta
//                  sync: compare key ranges by hash first, copy only what
//                  differs); skipped with a note when this build has no
//                  options.compare
//
// and, on the first path, the first copy again with options.parallel = each
// of REMOTE_LANES (1,2,4,8) into new tables: whether more lanes hide latency.
// Goals (issue 16): a delta sync of the 0.1% change moves at most 10% of a
// full copy's bytes and takes at most 20% of its time. TOOLS=remote runs only
// this section; PATHS picks its paths.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { dbferryCommand, PATHS } from './cases.js';
import { fingerprint, fpDiff, myEnv, myUrl, pgEnv, pgUrl } from './db.js';
import { run } from './exec.js';
import { Link } from './netshape.js';
import { median } from './report.js';
import { perturb, truncateLoad } from './resync.js';

const DEFAULT_PATHS = ['pg-pg', 'my-pg'];

function numbers(name, fallback, { zero = false } = {}) {
  const raw = process.env[name];
  if (!raw) return fallback;
  const xs = raw.split(',').map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isFinite(x) || x < 0 || (x === 0 && !zero))) throw new Error(`${name} must be ${zero ? 'non-negative' : 'positive'} numbers separated by commas, got ${JSON.stringify(raw)}`);
  return xs;
}

export function planRemote(cfg) {
  if (!cfg.tools || ![...cfg.tools].some((t) => t === 'remote')) return undefined;
  const paths = cfg.paths ? PATHS.filter((p) => cfg.paths.has(p.id)) : PATHS.filter((p) => DEFAULT_PATHS.includes(p.id));
  return {
    mbit: numbers('REMOTE_MBIT', [100])[0],
    delayMs: numbers('REMOTE_DELAY_MS', [5], { zero: true })[0],
    lanes: numbers('REMOTE_LANES', [1, 2, 4, 8]),
    paths: paths.map((p) => ({ p, skip: p.from === 'sqlite' || p.to === 'sqlite' ? 'a SQLite file is local: the remote profile covers PostgreSQL and MariaDB' : undefined })),
  };
}

export function remoteNeed(plan) {
  return new Set((plan?.paths ?? []).filter((e) => !e.skip).map((e) => e.p.from));
}

/** The bench's settings with the servers' ports replaced by the proxy's: what the timed commands see. */
function throughLink(cfg, ports) {
  return { ...cfg, pg: { ...cfg.pg, host: '127.0.0.1', port: ports.pg }, my: { ...cfg.my, host: '127.0.0.1', port: ports.my } };
}

function job(ctx, remoteCtx, p, target, id, round, mode, options) {
  const file = join(ctx.cfg.work, `remote-${p.id}-${id}-${round}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name: `bench remote ${p.id} ${id}`,
      source: { url: remoteCtx.url(p.from, ctx.src[p.from]) },
      target: { url: remoteCtx.url(p.to, target) },
      tables: [{ source: 'orders', mode }],
      options: { verify: 'none', ...options },
    }),
  );
  return file;
}

/** A dbferry case: `mode` with `options`, after `change` (the 0.1% perturbation) when set. */
function dbferryCase(id, label, mode, { options = {}, change = false, needs } = {}) {
  return {
    id,
    label,
    needs,
    async setup(ctx, p, target) {
      return { expectedWrites: change ? await perturb(ctx, p, target) : undefined };
    },
    command: (ctx, remoteCtx, p, target, round, state) => dbferryCommand(ctx, { job: job(ctx, remoteCtx, p, target, id, round, mode, options), state }),
  };
}

/** An option this build's job spec does not know: the case measures a path that is not here yet. */
function unknownOption(stderr, summary) {
  const text = `${summary?.error ?? ''} ${stderr}`;
  return /options\.compare|unknown field "compare"|unrecognized key/i.test(text) ? 'this build has no options.compare (delta sync, issue 16 part 3): measured once it is merged' : undefined;
}

async function timed(ctx, remoteCtx, link, p, c, target, round, state, expected) {
  const { cfg } = ctx;
  const s = await c.setup(ctx, p, target, round);
  const load = loadavg()[0];
  const cmd = c.command(ctx, remoteCtx, p, target, round, state, s);
  let summary;
  link.reset();
  const r = await run(cmd.argv ?? [], {
    bash: cmd.bash,
    env: cmd.env,
    onLine: cmd.dbferry
      ? (line) => {
          if (!line.startsWith('{')) return;
          try {
            const e = JSON.parse(line);
            if (e.type === 'summary') summary = e;
          } catch {
            /* not an event */
          }
        }
      : undefined,
  });
  // Let the link deliver what is still on the wire (closing handshakes) before reading its counters.
  await new Promise((res) => setTimeout(res, 4 * link.delayMs + 20));
  const bytes = link.bytes();
  const m = { path: p.id, id: c.id, round, seconds: r.seconds, bytes, loadBefore: Number(load.toFixed(2)), status: 'ok', expectedWrites: s.expectedWrites };
  if (r.code !== 0) {
    const missing = c.needs === 'compare' ? unknownOption(r.stderr, summary) : undefined;
    if (missing) return { ...m, status: 'skipped', message: missing };
    m.status = 'failed';
    m.message = `exit ${r.code}: ${summary?.error ?? r.stderr.trim().split('\n').slice(-3).join(' ')}`;
    return m;
  }
  if (summary?.tables?.[0]?.applied) m.applied = summary.tables[0].applied;
  const d = fpDiff(expected, await fingerprint(cfg, p.to, target));
  if (d) {
    m.status = 'wrong';
    m.message = `target differs from the source: ${d}`;
  }
  if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  return m;
}

const mb = (n) => (n / 1e6).toFixed(1);

export async function runRemote(ctx, plan, { expected, log }) {
  if (!plan) return undefined;
  const { cfg } = ctx;
  const paths = plan.paths.filter((e) => !e.skip).map((e) => e.p);
  for (const e of plan.paths) if (e.skip) log(`remote: skipped ${e.p.id} (${e.skip})`);
  if (!paths.length) return undefined;
  const link = new Link({ mbit: plan.mbit, delayMs: plan.delayMs });
  const ports = { pg: await link.listen('pg', cfg.pg.host, cfg.pg.port), my: await link.listen('my', cfg.my.host, cfg.my.port) };
  const remoteCfg = throughLink(cfg, ports);
  const remoteCtx = { ...ctx, cfg: remoteCfg, url: (engine, where) => (engine === 'pg' ? pgUrl(remoteCfg, where) : engine === 'my' ? myUrl(remoteCfg, where) : ctx.url(engine, where)) };
  log(`remote: servers behind a shaping proxy, ${plan.mbit} Mbit/s and ${plan.delayMs} ms each way (PostgreSQL at 127.0.0.1:${ports.pg}, MariaDB at 127.0.0.1:${ports.my})`);
  const measurements = [];
  const skipped = new Map();
  const record = (m, label) => {
    measurements.push(m);
    if (m.status === 'skipped') {
      skipped.set(`${m.path} ${m.id}`, { path: m.path, id: m.id, label, skip: m.message });
      return;
    }
    const what = m.status === 'failed' ? `FAILED ${m.message}` : `${m.seconds.toFixed(2)} s, ${mb(m.bytes.down)} MB down, ${mb(m.bytes.up)} MB up${m.status === 'wrong' ? `, WRONG: ${m.message}` : ''}`;
    log(`[remote ${m.round}/${cfg.rounds}] ${PATHS.find((p) => p.id === m.path).label}, ${label}: ${what} (load ${m.loadBefore})`);
  };
  try {
    for (let round = 1; round <= cfg.rounds; round++) {
      for (const p of paths) {
        const reference = { ...truncateLoad(p, remoteCfg), id: 'bulk-pipe' };
        reference.label = `reference over the link: ${reference.label.replace(/^reference: /, '')}`;
        const command = reference.command;
        reference.command = (c, _remoteCtx, pp, t, rd, st, s) => ({ ...command(c, pp, t, rd, st, s), env: { ...pgEnv(cfg), ...myEnv(cfg) } });
        const cases = [
          dbferryCase('first-copy', 'dbferry first copy (creates the table)', 'replace'),
          ...(reference.skip ? [] : [reference]),
          dbferryCase('mirror-0.1', 'dbferry mirror after 0.1% changed', 'mirror', { change: true }),
          dbferryCase('delta-0.1', 'dbferry mirror, compare first (delta), after 0.1% changed', 'mirror', { change: true, options: { compare: 'always' }, needs: 'compare' }),
        ];
        const target = await ctx.freshTarget(p.to);
        const state = join(cfg.work, `remote-state-${p.id}-${round}`);
        mkdirSync(state, { recursive: true });
        try {
          for (const c of cases) {
            const m = await timed(ctx, remoteCtx, link, p, c, target, round, state, expected);
            record(m, c.label);
            if (m.status === 'failed' && c.id === 'first-copy') break;
            // A skipped delta left its change in the target: undo it for the next case.
            if (m.status === 'skipped') await run(dbferryCommand(ctx, { job: job(ctx, ctx, p, target, 'undo', round, 'mirror', {}), state }).argv);
          }
        } finally {
          await ctx.dropTarget(p.to, target);
          rmSync(state, { recursive: true, force: true });
        }
        // Lanes, on the first path only: the first copy into a new table with each parallelism.
        if (p !== paths[0]) continue;
        for (const lanes of plan.lanes) {
          const t = await ctx.freshTarget(p.to);
          const st = join(cfg.work, `remote-lanes-${p.id}-${lanes}-${round}`);
          mkdirSync(st, { recursive: true });
          try {
            const c = dbferryCase(`lanes-${lanes}`, `dbferry first copy, options.parallel ${lanes}`, 'replace', { options: { parallel: lanes } });
            record(await timed(ctx, remoteCtx, link, p, c, t, round, st, expected), c.label);
          } finally {
            await ctx.dropTarget(p.to, t);
            rmSync(st, { recursive: true, force: true });
          }
        }
      }
    }
  } finally {
    await link.close();
  }
  return summarizeRemote(plan, paths, measurements, [...skipped.values()]);
}

const LABELS = {
  'first-copy': 'dbferry first copy',
  'bulk-pipe': 'reference: TRUNCATE + bulk pipe',
  'mirror-0.1': 'dbferry mirror (0.1% changed)',
  'delta-0.1': 'dbferry delta mirror (0.1% changed)',
};

function summarizeRemote(plan, paths, measurements, skipped) {
  const out = [];
  for (const p of paths) {
    const ms = measurements.filter((m) => m.path === p.id && m.status !== 'skipped');
    const ids = [...new Set(ms.map((m) => m.id))];
    const ok = (id) => ms.filter((m) => m.id === id && m.status === 'ok');
    const med = (id, f) => (ok(id).length ? median(ok(id).map(f)) : undefined);
    const firstS = med('first-copy', (m) => m.seconds);
    const firstB = med('first-copy', (m) => m.bytes.total);
    const rows = ids.map((id) => {
      const all = ms.filter((m) => m.id === id);
      const seconds = med(id, (m) => m.seconds);
      const bytes = med(id, (m) => m.bytes.total);
      const r = {
        id,
        seconds,
        bytesDown: med(id, (m) => m.bytes.down),
        bytesUp: med(id, (m) => m.bytes.up),
        bytes,
        timeOfFirst: seconds !== undefined && firstS ? seconds / firstS : undefined,
        bytesOfFirst: bytes !== undefined && firstB ? bytes / firstB : undefined,
        runs: all.map((m) => (m.status === 'ok' ? Number(m.seconds.toFixed(2)) : m.status)),
        expectedWrites: ok(id).at(-1)?.expectedWrites,
        applied: ok(id).at(-1)?.applied,
        problems: all.filter((m) => m.status !== 'ok').map((m) => m.message),
      };
      if (id === 'delta-0.1' && r.timeOfFirst !== undefined) {
        r.goal = 'bytes ≤ 10% of the first copy, time ≤ 20%';
        r.met = r.bytesOfFirst <= 0.1 && r.timeOfFirst <= 0.2;
      }
      return r;
    });
    out.push({ path: p.id, label: p.label, rows });
  }
  return { link: { mbit: plan.mbit, delayMsEachWay: plan.delayMs, roundTripMs: 2 * plan.delayMs }, paths: out, skipped };
}

export function formatRemote(remote) {
  if (!remote) return '';
  const { link } = remote;
  const lines = [
    '',
    `Remote profile (issue 16): the servers behind a shaping proxy, ${link.mbit} Mbit/s each way, ${link.roundTripMs} ms round trip; median seconds and bytes over the link (MB = 10^6 bytes)`,
  ];
  for (const p of remote.paths) {
    lines.push('', `  ${p.label}`);
    lines.push(`  ${'case'.padEnd(40)}${'median'.padStart(8)}${'MB down'.padStart(9)}${'MB up'.padStart(8)}${'× time'.padStart(8)}${'× bytes'.padStart(9)}  runs`);
    for (const r of p.rows) {
      const extra = [
        r.expectedWrites ? `${r.expectedWrites.toLocaleString('en-US')} rows changed` : '',
        r.goal ? `goal: ${r.goal}: ${r.met ? 'met' : 'NOT met'}` : '',
        r.problems.length ? `problems: ${r.problems.join('; ')}` : '',
      ].filter(Boolean);
      const label = LABELS[r.id] ?? (r.id.startsWith('lanes-') ? `dbferry first copy, ${r.id.slice(6)} lane${r.id === 'lanes-1' ? '' : 's'}` : r.id);
      lines.push(
        `  ${label.padEnd(40)}${(r.seconds === undefined ? '–' : r.seconds.toFixed(2)).padStart(8)}${(r.bytesDown === undefined ? '' : mb(r.bytesDown)).padStart(9)}${(r.bytesUp === undefined ? '' : mb(r.bytesUp)).padStart(8)}` +
          `${(r.timeOfFirst === undefined ? '' : r.timeOfFirst.toFixed(2)).padStart(8)}${(r.bytesOfFirst === undefined ? '' : r.bytesOfFirst.toFixed(3)).padStart(9)}  [${r.runs.join(', ')}]${extra.length ? ` ${extra.join('; ')}` : ''}`,
      );
    }
  }
  for (const s of remote.skipped) lines.push(`  skipped: ${s.path} ${s.label} (${s.skip})`);
  return lines.join('\n');
}
