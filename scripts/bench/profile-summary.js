#!/usr/bin/env node
// Summarizes V8 .cpuprofile files (node --cpu-prof): the top functions by
// self time, and self time by where the code lives (dbferry, a package, Node).
//   node scripts/bench/profile-summary.js PROFILE.cpuprofile [TOP]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary.js PROFILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function where(cf) {
  const url = cf.url || '';
  if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.includes('/out/main/')) return 'dbferry';
  return basename(url);
}

const fns = new Map();
const areas = new Map();
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || '(anonymous)'}  ${cf.url ? `${basename(cf.url)}:${cf.lineNumber + 1}` : ''}`;
  const f = fns.get(key) ?? { us: 0, area: where(cf) };
  f.us += us;
  fns.set(key, f);
  areas.set(f.area, (areas.get(f.area) ?? 0) + us);
}
const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(`${basename(file)}: ${(total / 1e6).toFixed(2)} s sampled`);
console.log('\nself time by area:');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`${ms(us)} ${pct(us)}  ${a}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [k, f] of [...fns].sort((x, y) => y[1].us - x[1].us).slice(0, top)) console.log(`${ms(f.us)} ${pct(f.us)}  ${k}  [${f.area}]`);
