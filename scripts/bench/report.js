// Medians, ratios, the printed table and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CROSS_REFERENCES, PATHS } from './cases.js';

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
