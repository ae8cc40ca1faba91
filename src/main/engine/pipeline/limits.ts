import type { JobOptions } from '../../../shared/jobSpec.js';

/** Has the run rejected more rows than `maxInvalidRows` allows? */
export function overInvalidLimit(options: JobOptions, rejected: number, read: number): boolean {
  const limit = options.maxInvalidRows;
  if (typeof limit === 'number') return rejected > limit;
  const pct = Number(limit.slice(0, -1));
  return read > 0 && (rejected / read) * 100 > pct;
}

export function describeLimit(options: JobOptions): string {
  const limit = options.maxInvalidRows;
  return typeof limit === 'number' ? `${limit} row${limit === 1 ? '' : 's'}` : `${limit} of the rows read`;
}
