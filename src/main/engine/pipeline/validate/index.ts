/**
 * Row validation before write: would the target take this row unchanged?
 *
 * A validator is compiled once per table from the TARGET columns (logical
 * type, native type, nullability), the key, and the spec's `rules`; the row
 * holds canonical values of the SOURCE (types.ts). Each column becomes one or
 * more closures in a flat array, so checking a row is a loop of calls with no
 * allocation when the row is valid (the same frozen empty array comes back).
 *
 * Zod parses the options at the boundary, as everywhere else. The per-value
 * checks are hand-written closures rather than zod schemas: zod allocates a
 * result per parse and its messages do not say what the target expects; the
 * test file's benchmark measures both.
 *
 * What an accepted lossy mapping relaxes: when the plan flagged a column's
 * mapping as lossy and the spec accepted it (`allowLossy`, or a `types`
 * override), values the target ROUNDS are let through (decimal places,
 * fractions of a second, the time of a timestamp written to a date): the user
 * accepted exactly that loss. Values the target cannot hold at all (out of
 * range, too long, not a number) are refused whatever was accepted.
 */
import { FerryError } from '../../errors.js';
import type { Column, Row, Value } from '../../types.js';
import type { TablePlan } from '../plan.js';
import { fitProblem } from '../typeFit.js';
import { readRefusal } from '../../readRefusals.js';
import type { ValueCheck } from './check.js';
import { KeyTracker, duplicateKeyReason } from './keys.js';
import { keyFold, mergedKeyReason } from './collation.js';
import { validatorOptionsSchema, type ValidatorOptions } from './options.js';
import { compilePattern, ruleChecks } from './rules.js';
import { typeCheck } from './values.js';

export { KeyTracker } from './keys.js';
export { validatorOptionsFor, validatorOptionsSchema, type ValidatorOptions } from './options.js';
export { characterLength, show } from './text.js';
export { compareDecimal, parseDecimal } from './decimal.js';

export interface RowValidator {
  /**
   * Reasons the row would be refused, each naming the column; empty (the same
   * frozen array every time) when valid. With key tracking on, a valid row's
   * key is remembered: call once per row.
   */
  check(row: Row): readonly string[];
  /** Forget the keys seen (the table is staged again from its first row). */
  resetKeys(): void;
  /** Keys remembered so far; 0 when tracking is off or the table has no key. */
  readonly keysSeen: number;
}

type ValidatorPlan = Pick<TablePlan, 'columns' | 'targetColumns' | 'key' | 'spec'>;

const VALID: readonly string[] = Object.freeze([]);

/**
 * Problems with the spec's `rules` for this table (a rule on a column that is
 * not copied, a pattern that is not a regular expression), for the preflight.
 */
export function ruleProblems(plan: Pick<TablePlan, 'columns' | 'spec'>): string[] {
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(plan.spec.rules ?? {})) {
    if (!findColumnIndex(plan.columns, name).length) {
      problems.push(`rules.${name}: no copied column "${name}"; the columns are ${plan.columns.map((c) => c.name).join(', ')}`);
    }
    if (rule.pattern !== undefined) {
      try {
        compilePattern(rule.pattern);
      } catch (err) {
        problems.push(`rules.${name}.pattern: ${(err as Error).message}`);
      }
    }
    for (const [field, bound] of [['min', rule.min], ['max', rule.max]] as const) {
      if (typeof bound === 'number' && !Number.isFinite(bound)) problems.push(`rules.${name}.${field}: must be a finite number`);
    }
  }
  return problems;
}

