import { writeFileSync } from 'node:fs';
import { EXIT, exitCodeFor } from '../../shared/events.js';
import { errorMessage } from '../engine/errors.js';
import { retryDeadLetters, runsWithOpenDeadLetters } from '../runs/deadLetterRetry.js';
import { RunError } from '../runs/runner.js';
import { listDeadLetters, setDeadLetterStatus, type DeadLetterRecord } from '../store/runState.js';
import { optionalJob } from './jobFile.js';
import { watchRun } from './run.js';
import { openStore } from './state.js';

const USAGE = `usage: dbferry dead-letters list [--run ID] [--all] [--json]
       dbferry dead-letters retry [--run ID] [--job JOB.json]
       dbferry dead-letters discard (--run ID | ID ...)
       dbferry dead-letters export --out FILE.csv|FILE.json [--run ID]
`;

type Opts = { json?: boolean; state?: string; job?: string; run?: string; all?: boolean; out?: string };

export async function deadLettersCommand(args: string[], opts: Opts): Promise<number> {
  const [action, ...ids] = args;
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  try {
    const runId = opts.run ? store.findRun(opts.run)?.id ?? opts.run : undefined;
    switch (action) {
      case 'list': {
        const rows = listDeadLetters(store, { runId, status: opts.all ? undefined : 'open' });
        if (opts.json) for (const d of rows) process.stdout.write(`${JSON.stringify({ type: 'dead-letter', ...plain(d) })}\n`);
        else printGrouped(rows);
        return EXIT.ok;
      }
      case 'discard': {
        const targets = runId ? listDeadLetters(store, { runId, status: 'open' }).map((d) => d.id) : ids.map(Number).filter(Number.isInteger);
        if (!targets.length) {
          process.stderr.write(USAGE);
          return EXIT.invalid;
        }
        setDeadLetterStatus(store, targets, 'discarded');
        process.stdout.write(`discarded ${targets.length} dead letter${targets.length === 1 ? '' : 's'}\n`);
        return EXIT.ok;
      }
      case 'export': {
        if (!opts.out) {
          process.stderr.write(USAGE);
          return EXIT.invalid;
        }
        const rows = listDeadLetters(store, { runId, status: 'open' });
        writeFileSync(opts.out, opts.out.endsWith('.json') ? JSON.stringify(rows.map(plain), null, 2) : toCsv(rows));
        process.stdout.write(`wrote ${rows.length} dead letters to ${opts.out}\n`);
        return EXIT.ok;
      }
      case 'retry': {
        const spec = optionalJob(opts.job);
        if (spec === null) return EXIT.invalid;
        const runs = runId ? [runId] : runsWithOpenDeadLetters(store);
        if (!runs.length) {
          process.stdout.write('the dead-letter queue is empty\n');
          return EXIT.ok;
        }
        let code: number = EXIT.ok;
        for (const id of runs) {
          const summary = await watchRun(opts, async (signal, onEvent) => (await retryDeadLetters(store, id, { spec, signal, onEvent })).summary);
          code = Math.max(code, exitCodeFor(summary));
        }
        return code;
      }
      default:
        process.stderr.write(USAGE);
        return EXIT.invalid;
    }
  } catch (err) {
    process.stderr.write(`dbferry dead-letters: ${errorMessage(err)}\n`);
    return err instanceof RunError ? EXIT.invalid : EXIT.failed;
  } finally {
    store.close();
  }
}

function show(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v).toString('hex')}`;
  return v;
}

function plain(d: DeadLetterRecord) {
  return { ...d, key: d.key?.map(show) ?? null, row: Object.fromEntries(d.columns.map((c, i) => [c, show(d.row[i])])) };
}

function printGrouped(rows: DeadLetterRecord[]): void {
  if (!rows.length) {
    process.stdout.write('the dead-letter queue is empty\n');
    return;
  }
  const groups = new Map<string, DeadLetterRecord[]>();
  for (const d of rows) {
    const reason = `${d.table}: ${d.reasons.join('; ')}`;
    groups.set(reason, [...(groups.get(reason) ?? []), d]);
  }
  for (const [reason, list] of groups) {
    process.stdout.write(`${reason}  (${list.length} row${list.length === 1 ? '' : 's'})\n`);
    for (const d of list.slice(0, 20)) {
      process.stdout.write(`  #${d.id} run ${d.runId.slice(0, 8)} key ${d.key ? d.key.map((k) => String(show(k))).join(', ') : '(none)'}: ${JSON.stringify(plain(d).row)}\n`);
    }
    if (list.length > 20) process.stdout.write(`  … ${list.length - 20} more\n`);
  }
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function toCsv(rows: DeadLetterRecord[]): string {
  const lines = ['id,run_id,table,key,reason,row'];
  for (const d of rows) lines.push([d.id, d.runId, d.table, d.key?.map(show).join('|'), d.reasons.join('; '), JSON.stringify(plain(d).row)].map(csvField).join(','));
  return lines.join('\n') + '\n';
}
