import { EXIT, type PlannedDiff } from '../../shared/events.js';
import { planJob } from '../engine/pipeline/plan.js';
import { megabytes, n } from './display.js';
import { requireJob } from './jobFile.js';
import { schemaLines } from './schemaLines.js';

export async function planCommand(args: string[], opts: { json?: boolean; diff?: boolean }): Promise<number> {
  const job = requireJob(args, 'dbferry plan JOB.json [--json] [--diff]', (problems) => {
    if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'plan', ok: false, problems })}\n`);
  });
  if (!job) return EXIT.invalid;
  const report = await planJob(job.spec, { baseDir: job.baseDir, diff: opts.diff });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ type: 'plan', ...report })}\n`);
  } else {
    for (const t of report.tables) {
      process.stdout.write(
        `${t.source} → ${t.target}  [${t.mode}${t.key.length ? `, key ${t.key.join(', ')}` : ''}]  ${t.createTarget ? 'will be CREATED' : 'exists'}` +
          `${t.estimate !== undefined ? `, ~${n(t.estimate)} rows` : ''}${t.bytes !== undefined ? `, ~${megabytes(t.bytes)}` : ''}\n`,
      );
      if (t.path) process.stdout.write(`    path: ${t.path}\n`);
      if (t.fastPath) process.stdout.write(`    fast path: ${t.fastPath}\n`);
      if (t.partitions) process.stdout.write(`    ${t.partitions}\n`);
      if (t.incremental) {
        process.stdout.write(
          `    incremental: ${t.incremental.since === undefined ? `no watermark yet: every row, then only rows with a newer ${t.incremental.cursor}` : `only rows with ${t.incremental.cursor} > ${t.incremental.since}`}\n`,
        );
      }
      for (const c of t.columns) {
        const flag = c.lossy ? `  ${c.accepted ? 'accepted: ' : 'LOSSY: '}${c.lossy}` : c.mayNotFit ? `  may not fit: ${c.mayNotFit} (such rows are dead-lettered)` : '';
        process.stdout.write(`    ${c.name.padEnd(24)} ${c.sourceType.padEnd(20)} → ${c.targetName ? `"${c.targetName}" ` : ''}${c.targetType}${flag}\n`);
      }
      for (const line of schemaLines(t.schema ?? [])) process.stdout.write(`    ${line}\n`);
      if (t.diff) for (const line of diffLines(t.diff)) process.stdout.write(`    ${line}\n`);
    }
    for (const w of report.warnings) process.stdout.write(`warning: ${w}\n`);
    const all = [...report.problems, ...report.accessProblems];
    if (all.length) {
      process.stderr.write(`dbferry: ${all.length} problem${all.length === 1 ? '' : 's'}; nothing was changed:\n${all.map((p) => `  - ${p}`).join('\n')}\n`);
    } else process.stdout.write('plan ok: nothing was changed; `dbferry run` applies it\n');
  }
  if (report.ok) return EXIT.ok;
  // The spec does not fit the databases: 2. The databases cannot be reached or used as needed: 1.
  return report.problems.length ? EXIT.invalid : EXIT.failed;
}

/** `plan --diff`: what a run would do to the table's rows, with a few keys of each. */
export function diffLines(d: PlannedDiff): string[] {
  if (d.error) return [`diff: could not compare: ${d.error}`];
  const out = [
    `diff: ${n(d.inserted)} to insert, ${n(d.updated)} to update, ${n(d.deleted)} to delete, ${n(d.unchanged)} unchanged${d.kept ? ` (${n(d.kept)} target rows the source lacks are kept)` : ''}`,
  ];
  if (d.method) out.push(`  found by ${d.method}`);
  if (d.examples.inserted.length) out.push(`  insert: key ${d.examples.inserted.join('; ')}${d.inserted > d.examples.inserted.length ? '; …' : ''}`);
  if (d.examples.updated.length) out.push(`  update: ${d.examples.updated.map((u) => `key ${u.key} (${u.columns.join(', ')})`).join('; ')}${d.updated > d.examples.updated.length ? '; …' : ''}`);
  if (d.examples.deleted.length) out.push(`  delete: key ${d.examples.deleted.join('; ')}${d.deleted > d.examples.deleted.length ? '; …' : ''}`);
  if (d.note) out.push(`  ${d.note}`);
  return out;
}
