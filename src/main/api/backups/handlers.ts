import type { BackupDto } from '../../../shared/api.js';
import { errorMessage } from '../../engine/errors.js';
import { restoreRun } from '../../runs/restore.js';
import { type BackupRow, listBackups } from '../../store/runState.js';
import { HandlerError, notFound } from '../errors.js';
import type { Handlers } from '../handlers.js';
import { provideStoredPasswords } from '../specs.js';
import { displayUrl } from '../../../shared/api.js';

const ACTION: Record<string, string> = {
  created: 'drop the table (the run created it)',
  table: 'put back the whole table as it was before the run',
  rows: 'put back the rows the run overwrote or deleted, and delete the rows it inserted',
  keys: 'delete the rows the run inserted',
};

function toDto(b: BackupRow, jobName: string | null): BackupDto {
  return {
    id: b.id,
    runId: b.runId,
    jobName,
    target: displayUrl(b.targetUrl),
    targetTable: b.targetTable,
    kind: b.kind,
    restoreAction: ACTION[b.kind] ?? b.kind,
    createdAt: b.createdAt,
    restoredAt: b.restoredAt,
    droppedAt: b.droppedAt,
  };
}

export const backupHandlers: Pick<Handlers, 'backups/list' | 'backups/restore'> = {
  'backups/list': (input, ctx) => {
    const names = new Map<string, string | null>();
    const jobName = (runId: string) => {
      if (!names.has(runId)) names.set(runId, ctx.store.getRun(runId)?.jobName ?? null);
      return names.get(runId)!;
    };
    return listBackups(ctx.store, { runId: input.runId }).map((b) => toDto(b, jobName(b.runId)));
  },

  'backups/restore': async (input, ctx) => {
    const run = ctx.store.findRun(input.runId);
    if (!run) throw notFound('run', input.runId);
    provideStoredPasswords(ctx, run.specJson);
    try {
      return await restoreRun(ctx.store, run.id);
    } catch (err) {
      throw new HandlerError('failed', errorMessage(err));
    }
  },
};