export function compileValidator(plan: ValidatorPlan, options: ValidatorOptions = {}): RowValidator {
  const opts = validatorOptionsSchema.parse(options);
  const problems = ruleProblems(plan);
  if (problems.length) throw new FerryError('spec', `the rules of table ${plan.spec.source} do not fit it:\n  - ${problems.join('\n  - ')}`);

  const keyIndexes = plan.key.map((k) => {
    const i = findColumnIndex(plan.targetColumns, k)[0];
    if (i === undefined) throw new FerryError('internal', `key column "${k}" is not among the target columns`);
    return i;
  });
  const columnIndexes: number[] = [];
  const checks: ValueCheck[] = [];
  const stops: boolean[] = [];
  const add = (index: number, check: ValueCheck | undefined, stop: boolean) => {
    if (!check) return;
    columnIndexes.push(index);
    checks.push(check);
    stops.push(stop);
  };

  plan.targetColumns.forEach((target, i) => {
    const source = plan.columns[i];
    const inKey = keyIndexes.includes(i);
    // Only a loss that changes values can be accepted; a value that does not fit is refused all the same.
    const lossAccepted = source !== undefined && fitProblem(source.type, target.type)?.changes === true && (plan.spec.allowLossy === true || plan.spec.types?.[source.name] !== undefined);
    add(i, withPresence(target, inKey, typeCheck(target, { ...opts, lossAccepted })), true);
    const ruleName = Object.keys(plan.spec.rules ?? {}).find((r) => findColumnIndex([source ?? target], r).length);
    const rule = ruleName !== undefined ? plan.spec.rules![ruleName] : undefined;
    if (rule) for (const check of ruleChecks(target.name, ruleName!, rule, target.type)) add(i, check, false);
  });

  const keys = opts.trackKeys && keyIndexes.length ? new KeyTracker(keyIndexes.map((i) => plan.targetColumns[i].type)) : undefined;
  const keyValues: Value[] = new Array(keyIndexes.length);
  // An existing target whose key collation merges keys the source keeps apart: keys are tracked as it compares them.
  const folds = keyIndexes.map((i) => keyFold(plan.targetColumns[i], plan.columns[i]));
  const folded = folds.some((f) => f !== undefined) ? folds : undefined;
  const merging = folded ? keyIndexes.map((i) => plan.targetColumns[i].collation).find((c) => c !== undefined) : undefined;
  const keyNames = keyIndexes.map((i) => plan.targetColumns[i].name);
  const n = checks.length;

  return {
    check(row: Row): readonly string[] {
      // A value its reader could not read faithfully (SQLite TEXT that is not UTF-8).
      const unread = readRefusal(row);
      if (unread !== undefined) return [unread];
      let reasons: string[] | undefined;
      let skip = -1;
      for (let k = 0; k < n; k++) {
        const col = columnIndexes[k];
        if (col === skip) continue;
        const reason = checks[k](row[col]);
        if (reason !== undefined) {
          (reasons ??= []).push(reason);
          if (stops[k]) skip = col;
        }
      }
      if (reasons) return reasons;
      if (keys) {
        for (let k = 0; k < keyIndexes.length; k++) keyValues[k] = row[keyIndexes[k]];
        if (folded) {
          const raw = keyValues.slice();
          for (let k = 0; k < keyIndexes.length; k++) if (folded[k] && typeof keyValues[k] === 'string') keyValues[k] = folded[k]!(keyValues[k] as string);
          if (!keys.add(keyValues)) return [mergedKeyReason(keyNames, raw, merging!)];
        } else if (!keys.add(keyValues)) return [duplicateKeyReason(keyNames, keyValues)];
      }
      return VALID;
    },
    resetKeys: () => keys?.clear(),
    get keysSeen() {
      return keys?.size ?? 0;
    },
  };
}

function findColumnIndex(columns: Column[], name: string): number[] {
  let i = columns.findIndex((c) => c.name === name);
  if (i < 0) i = columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
  return i < 0 ? [] : [i];
}

/** The type check, after NULL is refused where the column or the key cannot hold it. */
function withPresence(target: Column, inKey: boolean, check: ValueCheck | undefined): ValueCheck | undefined {
  if (!inKey && target.nullable) return check && ((v) => (v === null ? undefined : check(v)));
  const refused = inKey ? `${target.name}: is NULL, but it is part of the key, which cannot be NULL` : `${target.name}: is NULL, but the target column is NOT NULL`;
  return check ? (v) => (v === null ? refused : check(v)) : (v) => (v === null ? refused : undefined);
}
