const int = new Intl.NumberFormat('en-US');

export function fmtInt(n: number | undefined | null): string {
  return n === undefined || n === null ? '—' : int.format(Math.round(n));
}

export function fmtCompact(n: number | undefined): string {
  if (n === undefined) return '—';
  if (Math.abs(n) < 10_000) return int.format(Math.round(n));
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtClock(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function fmtRate(perSecond: number | undefined): string {
  return perSecond === undefined || !Number.isFinite(perSecond) ? '—' : `${fmtCompact(perSecond)}/s`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** 78.8 MB, 1.2 GB: sizes as a person reads them. */
export function fmtBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** "in 3 h 12 min", "in 40 s", "2 days ago": how far a time is from now. */
export function fmtFromNow(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  let span: string;
  if (abs < 60_000) span = `${Math.max(1, Math.round(abs / 1000))} s`;
  else if (abs < 3600_000) span = `${Math.round(abs / 60_000)} min`;
  else if (abs < 48 * 3600_000) {
    const h = Math.floor(abs / 3600_000);
    const m = Math.round((abs % 3600_000) / 60_000);
    span = m ? `${h} h ${m} min` : `${h} h`;
  } else span = `${Math.round(abs / 86_400_000)} days`;
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}
