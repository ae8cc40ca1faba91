/**
 * What a person sees on a terminal: a bar per table with rows and rows/s,
 * redrawn in place on a TTY, one line per step otherwise.
 */
import { formatCount } from '../../shared/numbers.js';
import { changesText, targetChanges } from '../../shared/targetChanges.js';
import type { RunEvent, RunSummary } from '../../shared/events.js';

export const n = formatCount;

interface Line {
  table: string;
  phase: string;
  rows: number;
  estimate?: number;
  rate: number;
  /** Applying: the step running, for how long, and the time the table's apply has left. */
  step?: string;
  stepElapsedMs?: number;
  etaMs?: number;
}

export class ProgressDisplay {
  private readonly lines = new Map<string, Line>();
  private drawn = 0;
  private lastDraw = 0;
  /** Not a TTY: when a long apply step of each table was last printed. */
  private readonly stepPrinted = new Map<string, number>();

  constructor(private readonly out: NodeJS.WriteStream, private readonly tty = Boolean(out.isTTY)) {}

  handle(e: RunEvent): void {
    switch (e.type) {
      case 'run-started':
        this.print(`dbferry run ${e.runId.slice(0, 8)}: ${e.job}\n  ${e.source} → ${e.target}`);
        break;
      case 'warning':
        this.print(`  warning: ${e.table ? `${e.table}: ` : ''}${e.message}`);
        break;
      case 'table-started':
        this.lines.set(e.table, { table: e.table, phase: 'staging', rows: 0, estimate: e.estimate, rate: 0 });
        this.draw(true);
        break;
      case 'progress': {
        const line = this.lines.get(e.table);
        // Verifying, the bar counts the rows compared.
        if (line) Object.assign(line, { phase: e.phase, rows: e.rowsVerified ?? e.rowsApplied ?? e.rowsWritten, rate: e.rowsPerSecond, estimate: e.estimate ?? line.estimate, step: e.step, stepElapsedMs: e.stepElapsedMs, etaMs: e.etaMs });
        this.draw(false);
        if (!this.tty && e.phase === 'applying' && e.step) this.printStep(e.table, e.step, e.stepElapsedMs ?? 0, e.rowsApplied, e.estimate, e.etaMs);
        break;
      }
      case 'table-staged': {
        const line = this.lines.get(e.table);
        if (line) Object.assign(line, { phase: 'staged', rows: e.rowsWritten, estimate: e.rowsWritten });
        this.draw(true);
        if (!this.tty) this.print(`  ${e.table}: staged ${n(e.rowsWritten)} rows in ${(e.durationMs / 1000).toFixed(1)} s`);
        break;
      }
      case 'compared':
        this.print(`  ${e.table}: ${e.path}`);
        break;
      case 'apply-started':
        this.print(`  applying ${e.tables.length} table${e.tables.length === 1 ? '' : 's'} in one transaction…`);
        break;
      case 'table-applied':
        this.print(`  ${e.table}: ${n(e.inserted)} inserted, ${n(e.updated)} updated, ${n(e.deleted)} deleted${e.unchanged ? `, ${n(e.unchanged)} unchanged` : ''}`);
        break;
      case 'apply-committed':
        this.print(`  committed in ${(e.durationMs / 1000).toFixed(2)} s`);
        break;
      case 'schema-started':
        this.print(`  ${e.resumed ? 'finishing' : 'building'} the indexes, keys and counters of ${e.tables.length} new table${e.tables.length === 1 ? '' : 's'}…`);
        break;
      case 'verify': {
        // A bar drawn while verifying is finished in place before the result's line.
        const line = this.lines.get(e.table);
        if (line?.phase === 'verifying' && this.drawn) {
          Object.assign(line, { phase: e.ok ? 'verified' : 'mismatch', rows: e.sourceRows, estimate: e.sourceRows, rate: 0 });
          this.draw(true);
        }
        this.print(`  ${e.table}: ${e.ok ? 'verified' : 'MISMATCH'} by ${e.method} (source ${n(e.sourceRows)}, target ${n(e.targetRows)} rows)`);
        for (const m of e.mismatches) this.print(`    ${m}`);
        break;
      }
      case 'retry':
        this.print(`  retry ${e.attempt} in ${e.delayMs} ms: ${e.message}`);
        break;
      case 'error':
        this.print(`  error: ${e.table ? `${e.table}: ` : ''}${e.message}`);
        break;
      default:
        break;
    }
  }

  /** Without a TTY, a step of the apply that runs long gets a line after 2 s and then every 5 s, so the log shows it moving. */
  private printStep(table: string, step: string, elapsedMs: number, applied: number | undefined, estimate: number | undefined, etaMs: number | undefined): void {
    const key = `${table}\u0000${step}`;
    const last = this.stepPrinted.get(key);
    // The first line after 2 s, then one every 5 s.
    if (last === undefined ? elapsedMs < 2000 : elapsedMs - last < 5000) return;
    this.stepPrinted.set(key, elapsedMs);
    const rows = applied !== undefined && estimate ? `, ~${n(applied)} of ${n(estimate)} rows applied` : '';
    this.print(`  ${table}: ${step}, ${duration(elapsedMs / 1000)}${rows}${etaMs !== undefined ? `, ETA ${duration(etaMs / 1000)}` : ''}`);
  }

