import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/dbferry.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** --json output, parsed one event a line. */
  events: Array<Record<string, unknown> & { type: string }>;
}

/** Run the built CLI as a user would (tests run after `npm run build`). */
export function dbferry(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      resolvePromise({ code, stdout, stderr, events });
    });
  });
}

export function tempDir(prefix = 'dbferry-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write a job file into `dir` and return its path. */
export function writeJob(dir: string, spec: unknown, name = 'job.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(spec, null, 2));
  return path;
}
