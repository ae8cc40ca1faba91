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

/**
 * Run the CLI with --json and act when an event shows up (kill it, signal it),
 * as a user or an operator would mid-run.
 */
export function dbferryUntil(
  args: string[],
  trigger: (event: Record<string, unknown> & { type: string }) => boolean,
  act: (child: import('node:child_process').ChildProcess) => void | Promise<void>,
  opts: { delayMs?: number } = {},
): Promise<CliResult & { signal: NodeJS.Signals | null; triggered: boolean }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--json'], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    let pending = '';
    let triggered = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (triggered || !line.startsWith('{')) continue;
        if (trigger(JSON.parse(line))) {
          triggered = true;
          setTimeout(() => void act(child), opts.delayMs ?? 0);
        }
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return { type: 'truncated' };
          }
        });
      resolvePromise({ code, signal, stdout, stderr, events, triggered });
    });
  });
}
