/**
 * MySQL reports truncation, rounding and skipped duplicates as warnings, not
 * errors (LOAD DATA LOCAL always, INSERT for notes such as decimal rounding).
 * dbferry treats every one of them as a failed batch.
 */
import type { Connection } from 'mysql2/promise';
import { FerryError } from '../../errors.js';

/** Warnings that do not mean a value changed. */
const HARMLESS_WARNINGS = new Set([1592 /* unsafe statement for binlog */]);

export async function throwOnWarnings(conn: Connection, table: string, what: string): Promise<void> {
  const [result] = await conn.query({ sql: 'SHOW WARNINGS', rowsAsArray: true });
  const real = (result as [string, number, string][]).filter(([, code]) => !HARMLESS_WARNINGS.has(Number(code)));
  if (real.length === 0) return;
  const [level, code, message] = real[0];
  const more = real.length > 1 ? ` (and ${real.length - 1} more)` : '';
  throw new FerryError('data', `${what} into "${table}" changed or rejected a value: ${level} ${code}: ${message}${more}`, {
    hint: 'The target column cannot hold this value exactly; widen the column type or fix the source value',
  });
}

