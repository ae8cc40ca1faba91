import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { parseJobSpec, type JobSpec, type SpecProblem } from '../../shared/jobSpec.js';

export type LoadedJob = { ok: true; spec: JobSpec; baseDir: string; path: string } | { ok: false; path: string; problems: SpecProblem[] };

const requireCjs = createRequire(import.meta.url);

/** The yaml package loads only for a YAML job file: loading it took ~50 ms of every command's start. */
function parseYaml(text: string): unknown {
  return (requireCjs('yaml') as typeof import('yaml')).parse(text);
}

/** Read a job file (JSON, or YAML by extension) and validate it; every problem is listed. */
export function loadJobFile(file: string): LoadedJob {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, path, problems: [{ path: '(file)', message: code === 'ENOENT' ? `no job file at ${path}` : (err as Error).message }] };
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    return { ok: false, path, problems: [{ path: '(file)', message: `not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}` }] };
  }
  const parsed = parseJobSpec(data);
  if (!parsed.ok) return { ok: false, path, problems: parsed.problems };
  return { ok: true, spec: parsed.spec, baseDir: dirname(path), path };
}

export function formatProblems(path: string, problems: SpecProblem[]): string {
  const n = problems.length;
  return `dbferry: the job spec ${path} has ${n} problem${n === 1 ? '' : 's'}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`;
}

/** For commands where --job is optional: undefined spec when not given; null (after printing why) when invalid. */
export function optionalJob(path: string | undefined): JobSpec | undefined | null {
  if (!path) return undefined;
  const job = loadJobFile(path);
  if (job.ok) return job.spec;
  process.stderr.write(formatProblems(job.path, job.problems));
  return null;
}

/**
 * For commands that take exactly one job file: the loaded job, or undefined
 * after printing the usage or every problem of the spec (exit 2).
 */
export function requireJob(args: string[], usage: string, onProblems?: (problems: SpecProblem[]) => void): Extract<LoadedJob, { ok: true }> | undefined {
  if (args.length !== 1) {
    process.stderr.write(`usage: ${usage}\n`);
    return undefined;
  }
  const job = loadJobFile(args[0]);
  if (job.ok) return job;
  onProblems?.(job.problems);
  process.stderr.write(formatProblems(job.path, job.problems));
  return undefined;
}
