import { EXIT } from '../../shared/events.js';
import { errorMessage } from '../engine/errors.js';
import { restoreRun } from '../runs/restore.js';
import { RunError } from '../runs/runner.js';
import { listBackups } from '../store/runState.js';
import { n } from './display.js';
import { optionalJob } from './jobFile.js';
import { openStore } from './state.js';

const KIND = { created: 'table created by the run (undo drops it)', table: 'whole table before the run', rows: 'rows it updated, keys it inserted', keys: 'keys it inserted' } as Record<string, string>;

export async function backupsCommand(args: string[], opts: { json?: boolean; state?: string; job?: string; run?: string }): Promise<number> {
  const [action, runId] = args;
  const store = openStore(opts.state);
  if (!store) return EXIT.failed;
  try {
    if (action === 'list' || action === undefined) {
      const rows = listBackups(store, { runId: opts.run ? store.findRun(opts.run)?.id ?? opts.run : undefined });
      if (opts.json) {
        for (const b of rows) process.stdout.write(`${JSON.stringify({ type: 'backup', ...b })}\n`);
        return EXIT.ok;
      }
      if (!rows.length) process.stdout.write('no backups\n');
      for (const b of rows) {
        const state = b.restoredAt ? `restored ${b.restoredAt.slice(0, 19)}` : b.droppedAt ? 'pruned' : 'restorable';
        process.stdout.write(`${b.runId.slice(0, 8)}  ${b.createdAt.slice(0, 19).replace('T', ' ')}  ${b.targetTable.padEnd(24)} ${(KIND[b.kind] ?? b.kind).padEnd(40)} ${state}\n`);
      }
      return EXIT.ok;
    }
    if (action === 'restore') {
      if (!runId) {
        process.stderr.write('usage: dbferry backups restore RUN_ID [--job JOB.json]\n');
        return EXIT.invalid;
      }
      const spec = optionalJob(opts.job);
      if (spec === null) return EXIT.invalid;
      const result = await restoreRun(store, runId, spec);
      if (opts.json) process.stdout.write(`${JSON.stringify({ type: 'restored', ...result })}\n`);
      else {
        process.stdout.write(`restored the target as it was before run ${result.runId}:\n`);
        for (const t of result.tables) {
          process.stdout.write(`  ${t.table}: ${t.kind === 'created' ? 'dropped (the run had created it)' : `${n(t.deleted)} rows removed, ${n(t.inserted)} rows put back`}\n`);
        }
      }
      return EXIT.ok;
    }
    process.stderr.write('usage: dbferry backups list [--run ID] [--json] | dbferry backups restore RUN_ID [--job JOB.json]\n');
    return EXIT.invalid;
  } catch (err) {
    process.stderr.write(`dbferry backups: ${errorMessage(err)}\n`);
    return err instanceof RunError ? EXIT.invalid : EXIT.failed;
  } finally {
    store.close();
  }
}
