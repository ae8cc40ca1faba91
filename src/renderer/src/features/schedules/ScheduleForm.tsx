import { useEffect, useState } from 'react';
import type { JobDto, SchedulePreviewDto } from '../../../../shared/api';
import { api } from '../../api';
import { Dialog } from '../../components/Dialog';
import { fmtFromNow, fmtTime } from '../../components/format';
import { type ScheduleDraft, useSchedules } from './store';

const PRESETS: { label: string; cron: string }[] = [
  { label: 'Every 15 minutes', cron: '*/15 * * * *' },
  { label: 'Every hour', cron: '0 * * * *' },
  { label: 'Every night at 02:00', cron: '0 2 * * *' },
  { label: 'Weekdays at 06:30', cron: '30 6 * * 1-5' },
  { label: 'Sundays at 03:00', cron: '0 3 * * 0' },
];

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The cron in words and its next runs, asked of dbferry as the user types (it validates, in the zone it runs in). */
function usePreview(cron: string): SchedulePreviewDto | undefined {
  const [preview, setPreview] = useState<SchedulePreviewDto>();
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      api
        .invoke('schedules/preview', { cron })
        .then((p) => current && setPreview(p))
        .catch(() => {});
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [cron]);
  return preview;
}

export function ScheduleForm({ draft, jobs }: { draft: ScheduleDraft; jobs: JobDto[] }) {
  const { save, closeForm } = useSchedules();
  const [f, setF] = useState(draft);
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  const preview = usePreview(f.cron);
  const set = (patch: Partial<ScheduleDraft>) => {
    setF((x) => ({ ...x, ...patch }));
    setError('');
  };

  async function submit() {
    if (!f.jobId) return setError('Choose the job to run.');
    setSaving(true);
    const problem = await save({ id: f.id, jobId: f.jobId, cron: f.cron, enabled: f.enabled });
    setSaving(false);
    if (problem) setError(problem.replace(/^schedules\/save: /, ''));
  }

  return (
    <Dialog
      open
      title={f.id ? 'Edit schedule' : 'New schedule'}
      onClose={closeForm}
      footer={
        <>
          <button type="button" className="btn" onClick={closeForm}>
            Cancel
          </button>
          <button type="submit" form="schedule-form" className="btn btn-primary" disabled={saving}>
            {f.id ? 'Save changes' : 'Save schedule'}
          </button>
        </>
      }
    >
      <form
        id="schedule-form"
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label className="field">
          <span>Job</span>
          <select aria-label="Job" value={f.jobId} onChange={(e) => set({ jobId: e.target.value })} autoFocus={!f.id}>
            <option value="">Choose a saved job…</option>
            {jobs.map((j) => (
              <option key={j.id} value={j.id}>
                {j.name}
              </option>
            ))}
          </select>
        </label>

        <label className="field">
          <span>When (cron: minute hour day-of-month month day-of-week)</span>
          <input className="mono" value={f.cron} placeholder="0 2 * * *" spellCheck={false} autoComplete="off" onChange={(e) => set({ cron: e.target.value })} autoFocus={Boolean(f.id)} />
        </label>
        <div className="preset-list" role="group" aria-label="Common schedules">
          {PRESETS.map((p) => (
            <button key={p.cron} type="button" className={`btn btn-sm${f.cron.trim() === p.cron ? ' on' : ''}`} aria-pressed={f.cron.trim() === p.cron} onClick={() => set({ cron: p.cron })}>
              {p.label}
            </button>
          ))}
        </div>

        <div className="cron-preview" aria-live="polite" data-testid="cron-preview">
          {!preview ? (
            <span className="muted">…</span>
          ) : preview.ok ? (
            <>
              <p className="strong">{preview.description}</p>
              <p className="muted small">Next runs</p>
              <ul className="next-runs">
                {preview.nextRuns.map((t) => (
                  <li key={t}>
                    <span className="mono">{fmtTime(t)}</span> <span className="muted">({fmtFromNow(t)})</span>
                  </li>
                ))}
              </ul>
              <p className="hint">
                {preview.timeZone === browserZone
                  ? `Times in ${preview.timeZone}.`
                  : `The cron is read in ${preview.timeZone}, the zone of the machine running dbferry; times here are in yours (${browserZone}).`}
              </p>
            </>
          ) : (
            <p className="error-text">{preview.error}</p>
          )}
        </div>

        <label className="check">
          <input type="checkbox" checked={f.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
          On: run the job at these times
        </label>
        <p className="hint">
          Scheduled runs happen while the desktop app or <span className="mono">dbferry ui</span> is running. A run missed while neither was runs once when one
          starts; a slot that comes while the job is still running is skipped.
        </p>
        {error ? (
          <p className="error-text" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
