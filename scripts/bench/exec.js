// Running commands: timed, with the peak memory of the whole process tree.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';

/** Quote one word for bash. */
export function sh(word) {
  return `'${String(word).replace(/'/g, `'\\''`)}'`;
}

/** Which executable a name resolves to, or undefined. */
export function which(name) {
  const r = spawnSync('bash', ['-c', `command -v ${sh(name)}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function children(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (text) for (const c of text.split(/\s+/)) out.push(Number(c));
      } catch {
        /* gone */
      }
    }
  } catch {
    /* gone */
  }
  return out;
}

/**
 * Polls the peak resident set (VmHWM) of a process and all its descendants
 * every `everyMs`. Each process's own high-water mark is kept, so a process
 * that exits between samples still counts with its last seen peak; the
 * result is the sum of the per-process peaks (an upper bound of the tree's
 * simultaneous peak) and the largest single process.
 */
export class RssSampler {
  constructor(rootPid, everyMs = 50) {
    this.rootPid = rootPid;
    this.peaks = new Map();
    this.names = new Map();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample() {
    const stack = [this.rootPid];
    const seen = new Set();
    while (stack.length) {
      const pid = stack.pop();
      if (seen.has(pid)) continue;
      seen.add(pid);
      const hwm = Math.max(statusKb(pid, 'VmHWM'), statusKb(pid, 'VmRSS'));
      if (hwm > (this.peaks.get(pid) ?? 0)) this.peaks.set(pid, hwm);
      if (!this.names.has(pid)) {
        try {
          this.names.set(pid, readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
        } catch {
          /* gone */
        }
      }
      stack.push(...children(pid));
    }
  }

  stop() {
    clearInterval(this.timer);
    let total = 0;
    let max = 0;
    for (const [pid, kb] of this.peaks) {
      // bash and time wrappers are not the tool; leave them out.
      if (this.names.get(pid) === 'bash' || this.names.get(pid) === 'time') continue;
      total += kb;
      max = Math.max(max, kb);
    }
    return { rssMb: total / 1024, maxProcessMb: max / 1024 };
  }
}

/**
 * Runs a command (argv, or a bash script when `bash` is given, with pipefail),
 * returns {code, seconds, stdout, stderr, rssMb}. `onLine(line, tSeconds)`
 * receives stdout lines as they arrive. With `maxRssFile`, the command runs
 * under GNU time, whose %M (the kernel's ru_maxrss of the command, sampled at
 * its exit, so nothing is missed between polls) is reported as `exitMaxRssMb`.
 */
const GNU_TIME = '/usr/bin/time';
/** Children running now, so an interrupted bench can stop them before dropping databases. */
export const live = new Set();
export function stopLive() {
  for (const child of live) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  }
}
let hasGnuTime;
export function run(argv, opts = {}) {
  let [cmd, ...args] = opts.bash ? ['bash', '-o', 'pipefail', '-c', opts.bash] : argv;
  hasGnuTime ??= which(GNU_TIME) !== undefined;
  const timed = opts.maxRssFile && hasGnuTime;
  if (timed) [cmd, ...args] = [GNU_TIME, '-f', '%M', '-o', opts.maxRssFile, '--', cmd, ...args];
  return new Promise((resolvePromise) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      env: { ...process.env, ...(opts.env ?? {}) },
      cwd: opts.cwd,
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      // Its own process group: stopLive() reaches the whole pipeline.
      detached: true,
    });
    live.add(child);
    const sampler = opts.sampleRss && child.pid ? new RssSampler(child.pid) : undefined;
    const out = [];
    const err = [];
    let partial = '';
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    child.stdout.on('data', (chunk) => {
      if (opts.keepStdout !== false) out.push(chunk);
      if (opts.onLine) {
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop();
        const t = elapsed();
        for (const line of lines) opts.onLine(line, t);
      }
    });
    child.stderr.on('data', (chunk) => err.push(chunk));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    let spawnError;
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code, signal) => {
      const seconds = elapsed();
      live.delete(child);
      if (sampler) sampler.sample();
      const mem = sampler ? sampler.stop() : {};
      if (opts.onLine && partial) opts.onLine(partial, seconds);
      if (timed) {
        try {
          const kb = Number(readFileSync(opts.maxRssFile, 'utf8').trim().split('\n').pop());
          if (Number.isFinite(kb)) mem.exitMaxRssMb = kb / 1024;
          rmSync(opts.maxRssFile, { force: true });
        } catch {
          /* no report */
        }
      }
      resolvePromise({
        code: spawnError ? 127 : (code ?? 128),
        signal,
        seconds,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: spawnError ? String(spawnError.message) : Buffer.concat(err).toString('utf8'),
        ...mem,
      });
    });
  });
}

/** Runs a command that must succeed (setup, checks); throws with its stderr otherwise. */
export async function must(argv, opts = {}) {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const what = opts.bash ?? argv.join(' ');
    throw new Error(`command failed (exit ${r.code}): ${what.slice(0, 300)}\n${r.stderr.trim().slice(-2000)}`);
  }
  return r;
}
