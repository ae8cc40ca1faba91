import { fmtCompact, fmtDuration } from '../../components/format';

const W = 640;
const H = 150;
const PAD = { l: 48, r: 8, t: 10, b: 22 };

/** 1, 2, 2.5, 5 × 10^n at or above v: axis labels people can read. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

/** Rows per second over the run, all tables together. */
export function ThroughputChart({ samples }: { samples: { t: number; rps: number }[] }) {
  const peak = Math.max(0, ...samples.map((s) => s.rps));
  if (samples.length < 3 || peak < 1) {
    return <p className="muted chart-empty">The throughput chart fills in as rows are copied{samples.length ? ' (this run was too short to chart)' : ''}.</p>;
  }
  const tMax = Math.max(samples[samples.length - 1]!.t, 1);
  const yMax = niceCeil(peak * 1.1);
  const x = (t: number) => PAD.l + (t / tMax) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - v / yMax) * (H - PAD.t - PAD.b);
  const line = samples.map((s) => `${x(s.t).toFixed(1)},${y(s.rps).toFixed(1)}`).join(' ');
  const area = `${x(samples[0]!.t)},${y(0)} ${line} ${x(samples[samples.length - 1]!.t)},${y(0)}`;
  const ticks = [0, 0.5, 1].map((f) => yMax * f);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Throughput: peak ${fmtCompact(peak)} rows per second`}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} className="chart-grid" />
            <text x={PAD.l - 6} y={y(v) + 4} textAnchor="end" className="chart-label">
              {fmtCompact(v)}
            </text>
          </g>
        ))}
        <polygon points={area} className="chart-area" />
        <polyline points={line} className="chart-line" />
        <text x={PAD.l} y={H - 6} className="chart-label">
          0 s
        </text>
        <text x={W - PAD.r} y={H - 6} textAnchor="end" className="chart-label">
          {fmtDuration(tMax)}
        </text>
      </svg>
      <figcaption className="muted small">rows/s, all tables · peak {fmtCompact(peak)}/s</figcaption>
    </figure>
  );
}
