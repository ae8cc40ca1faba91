/**
 * Upsert and mirror into a table that exists write only the rows that differ.
 * One pass over the staged rows and the target finds them (new keys, or any
 * column that differs, compared exactly by the dialect), into a table of
 * their own: the backup, the update and the insert then read only that, and
 * an unchanged row costs one comparison, no write and no backup.
 */
import type { Session } from '../dialects/dialect.js';
import type { Row, TableName, Value } from '../types.js';
import type { KeyRange } from './compare.js';
import { bucketSetTest } from './rowHash.js';
import { goneInBucketsSql } from './compareKeys.js';
import type { StagedTable } from './apply.js';
import type { TablePlan } from './plan.js';
import { promotable } from './stage.js';
import { StatementBatch } from './batch.js';

export function needsDelta(target: Session, plan: TablePlan): boolean {
  return (plan.mode === 'upsert' || plan.mode === 'mirror') && plan.key.length > 0 && !plan.createTarget && !promotable(target, plan);
}

export function deltaTableName(staging: TableName): TableName {
  return { schema: staging.schema, name: `${staging.name}_d` };
}

/** Mirror: the keys of the target rows the source no longer has, found once for the backup and the delete. */
export function goneTableName(staging: TableName): TableName {
  return { schema: staging.schema, name: `${staging.name}_g` };
}

/**
 * The delta table, and for a mirror the gone keys' table: the tables it created.
 * `shared`: its statements go in it, sent by the caller (with the backups'), not here.
 */
export async function stageDelta(target: Session, { plan, staging, ranges }: StagedTable, shared?: StatementBatch): Promise<{ delta: TableName; gone?: TableName }> {
  const delta = deltaTableName(staging);
  // Statements, not reads: sent together where the engine can (batch.ts).
  const batch = shared ?? new StatementBatch(target);
  batch.drop(delta).add(...target.applySql.copyDiffering(plan.targetName, staging, delta, plan.targetColumns, plan.key));
  if (plan.mode !== 'mirror') {
    if (!shared) await batch.flush();
    return { delta };
  }
  const gone = goneTableName(staging);
  const [create, ...fill] = target.applySql.copyAbsentKeys(plan.targetName, staging, gone, plan.key);
  batch.drop(gone).add(create);
  if (!ranges) batch.add(...fill);
  else await fillGoneInRanges(target, plan, staging, gone, ranges, batch);
  if (!shared) await batch.flush();
  return { delta, gone };
}

/**
 * A delta run staged only the key ranges that differ: the target keys the
 * source lacks are looked for there alone (outside them the range hashes
 * matched, so both sides hold the same keys). Each range's target keys and
 * staged keys, read in key order and merged.
 */
async function fillGoneInRanges(target: Session, plan: TablePlan, staging: TableName, gone: TableName, ranges: KeyRange[], statements: StatementBatch): Promise<void> {
  const keyColumns = plan.key.map((k) => plan.targetColumns.find((c) => c.name === k)!);
  const keyOf = (v: Value) => (typeof v === 'bigint' ? v : BigInt(String(v)));
  for (const { after, through, buckets } of ranges) {
    if (buckets?.keyHash) {
      // Buckets of a hash of the key: found in SQL, by the target's own key equality (compareKeys.ts).
      statements.add(goneInBucketsSql(target, plan, staging, gone, buckets));
      continue;
    }
    // The ranges' buckets hold every key of the bounds that may differ (the bounds are the buckets' own, opened at the table's ends).
    const inServer = buckets && plan.key.length === 1 ? target.applySql.copyAbsentKeysInBuckets?.(plan.targetName, staging, gone, plan.key[0], buckets) : undefined;
    if (inServer) {
      statements.add(...inServer);
      continue;
    }
    // Keys read here are written into the gone table: it and what fills it so far are in first.
    await statements.flush();
    // Within the bounds, only the range's buckets differ: the target's other keys are the source's too.
    const where = buckets && target.bucketCondition ? target.bucketCondition(plan.key[0], buckets) : undefined;
    const inRange = buckets ? bucketSetTest(buckets) : () => true;
    const staged = new Set<bigint>();
    for await (const batch of target.readRows({ table: staging, columns: keyColumns, orderBy: plan.key, after, through, where, batchRows: 10_000 })) {
      for (const row of batch) staged.add(keyOf(row[0]));
    }
    const absent: Row[] = [];
    for await (const batch of target.readRows({ table: plan.targetName, columns: keyColumns, orderBy: plan.key, after, through, where, batchRows: 10_000 })) {
      for (const row of batch) if (inRange(row[0]) && !staged.has(keyOf(row[0]))) absent.push(row);
    }
    if (absent.length) await target.insertRows(gone, keyColumns, absent);
  }
}
