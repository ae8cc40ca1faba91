/** value 0..1, or undefined when the total is unknown (an animated stripe). */
export function ProgressBar({ value, tone = 'accent', label }: { value: number | undefined; tone?: 'accent' | 'ok' | 'warn' | 'err'; label: string }) {
  const pct = value === undefined ? undefined : Math.max(0, Math.min(100, value * 100));
  return (
    <div
      className={`progress progress-${tone}${pct === undefined ? ' progress-indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct === undefined ? undefined : Math.round(pct)}
    >
      <div className="progress-fill" style={{ width: pct === undefined ? '30%' : `${pct}%` }} />
    </div>
  );
}
