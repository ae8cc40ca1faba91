/** What the target engine stores, as options of the validator, and each engine's values. */
import { z } from 'zod';
import type { Engine } from '../../../../shared/connectionUrl.js';

/** What the target engine stores; see validatorOptionsFor for each engine's values. */
export const validatorOptionsSchema = z.strictObject({
  /** PostgreSQL text cannot hold NUL (\0). */
  rejectNulInText: z.boolean().default(false),
  /** The declared column types bind (false for SQLite, which stores any value in any column). */
  typedColumns: z.boolean().default(true),
  /** PostgreSQL dates and timestamps hold 'infinity' and '-infinity'. */
  infiniteDates: z.boolean().default(false),
  /** MySQL/MariaDB store 0000-00-00 and dates with a zero month or day. */
  allowZeroDates: z.boolean().default(false),
  /** MySQL's TIME is a duration, -838:59:59 to 838:59:59, not a time of day. */
  timeIsDuration: z.boolean().default(false),
  /** Non-finite floats the target stores: PostgreSQL all, SQLite ±Infinity only (NaN becomes NULL), MySQL none. */
  nonFiniteFloats: z.enum(['all', 'infinity', 'none']).default('all'),
  /**
   * Refuse a key seen earlier in the run. Memory grows with the table (see
   * KeyTracker); switch it off for huge tables, and the target's unique index
   * still refuses duplicates at apply time.
   */
  trackKeys: z.boolean().default(true),
});

export type ValidatorOptions = z.input<typeof validatorOptionsSchema>;
export type Options = z.output<typeof validatorOptionsSchema>;

const ENGINE_OPTIONS: Record<Engine, ValidatorOptions> = {
  postgres: { rejectNulInText: true, allowZeroDates: false, timeIsDuration: false, nonFiniteFloats: 'all', infiniteDates: true },
  mysql: { rejectNulInText: false, allowZeroDates: true, timeIsDuration: true, nonFiniteFloats: 'none' },
  sqlite: { rejectNulInText: false, allowZeroDates: false, timeIsDuration: false, nonFiniteFloats: 'infinity', typedColumns: false },
};

/** The options that describe what a target engine stores. */
export function validatorOptionsFor(engine: Engine, extra: Pick<ValidatorOptions, 'trackKeys'> = {}): ValidatorOptions {
  return { ...ENGINE_OPTIONS[engine], ...extra };
}