  private print(text: string): void {
    this.drawn = 0;
    this.out.write(`${text}\n`);
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A`);
    const rows = [...this.lines.values()].map(renderLine);
    this.out.write(rows.map((r) => `\x1b[2K${r}\n`).join(''));
    this.drawn = rows.length;
  }
}

function renderLine(l: Line): string {
  const width = 24;
  const ratio = l.estimate ? Math.min(1, l.rows / l.estimate) : l.phase === 'staged' ? 1 : 0;
  const filled = Math.round(ratio * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const pct = l.estimate ? `${Math.round(ratio * 100)}%`.padStart(4) : '    ';
  if (l.phase === 'applying' && l.step) {
    // The rows applied are estimated while a step runs: "~".
    const eta = l.etaMs !== undefined ? `  ETA ${duration(l.etaMs / 1000)}` : '';
    return `  ${l.table.padEnd(24).slice(0, 24)} ${bar} ${pct} ${`~${n(l.rows)}`.padStart(11)} rows ${l.rate ? `${n(l.rate)} rows/s` : ''}  ${l.step} ${duration((l.stepElapsedMs ?? 0) / 1000)}${eta}`;
  }
  const eta = (l.phase === 'staging' || l.phase === 'verifying') && l.estimate && l.rate && l.estimate > l.rows ? `  ETA ${duration((l.estimate - l.rows) / l.rate)}` : '';
  return `  ${l.table.padEnd(24).slice(0, 24)} ${bar} ${pct} ${n(l.rows).padStart(11)} rows ${l.rate ? `${n(l.rate)} rows/s` : ''}  ${l.phase}${eta}`;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export function megabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.max(0.1, bytes / 1e6).toFixed(1)} MB`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatSummary(s: RunSummary): string {
  const head = {
    succeeded: 'done',
    'dead-lettered': 'done, with rows in the dead-letter queue',
    failed: 'FAILED',
    cancelled: 'cancelled',
    interrupted: 'interrupted',
  }[s.status];
  const lines = [
    `${head}: ${n(s.rowsRead)} rows read, ${s.rowsStaged !== undefined ? `${n(s.rowsStaged)} staged but not applied, ` : ''}${s.rowsStaged !== undefined ? `${n(s.rowsWritten)} written` : changesText(targetChanges(s), n)}, ${n(s.rowsDeadLettered)} dead-lettered in ${(s.durationMs / 1000).toFixed(2)} s (run ${s.runId})`,
  ];
  const m = s.metrics;
  if (m && m.rowsPerSecond > 0) {
    const p = m.phases;
    lines.push(
      `  staged ${n(m.rowsPerSecond)} rows/s (${megabytes(m.bytesRead)}) on ${m.lanes} lane${m.lanes === 1 ? '' : 's'}${m.workers ? '' : ' (main thread)'}` +
        `; plan ${secs(p.planMs)}, stage ${secs(p.stageMs)}, apply ${secs(p.applyMs)}, verify ${secs(p.verifyMs)}${m.retries ? `; ${m.retries} retr${m.retries === 1 ? 'y' : 'ies'}` : ''}`,
    );
  }
  for (const t of s.tables) {
    lines.push(
      `  ${t.source} → ${t.target} [${t.mode}${t.created ? ', created' : ''}]: ${t.rowsStaged !== undefined ? `${n(t.rowsStaged)} rows staged, none applied` : `${n(t.rowsWritten)} rows`}${t.chunks && t.chunks > 1 ? ` in ${t.chunks} chunks` : ''}` +
        `${t.applied && !t.created ? ` (${n(t.applied.inserted)} inserted, ${n(t.applied.updated)} updated, ${n(t.applied.deleted)} deleted${t.mode === 'upsert' || t.mode === 'mirror' ? `, ${n(t.applied.unchanged)} unchanged` : ''})` : ''}` +
        `${t.verified ? `, ${t.verified === 'mismatch' ? 'VERIFY MISMATCH' : t.verified === 'skipped' ? 'not verified' : `verified (${t.verified})`}` : ''}`,
    );
    if (t.path) lines.push(`    path: ${t.path}`);
  }
  if (s.error) lines.push(s.status !== 'failed' ? s.error : s.errorKind === 'verify' ? `${s.error[0].toUpperCase()}${s.error.slice(1)}` : `${s.errorKind === 'spec' ? '' : 'The target was left as it was before the run. '}Reason: ${s.error}`);
  return lines.join('\n') + '\n';
}
