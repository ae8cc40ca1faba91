// Medians, ratios, the printed table and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CROSS_REFERENCES, PATHS } from './cases.js';
import { formatQueue } from './queue.js';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function rate(n) {
  if (n === undefined) return '';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)}k`;
  return String(Math.round(n));
}

const PHASES = ['startup', 'plan', 'stage', 'apply', 'post', 'exit'];

/** One result per (path, tool): medians over the rounds that succeeded. */
export function summarize(cases, measurements, rows) {
  const pathLabel = Object.fromEntries(PATHS.map((p) => [p.id, p.label]));
  const results = cases.map((c) => {
    const ms = measurements.filter((m) => m.path === c.path && m.id === c.id);
    const base = { path: c.path, pathLabel: pathLabel[c.path], id: c.id, tool: c.tool, kind: c.kind, note: c.note, rounds: ms };
    if (c.skip) return { ...base, status: 'skipped', message: c.skip };
    if (!ms.length) return { ...base, status: 'not run' };
    const failed = ms.find((m) => m.status === 'failed');
    const wrong = ms.find((m) => m.status === 'wrong');
    const okTimes = ms.filter((m) => m.status !== 'failed').map((m) => m.seconds);
    const seconds = median(okTimes);
    const r = {
      ...base,
      status: failed ? 'failed' : wrong ? 'wrong' : 'ok',
      message: failed?.message ?? wrong?.message,
      seconds: failed ? undefined : seconds,
      rowsPerSecond: failed || !seconds ? undefined : rows / seconds,
      rssMb: median(ms.map((m) => m.rssMb).filter((x) => x !== undefined)),
    };
    if (c.kind === 'dbferry' && !failed) {
      r.phases = Object.fromEntries(PHASES.map((k) => [k, median(ms.map((m) => m.phases?.[k]).filter((x) => x !== undefined))]));
    }
    return r;
  });
  // Ratios: dbferry's rows/s over each reference's, same path (and cross-path yardsticks).
  for (const r of results) {
    if (r.kind !== 'dbferry') continue;
    const refPaths = [r.path, ...(CROSS_REFERENCES[r.path] ?? [])];
    r.ratios = [];
    for (const ref of results) {
      if (ref.kind !== 'reference' || !refPaths.includes(ref.path)) continue;
      const ratio = r.rowsPerSecond && ref.rowsPerSecond ? r.rowsPerSecond / ref.rowsPerSecond : undefined;
      r.ratios.push({ reference: ref.tool, referencePath: ref.path, ratio, status: ref.status });
    }
  }
  // Verification cost per path: rows/s with checksum against without.
  const verifyCost = [];
  for (const p of PATHS) {
    const none = results.find((r) => r.path === p.id && r.id === 'dbferry-none');
    const sum = results.find((r) => r.path === p.id && r.id === 'dbferry-checksum');
    if (none?.rowsPerSecond && sum?.rowsPerSecond) {
      verifyCost.push({
        path: p.id,
        withoutVerify: none.rowsPerSecond,
        withChecksum: sum.rowsPerSecond,
        extraSeconds: sum.seconds - none.seconds,
        costPercent: (1 - sum.rowsPerSecond / none.rowsPerSecond) * 100,
      });
    }
  }
  // Validation cost per path: rows/s with row validation (the default) against without.
  const validateCost = [];
  for (const p of PATHS) {
    const on = results.find((r) => r.path === p.id && r.id === 'dbferry-none');
    const off = results.find((r) => r.path === p.id && r.id === 'dbferry-none-novalidate');
    if (on?.rowsPerSecond && off?.rowsPerSecond) {
      validateCost.push({ path: p.id, withoutValidation: off.rowsPerSecond, withValidation: on.rowsPerSecond, costPercent: (1 - on.rowsPerSecond / off.rowsPerSecond) * 100 });
    }
  }
  return { results, verifyCost, validateCost };
}

function pad(s, n, right = false) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}

function table(header, rows, rightCols) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => pad(c, widths[i], rightCols.includes(i))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (rightCols.includes(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), sep, ...rows.map(line)].join('\n');
}

export function formatReport(summary, meta) {
  const { results, verifyCost, validateCost } = summary;
  const out = [];
  out.push(
    `dbferry bench: orders, ${meta.rows.toLocaleString('en-US')} rows, ${meta.rounds} round${meta.rounds > 1 ? 's' : ''} (medians), ` +
      `${meta.machine.cpus} cores, node ${meta.machine.node}`,
  );
  const la = meta.machine.loadAverage;
  if (la && la.max > la.cores + 1) {
    out.push(`WARNING: other work ran during the bench (1-min load average up to ${la.max.toFixed(1)} on ${la.cores} cores): figures are noisy`);
  }
  if (!results.length) {
    out.push('main table: no case selected by PATHS/TOOLS');
    return out.join('\n');
  }
  out.push('ratio = dbferry rows/s ÷ reference rows/s on the same path (>1: dbferry faster); peak RSS = VmHWM of the process tree (summed)');
  out.push('');
  const rows = results.map((r) => {
    const time =
      r.status === 'skipped' ? `skipped (${r.message})` : r.status === 'failed' ? `FAILED: ${oneLine(r.message)}` : r.seconds !== undefined ? r.seconds.toFixed(2) : r.status;
    const ratios = (r.ratios ?? [])
      .map((x) => `${x.ratio !== undefined ? `${x.ratio.toFixed(2)}×` : '–'} ${x.reference}${x.referencePath !== r.path ? ` (${x.referencePath})` : ''}`)
      .join('; ');
    return [
      r.pathLabel,
      r.tool + (r.status === 'wrong' ? ' [WRONG DATA]' : ''),
      time,
      r.rowsPerSecond ? rate(r.rowsPerSecond) : '',
      ratios,
      r.rssMb !== undefined && r.status !== 'skipped' ? r.rssMb.toFixed(0) : '',
    ];
  });
  out.push(table(['path', 'tool', 'seconds', 'rows/s', 'ratio to references', 'peak RSS MB'], rows, [2, 3, 5]));

  if (validateCost?.length) {
    out.push('');
    out.push('row validation (the default) against validate: false, both with verify "none" (negative: within noise):');
    out.push(
      table(
        ['path', 'rows/s without', 'rows/s with validation', 'cost'],
        validateCost.map((v) => [v.path, rate(v.withoutValidation), rate(v.withValidation), `${v.costPercent.toFixed(0)}%`]),
        [1, 2, 3],
      ),
    );
  }

  if (verifyCost.length) {
    out.push('');
    out.push('checksum verification (dbferry verify "checksum" against "none"):');
    out.push(
      table(
        ['path', 'rows/s without', 'rows/s with checksum', 'extra s', 'cost'],
        verifyCost.map((v) => [v.path, rate(v.withoutVerify), rate(v.withChecksum), v.extraSeconds.toFixed(2), `${v.costPercent.toFixed(0)}%`]),
        [1, 2, 3, 4],
      ),
    );
  }
  const phased = results.filter((r) => r.phases);
  if (phased.length) {
    out.push('');
    out.push('where dbferry\'s time goes (median seconds, from its --json events): startup = process start → run-started;');
    out.push('plan = connect, introspect, plan; stage = read + write into the staging table; apply = staging → target in one');
    out.push('transaction; post = drop staging (+ verify); exit = summary → process exit');
    out.push(
      table(
        ['path', 'tool', ...PHASES],
        phased.map((r) => [r.path, r.tool, ...PHASES.map((k) => (r.phases[k] !== undefined ? r.phases[k].toFixed(2) : ''))]),
        [2, 3, 4, 5, 6, 7],
      ),
    );
  }
  const wrong = results.filter((r) => r.status === 'wrong');
  for (const r of wrong) out.push(`\nWRONG DATA: ${r.pathLabel} ${r.tool}: ${r.message}`);
  const notes = results.filter((r) => r.kind === 'reference' && r.note);
  if (notes.length) {
    out.push('');
    out.push('references:');
    for (const r of notes) out.push(`  ${r.path} ${r.tool}: ${r.note}`);
  }
  return out.join('\n');
}

function oneLine(s) {
  return String(s ?? '').replace(/\s+/g, ' ').trim().slice(0, 160);
}

export function writeJson(file, data) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}

// ---------------------------------------------------------------------------
// The extra sections (extras.js): rate limit, parallelism, memory.

function bytesRate(n) {
  if (n === undefined) return '';
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(2)} MB/s`;
  return `${(n / 1024).toFixed(0)} kB/s`;
}

