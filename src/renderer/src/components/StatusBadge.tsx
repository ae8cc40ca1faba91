import type { RunStatus, TablePhase } from '../../../shared/events';

const LABELS: Record<string, string> = {
  running: 'Running',
  succeeded: 'Succeeded',
  'dead-lettered': 'Dead letters',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
  pending: 'Waiting',
  staging: 'Staging',
  staged: 'Staged',
  applying: 'Applying',
  applied: 'Applied',
  verifying: 'Verifying',
  done: 'Done',
};

const TONE: Record<string, string> = {
  running: 'info',
  succeeded: 'ok',
  done: 'ok',
  'dead-lettered': 'warn',
  failed: 'err',
  cancelled: 'muted',
  interrupted: 'warn',
  pending: 'muted',
  staging: 'info',
  staged: 'info',
  applying: 'info',
  applied: 'info',
  verifying: 'info',
};

export function StatusBadge({ status }: { status: RunStatus | TablePhase }) {
  return (
    <span className={`badge badge-${TONE[status] ?? 'muted'}`} data-status={status}>
      {status === 'running' || ['staging', 'applying', 'verifying'].includes(status) ? <span className="pulse" aria-hidden /> : null}
      {LABELS[status] ?? status}
    </span>
  );
}
