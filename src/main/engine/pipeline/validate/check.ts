/** What every per-column check is, and what the type checks are told about the target. */
import type { Value } from '../../types.js';
import type { Options } from './options.js';

/** A check of one value; returns the full reason (naming the column) or undefined. */
export type ValueCheck = (v: Value) => string | undefined;

export interface TypeCheckContext extends Options {
  lossAccepted: boolean;
}