function pct(x) {
  return x === undefined ? '' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
}

function statusCell(r) {
  if (!r) return '';
  if (r.status === 'skipped') return `skipped (${r.message})`;
  if (r.status === 'failed') return `FAILED: ${oneLine(r.message)}`;
  if (r.status === 'wrong') return `WRONG DATA: ${oneLine(r.message)}`;
  return r.status === 'ok' ? 'ok' : r.status ?? '';
}

function chunksCell(chunks) {
  return chunks ? Object.values(chunks).join(' + ') : '';
}

export function formatExtras(extras) {
  const out = [];
  const rl = extras.rateLimit;
  if (rl) {
    out.push('');
    out.push(
      `rate limit (options.rateLimit), 1 round only (each capped run is sized to stage for about ${rl.rateSeconds} s, by design); goal: the achieved rate within 10% of the cap`,
    );
    out.push('achieved = rows (bytes: table-staged `bytes`) ÷ time from the first table-started to the last table-staged event;');
    out.push(`cap = the lower of total ÷ ${rl.rateSeconds} s and 25% of the uncapped staging rate (never-binding limit, same code path);`);
    out.push('"burst alone" = what the bucket\'s initial one-second allowance adds over such a run (a perfect limiter lands there, not at 0%)');
    const rows = [];
    for (const p of rl.paths) {
      const u = p.uncapped;
      for (const [kind, r] of [
        ['rowsPerSecond', p.rows],
        ['bytesPerSecond', p.bytes],
      ]) {
        if (!r) continue;
        const f = kind === 'rowsPerSecond' ? (x) => (x === undefined ? '' : `${Math.round(x).toLocaleString('en-US')} rows/s`) : bytesRate;
        const uncapped = kind === 'rowsPerSecond' ? u?.rowsPerSecond : u?.bytesPerSecond;
        rows.push([
          p.path,
          kind,
          uncapped !== undefined ? f(uncapped) : statusCell(u),
          r.cap !== undefined ? f(r.cap) : '',
          f(r.achieved),
          pct(r.deviationPercent),
          pct(r.burstBoundPercent),
          r.within10Percent === undefined ? '' : r.within10Percent ? 'yes' : 'NO',
          r.stageSeconds !== undefined ? r.stageSeconds.toFixed(2) : '',
          r.seconds !== undefined ? r.seconds.toFixed(2) : '',
          r.rssMb !== undefined && r.status !== 'skipped' ? r.rssMb.toFixed(0) : '',
          statusCell(r),
        ]);
      }
    }
    out.push(
      table(
        ['path', 'limit', 'uncapped staging', 'cap', 'achieved', 'deviation', 'burst alone', 'within 10%', 'staging s', 'run s', 'peak RSS MB', 'check'],
        rows,
        [2, 3, 4, 5, 6, 8, 9, 10],
      ),
    );
  }

  const par = extras.parallelism;
  if (par) {
    out.push('');
    out.push(
      `parallelism (options.parallel), ${par.cores} cores available (chunked case: cores + 1 = ${par.defaultParallel} lanes, the default where the servers are elsewhere), ` +
        `${par.rounds} round${par.rounds > 1 ? 's' : ''} (medians); goals: two tables at once ≥ 1.7× one at a time (up to the cores), a table in key-range chunks faster than unsplit`,
    );
    out.push('rows/s = ROWS ÷ the whole run; staging rows/s = ROWS ÷ (first table-started → last table-staged); chunks per table from table-started');
    const rows = [];
    const ratios = [];
    for (const p of par.paths) {
      if (p.status === 'skipped') {
        rows.push([p.path, '', '', statusCell(p), '', '', '', '']);
        continue;
      }
      for (const v of Object.values(p.variants)) {
        rows.push([
          p.path,
          v.tool + (v.status === 'wrong' ? ' [WRONG DATA]' : ''),
          chunksCell(v.chunks),
          v.status === 'failed' ? `FAILED: ${oneLine(v.message)}` : v.seconds !== undefined ? v.seconds.toFixed(2) : '',
          rate(v.rowsPerSecond),
          v.stageSeconds !== undefined ? v.stageSeconds.toFixed(2) : '',
          rate(v.stageRowsPerSecond),
          v.rssMb !== undefined ? v.rssMb.toFixed(0) : '',
        ]);
      }
      const x = (r) => (r === undefined ? '–' : `${r.toFixed(2)}×`);
      const chunked = p.variants['one-table-chunked'];
      const total = chunked?.chunks ? Object.values(chunked.chunks).reduce((a, n) => a + n, 0) : undefined;
      const estimate = chunked?.estimates ? Object.values(chunked.estimates)[0] : undefined;
      const unsplitNote =
        total === 1 ? `not split at this size (1 chunk; dbferry's estimate ${estimate !== undefined ? estimate.toLocaleString('en-US') : '?'} rows): both runs unsplit` : '';
      ratios.push([p.path, 'one table: cores + 1 lanes, chunks ÷ parallel 1 unsplit', x(p.oneTable.ratio), x(p.oneTable.stageRatio), '> 1×', unsplitNote]);
      ratios.push([p.path, 'two tables: parallel 2 ÷ parallel 1', x(p.twoTables.ratio), x(p.twoTables.stageRatio), par.cores >= 2 ? '≥ 1.7×' : 'none (1 core)', '']);
    }
    out.push(table(['path', 'case', 'chunks', 'seconds', 'rows/s', 'staging s', 'staging rows/s', 'peak RSS MB'], rows, [2, 3, 4, 5, 6, 7]));
    if (ratios.length) out.push(table(['path', 'comparison', 'ratio (whole run)', 'ratio (staging)', 'goal', 'note'], ratios, [2, 3]));
    for (const p of par.paths) {
      for (const v of Object.values(p.variants ?? {})) for (const w of v.warnings ?? []) out.push(`  warning, ${p.path} ${v.id}: ${oneLine(w)}`);
      for (const v of Object.values(p.variants ?? {})) if (v.status === 'wrong') out.push(`WRONG DATA: ${p.path} ${v.tool}: ${v.message}`);
    }
  }

  const mem = extras.memory;
  if (mem) {
    out.push('');
    out.push(`memory (peak RSS of dbferry: GNU time's maxrss, or the polled VmHWM of its process tree), 1 round; goal: at most ${mem.goalMb} MB, flat in the rows and value size`);
    const rows = [];
    const w = mem.wide;
    if (w) {
      for (const p of w.paths) {
        const what = `wide values: ${w.rows} rows × ${w.mbPerValue} MB (text and JSON)`;
        if (p.status === 'skipped') {
          rows.push([what, p.path, '', '', '', '', statusCell(p)]);
          continue;
        }
        rows.push([
          what,
          p.path,
          p.status !== 'failed' ? p.seconds.toFixed(2) : '',
          p.mbPerSecond !== undefined ? `${p.mbPerSecond.toFixed(1)} MB/s` : '',
          p.status !== 'failed' ? p.rssMb.toFixed(0) : '',
          p.within250Mb === undefined ? '' : p.within250Mb ? 'yes' : 'NO',
          statusCell(p),
        ]);
      }
    }
    const b = mem.big;
    if (b) {
      if (b.status === 'skipped') rows.push(['orders, BIG rows', 'pg-pg', '', '', '', '', statusCell(b)]);
      else {
        for (const [r, label] of [
          [b.base, `orders, ${b.base.rows.toLocaleString('en-US')} rows (${b.base.from})`],
          [b.big, `orders, ${b.big.rows.toLocaleString('en-US')} rows`],
        ]) {
          const ok = r.status !== 'failed' && r.seconds !== undefined;
          rows.push([
            label,
            b.path,
            ok ? r.seconds.toFixed(2) : '',
            ok ? `${rate(r.rows / r.seconds)} rows/s` : '',
            ok && r.rssMb !== undefined ? r.rssMb.toFixed(0) : '',
            ok && r.rssMb !== undefined ? (r.rssMb <= mem.goalMb ? 'yes' : 'NO') : '',
            statusCell(r),
          ]);
        }
      }
    }
    out.push(table(['case', 'path', 'seconds', 'rate', 'peak RSS MB', `≤ ${mem.goalMb} MB`, 'check'], rows, [2, 3, 4]));
    if (b?.growthMb !== undefined) {
      out.push(`peak RSS from ${b.base.rows.toLocaleString('en-US')} to ${b.big.rows.toLocaleString('en-US')} rows: ${b.growthMb >= 0 ? '+' : ''}${b.growthMb.toFixed(0)} MB`);
    }
  }
  out.push(...formatQueue(extras.queue));
  return out.join('\n');
}
