/**
 * A number as en-US prints it (Intl.NumberFormat's defaults): thousands
 * separated by commas, at most three fraction digits, no trailing zeros.
 * Written out because the first Intl.NumberFormat or toLocaleString of a
 * process loads ICU's locale data: 24 ms of every CLI start, the run's own
 * work being a second or less when nothing changed.
 */
export function formatCount(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '∞' : '-∞';
  const [whole, fraction = ''] = Math.abs(x).toFixed(3).split('.');
  const digits = fraction.replace(/0+$/, '');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  return `${sign}${grouped}${digits ? `.${digits}` : ''}`;
}
