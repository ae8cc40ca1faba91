/**
 * Build the schema of the tables a run created, once every table's rows are
 * in, in the order the fast tools use: each table's defaults, generated key
 * and indexes; then the foreign keys (a query for orphan rows first, or, where
 * adding the key checks the rows itself, once it refuses: a key the rows break
 * is left out and reported, never a bare failure); then the
 * key counters. The caller runs it inside the apply transaction where DDL is
 * transactional, and removes the run's tables if it fails where it is not.
 */
import type { Session } from '../dialects/dialect.js';
import { errorMessage, isTransient } from '../errors.js';
import { tableLabel, type Value } from '../types.js';
import type { TablePlan } from '../pipeline/plan.js';
import type { EnumCheck, SchemaSupport, TableWork, TargetForeignKey } from './model.js';

/** The schema work of the tables a run creates. */
export function schemaWorks(plans: TablePlan[]): TableWork[] {
  return plans.map((p) => p.schemaWork).filter((w): w is TableWork => w !== undefined);
}

/**
 * `resumed`: a run killed after its commit (MySQL) built part of it: what
 * exists by name (an index, a foreign key, a check) is not built again.
 */
export async function carrySchema(target: Session, works: TableWork[], warn: (message: string) => void, opts: { resumed?: boolean } = {}): Promise<void> {
  const support = target.dialect.schema;
  if (!support || works.length === 0) return;
  if (opts.resumed) works = await Promise.all(works.map((w) => notBuiltYet(target, support, w)));
  // Where adding a key checks the rows itself (PostgreSQL's VALIDATE), orphans are looked for only when it refuses.
  const checkFirst = !support.validatesForeignKeys;
  for (const work of works) {
    if (checkFirst) {
      const kept: TargetForeignKey[] = [];
      for (const fk of work.foreignKeys) if (await hasNoOrphans(target, work, fk, warn)) kept.push(fk);
      work.foreignKeys = kept;
    }
    work.enumChecks = await checksTheRowsKeep(target, support, work, warn);
  }
  // Parents first (the plan's order): a table rebuilt with its keys (SQLite) finds its parents in place.
  for (const work of works) await support.buildTable(target, work);
  if (!support.foreignKeysWithTable) {
    for (const work of works) {
      for (const fk of work.foreignKeys) {
        const failed = await attempt(target, () => support.addForeignKey!(target, work.table, fk));
        if (failed && (checkFirst || (await hasNoOrphans(target, work, fk, warn)))) {
          warn(`${tableLabel(work.table)}: foreign key ${fk.name} (${fk.columns.join(', ')}) → ${tableLabel(fk.references)} was not created: the target refused it (${failed}); the rows are in, add the key by hand`);
        }
      }
    }
  }
  for (const work of works) if (work.generatedKey) await support.setCounter(target, work.table, work.generatedKey.column, work.generatedKey.next ?? '1');
}

/** The part of a table's work that is not in the target yet, by name. */
async function notBuiltYet(target: Session, support: SchemaSupport, work: TableWork): Promise<TableWork> {
  const there = await support.readTable(target, work.table);
  const has = (names: string[]) => {
    const set = new Set(names.map((n) => n.toLowerCase()));
    return (name: string) => set.has(name.toLowerCase());
  };
  const index = has(there.indexes.map((i) => i.name));
  const key = has(there.foreignKeys.map((f) => f.name));
  const check = has(there.checks.map((c) => c.name));
  return {
    ...work,
    indexes: work.indexes.filter((i) => !index(i.name)),
    foreignKeys: work.foreignKeys.filter((f) => !key(f.name)),
    checks: work.checks.filter((c) => !check(c.name)),
    enumChecks: work.enumChecks.filter((c) => !check(c.name)),
  };
}

let savepoints = 0;

/** A statement the target may refuse without undoing the rest: under a savepoint where DDL is transactional. The refusal's message, or undefined. */
async function attempt(target: Session, fn: () => Promise<void>): Promise<string | undefined> {
  const transactional = target.dialect.capabilities.transactionalDdl;
  const name = `dbferry_schema_${++savepoints}`;
  if (transactional) await target.execute(target.applySql.savepoint(name));
  try {
    await fn();
    if (transactional) await target.execute(target.applySql.releaseSavepoint(name));
    return undefined;
  } catch (err) {
    if (isTransient(err)) throw err;
    if (transactional) {
      await target.execute(target.applySql.rollbackToSavepoint(name));
      await target.execute(target.applySql.releaseSavepoint(name));
    }
    return errorMessage(err);
  }
}

/** ENUM checks whose labels every row holds (MySQL's non-strict mode stores '' for a value it refused); the others are reported. */
async function checksTheRowsKeep(target: Session, support: SchemaSupport, work: TableWork, warn: (message: string) => void): Promise<EnumCheck[]> {
  const kept: EnumCheck[] = [];
  for (const check of work.enumChecks) {
    const c = target.quoteIdentifier(check.column);
    const marks = check.values.map((_, i) => support.placeholder(i + 1));
    const sql = `SELECT COUNT(*), MIN(${c}) FROM ${target.quoteTable(work.table)} WHERE ${c} IS NOT NULL AND ${c} NOT IN (${marks.join(', ')})`;
    const [[count, example]] = (await target.query(sql, check.values)).rows;
    if (Number(count) === 0) kept.push(check);
    else warn(`${tableLabel(work.table)}: the check ${check.name} on ${check.column}'s labels was not created: ${String(count)} rows hold another value, e.g. '${String(example)}'`);
  }
  return kept;
}

/** True when no row breaks the key; otherwise the orphans are reported by constraint, count and an example key. */
async function hasNoOrphans(target: Session, work: TableWork, fk: TargetForeignKey, warn: (message: string) => void): Promise<boolean> {
  const orphans = await findOrphans(target, work, fk);
  if (orphans.count === 0) return true;
  warn(
    `${tableLabel(work.table)}: foreign key ${fk.name} (${fk.columns.join(', ')}) → ${tableLabel(fk.references)} (${fk.referencedColumns.join(', ')}) was not created: ` +
      `${orphans.count} row${orphans.count === 1 ? '' : 's'} reference${orphans.count === 1 ? 's' : ''} a missing ${tableLabel(fk.references)} row, e.g. ${orphans.example}; ` +
      'fix or delete them, then add the key by hand',
  );
  return false;
}

/** Rows whose key columns are all set and match no parent row (MATCH SIMPLE, as every engine checks them): how many, and the first. */
async function findOrphans(target: Session, work: TableWork, fk: TargetForeignKey): Promise<{ count: number; example: string }> {
  const q = (n: string) => target.quoteIdentifier(n);
  const set = fk.columns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ');
  const match = fk.columns.map((c, i) => `p.${q(fk.referencedColumns[i])} = c.${q(c)}`).join(' AND ');
  const where = `WHERE ${set} AND NOT EXISTS (SELECT 1 FROM ${target.quoteTable(fk.references)} p WHERE ${match})`;
  const from = `FROM ${target.quoteTable(work.table)} c ${where}`;
  const [[count]] = (await target.query(`SELECT COUNT(*) ${from}`)).rows;
  if (Number(count) === 0) return { count: 0, example: '' };
  const shown = [...new Set([...work.primaryKey, ...fk.columns])];
  const [first] = (await target.query(`SELECT ${shown.map((c) => `c.${q(c)}`).join(', ')} ${from} LIMIT 1`)).rows;
  return { count: Number(count), example: shown.map((c, i) => `${c} = ${show(first[i])}`).join(', ') };
}

function show(v: Value): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}
