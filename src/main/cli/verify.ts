import { EXIT } from '../../shared/events.js';
import { openEndpoint } from '../engine/connect.js';
import type { Session } from '../engine/dialects/dialect.js';
import { errorMessage } from '../engine/errors.js';
import { buildPlan } from '../engine/pipeline/plan.js';
import { verifyTable } from '../engine/pipeline/verify.js';
import { n } from './display.js';
import { requireJob } from './jobFile.js';

/** Compare source and target of a job now, without copying anything. */
export async function verifyCommand(args: string[], opts: { json?: boolean }): Promise<number> {
  const job = requireJob(args, 'dbferry verify JOB.json [--json]');
  if (!job) return EXIT.invalid;
  const { spec, baseDir } = job;
  const sessions: Session[] = [];
  try {
    const source = await openEndpoint(spec.source.url, { baseDir, role: 'source', schema: spec.source.schema, ssh: spec.source.ssh });
    sessions.push(source);
    const target = await openEndpoint(spec.target.url, { baseDir, role: 'target', schema: spec.target.schema, ssh: spec.target.ssh });
    sessions.push(target);
    const plan = await buildPlan(spec, source, target);
    const missing = plan.tables.filter((t) => t.createTarget).map((t) => `the target has no table ${t.targetLabel}`);
    const problems = [...plan.problems, ...missing];
    if (problems.length) {
      process.stderr.write(`dbferry verify: ${problems.map((p) => `\n  - ${p}`).join('')}\n`);
      return EXIT.invalid;
    }
    await source.beginSnapshot();
    let ok = true;
    const method = spec.options.verify === 'count' ? 'count' : 'checksum';
    for (const t of plan.tables) {
      const v = await verifyTable(t, source, target, method, { batchRows: 5000, batchBytes: spec.options.batch.maxBytes });
      ok &&= v.ok;
      if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'verify', table: t.sourceLabel, target: t.targetLabel, ...v })}\n`);
      else {
        process.stdout.write(`${t.sourceLabel} → ${t.targetLabel}: ${v.ok ? 'equal' : 'DIFFERENT'} (${v.method}; source ${n(v.sourceRows)}, target ${n(v.targetRows)} rows)\n`);
        for (const m of v.mismatches) process.stdout.write(`    ${m}\n`);
      }
    }
    await source.endSnapshot();
    return ok ? EXIT.ok : EXIT.failed;
  } catch (err) {
    process.stderr.write(`dbferry verify: ${errorMessage(err)}\n`);
    return EXIT.failed;
  } finally {
    await Promise.allSettled(sessions.map((s) => s.close()));
  }
}
