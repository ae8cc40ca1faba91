/**
 * Rows changed since the last sync, from the servers' own row versions.
 *
 * Comparing by range hashes (compare.ts) proves the unchanged rows unchanged
 * by hashing every row on both servers: for a table where 1% changed, 99% of
 * that work finds nothing. Where both servers keep row versions a client can
 * read (RowVersions: PostgreSQL's xmin), a run that leaves the target equal to
 * the source records, in the target and inside its apply transaction, where
 * both tables' versions stood (a VersionMark each):
 *
 * - the source's: the xmin of the run's snapshot, which every row the run did
 *   not see was written at or after;
 * - the target's: taken before the run first read the target's rows (a delta
 *   run: before comparing), or, for a table the apply swapped or created,
 *   inside the apply after the rename (no one else could write it before).
 *
 * The next run of the same table spec checks that both marks still hold (the
 * same server and timeline, the same table file, transaction ids and the WAL
 * only gone forward, less than 2^30 transactions since) and then, in one scan
 * a side and without hashing a row, finds the keys of rows written since
 * either mark (the target's include the last run's own writes and anyone
 * else's) and the key set of all rows. When the key sets outside those keys
 * agree, only those keys can differ: they alone are staged, and the apply
 * writes those that do differ. Otherwise (keys deleted on a side, a `where`
 * whose rows moved), or when many rows were written, or when a mark does not
 * hold, the table is compared by range hashes as before, and says why.
 *
 * A mark is only ever trusted to say a row did NOT change; every doubt falls
 * back to comparing. A run that refused rows records nothing (the next one
 * must try them again), nor does one whose verification failed (its state is
 * deleted).
 */
import { createHash } from 'node:crypto';
import type { KeySet, Session, TableDef, VersionMark } from '../dialects/dialect.js';
import { STAGING_PREFIX } from '../naming.js';
import type { TableName } from '../types.js';
import type { Column } from '../types.js';
import { DEFAULT_MAX_RANGES, compareTable, toChunks, type CompareOptions, type CompareResult, type Leaf } from './compare.js';
import { hashKinds } from './rowHash.js';
import { integerKey } from './compareKeys.js';
import type { TablePlan } from './plan.js';
import { tableExists } from './ownTable.js';
import { flowId } from './watermark.js';
import { formatCount } from '../../../shared/numbers.js';

export interface SyncState {
  v: 1;
  /** The table spec and columns the marks are about (specFingerprint). */
  fp: string;
  source: VersionMark;
  target: VersionMark;
}

/** What a run knows, per table, to record once its apply commits. */
export interface VersionsToRecord {
  flow: string;
  fp: string;
  source: VersionMark;
  /** Undefined: taken inside the apply, after the table is renamed into place (swap, new table). */
  target?: VersionMark;
  /** Rows were refused: the state is forgotten, none recorded. */
  refused?: boolean;
}

export function syncStateTable(schema?: string): TableName {
  return { schema, name: `${STAGING_PREFIX}sync_state` };
}

export function syncStateTableDef(target: Session, schema?: string): TableDef {
  const text = (n: number) => target.mapType({ kind: 'text', maxLength: n }).nativeType;
  return {
    name: syncStateTable(schema),
    columns: [
      { name: 'flow', nativeType: text(40), nullable: false },
      { name: 'state', nativeType: text(1000), nullable: false },
      { name: 'run_id', nativeType: text(36), nullable: false },
      { name: 'updated_at', nativeType: text(32), nullable: false },
    ],
    primaryKey: ['flow'],
  };
}

/** Which table's rows a state is about: the source database and table, and the target table. */
export function syncFlow(sourceUrl: string, plan: Pick<TablePlan, 'sourceLabel' | 'targetLabel'>): string {
  return flowId(sourceUrl, plan.sourceLabel, '#rows', plan.targetLabel);
}

/**
 * The table spec (where, rules, columns…) and both sides' columns: another
 * one, and the marks say nothing. Not the mode: whichever mode the last run
 * had, it left every source row in the target (a mirror, a replace) or more
 * (an upsert keeps the target's other keys, which the key sets then show).
 */
export function specFingerprint(plan: Pick<TablePlan, 'spec' | 'columns' | 'targetColumns' | 'key' | 'orderBy'>): string {
  const cols = (c: Column[]) => c.map((x) => [x.name, x.nativeType, x.type, x.collation ?? null]);
  const spec: Record<string, unknown> = { ...plan.spec };
  delete spec.mode;
  const json = JSON.stringify([spec, cols(plan.columns), cols(plan.targetColumns), plan.key, plan.orderBy], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return createHash('sha256').update(json).digest('hex').slice(0, 40);
}

/** Both sides keep row versions, the key is one integer column, and the run leaves the target equal to the source. */
export function versionsApply(plan: TablePlan, source: Session, target: Session): boolean {
  if (!source.rowVersions || !target.rowVersions || !integerKey(plan) || plan.incremental) return false;
  if (plan.columns.length !== plan.targetColumns.length) return false;
  return plan.mode === 'mirror' || plan.mode === 'upsert' || plan.mode === 'replace';
}

const FLOW = /^[0-9a-f]{40}$/;
/** A state as stored: dbferry's own JSON of digits, hex and these punctuation marks only, so that it can be a literal. */
const STATE_TEXT = /^[A-Za-z0-9{}":,/[\]]*$/;

function checkedFlow(flow: string): string {
  if (!FLOW.test(flow)) throw new Error(`invalid flow id ${flow}`);
  return flow;
}

/** The states recorded for these flows (none: no table yet, or no run recorded one). */
export async function readSyncStates(target: Session, schema: string | undefined, flows: string[]): Promise<Map<string, SyncState>> {
  const out = new Map<string, SyncState>();
  if (!flows.length) return out;
  const table = syncStateTable(schema);
  const q = (n: string) => target.quoteIdentifier(n);
  const list = [...new Set(flows)].map((f) => `'${checkedFlow(f)}'`).join(', ');
  let found: unknown[][];
  try {
    // One round trip where the table is there (every run after the first); outside any transaction.
    found = (await target.query(`SELECT ${q('flow')}, ${q('state')} FROM ${target.quoteTable(table)} WHERE ${q('flow')} IN (${list})`)).rows;
  } catch (err) {
    if (!(await tableExists(target, table))) return out;
    throw err;
  }
  for (const [flow, state] of found) {
    try {
      const parsed = JSON.parse(String(state)) as SyncState;
      if (parsed.v === 1 && parsed.source && parsed.target) out.set(String(flow), parsed);
    } catch {
      // Not one of ours: as if there were none.
    }
  }
  return out;
}

/**
 * Inside the apply transaction: the state replaces the flow's last one (none:
 * it is only deleted). `ownSql` (RowVersions.writtenBySql): the target's own
 * row versions, found by the statement itself, in the COMMIT's round trip.
 */
export function writeSyncStateSql(target: Session, schema: string | undefined, runId: string, flow: string, state?: SyncState, ownSql?: string): string[] {
  const table = target.quoteTable(syncStateTable(schema));
  const q = (n: string) => target.quoteIdentifier(n);
  const out = [`DELETE FROM ${table} WHERE ${q('flow')} = '${checkedFlow(flow)}'`];
  if (!state) return out;
  const text = JSON.stringify(state);
  if (!STATE_TEXT.test(text) || text.length > 1000) throw new Error(`invalid sync state ${text}`);
  if (!/^[0-9a-f-]{36}$/i.test(runId)) throw new Error(`invalid run id ${runId}`);
  // The target's mark is the JSON's last member: its own versions go in before its closing brace.
  const value = ownSql && text.endsWith('}}') ? `'${text.slice(0, -2)},"own":' || ${ownSql} || '}}'` : `'${text}'`;
  out.push(`INSERT INTO ${table} (${q('flow')}, ${q('state')}, ${q('run_id')}, ${q('updated_at')}) VALUES ('${flow}', ${value}, '${runId}', '${new Date().toISOString()}')`);
  return out;
}

/** Forget the flows' states (a run whose verification failed: what it wrote is not known to be right). */
export async function forgetSyncStates(target: Session, schema: string | undefined, flows: string[]): Promise<void> {
  if (!flows.length || !(await tableExists(target, syncStateTable(schema)))) return;
  const q = (n: string) => target.quoteIdentifier(n);
  await target.execute(`DELETE FROM ${target.quoteTable(syncStateTable(schema))} WHERE ${q('flow')} IN (${flows.map((f) => `'${checkedFlow(f)}'`).join(', ')})`);
}

/** Transactions after a mark within which xmin's age orders them (it wraps at 2^31). */
const MAX_XIDS = 2n ** 30n;

/** Does a recorded mark still hold for the table as it is now; if not, why. */
function markProblem(side: 'source' | 'target', then: VersionMark, now: VersionMark): string | undefined {
  if (then.server !== now.server) return `the ${side} server is another one, or on another timeline (restored or promoted)`;
  if (then.table !== now.table) return `the ${side} table was truncated, rewritten or created again`;
  const big = (s: string) => (/^\d+$/.test(s) ? BigInt(s) : -1n);
  if (big(now.next) < big(then.next) || big(now.lsn) < big(then.lsn) || big(then.xmin) < 0n) return `the ${side} server went back in time (restored from a backup)`;
  if (big(now.next) - big(then.xmin) >= MAX_XIDS) return `more than 2^30 transactions ran on the ${side} server since`;
  return undefined;
}

/** The marks to look for changes from, when the recorded state still holds; else why not. */
export function trustedSince(state: SyncState | undefined, fp: string, now: { source?: VersionMark; target?: VersionMark }): Since | { reason: string } {
  if (!state) return { reason: 'no earlier run recorded where the rows stood' };
  if (state.fp !== fp) return { reason: 'the table spec or its columns changed since the last run' };
  if (!now.source || !now.target) return { reason: "a server did not say where its rows' versions stand" };
  const problem = markProblem('source', state.source, now.source) ?? markProblem('target', state.target, now.target);
  if (problem) return { reason: problem };
  return { source: state.source.xmin, target: state.target.xmin, targetOwn: state.target.own };
}

/** Where to look for rows written since: each side's mark, and the last run's own writes in the target (not changes). */
export interface Since {
  source: string;
  target: string;
  targetOwn?: string[];
}

/** Rows written since the marks, at most this share of the table: beyond, range hashes cost less than staging them all. */
const MAX_CHANGED_SHARE = 0.1;
/** And at most this many keys, read into memory (each a bigint and a bucket: tens of bytes) whatever the table's size. */
const MAX_CHANGED_KEYS = 250_000;

const xorOut = (all: KeySet, part: KeySet): KeySet => ({ rows: all.rows - part.rows, hash: all.hash ^ part.hash });

/**
 * The keys that can differ, from the rows written since the marks on either
 * side: a CompareResult whose ranges hold them (single-key buckets), or why
 * the table must be compared by range hashes instead. Where the key sets of
 * the other rows differ (keys deleted on a side: a delete leaves no version),
 * the keys only one side has are found by range hashes of the key alone
 * (the other rows' contents are vouched for by their versions), and staged
 * with the written keys.
 */
export async function compareByVersions(plan: TablePlan, source: Session, target: Session, since: Since, opts: CompareOptions = {}): Promise<CompareResult | { reason: string }> {
  const estimate = Math.max(plan.estimate ?? 0, plan.targetInfo?.rowEstimate ?? 0, 1);
  const max = Math.min(MAX_CHANGED_KEYS, Math.max(1_000, Math.floor(estimate * MAX_CHANGED_SHARE)));
  const sKey = plan.orderBy[0];
  const tKey = plan.key[0];
  const where = plan.spec.where;
  const [s, t] = await Promise.all([
    source.rowVersions!.changedKeys({ table: plan.sourceName, key: sKey, where, since: since.source, max }),
    target.rowVersions!.changedKeys({ table: plan.targetName, key: tKey, since: since.target, except: since.targetOwn, max }),
  ]);
  if (!s.changed || !t.changed) {
    const many = !s.changed ? `${formatCount(s.changedRows)} source rows` : `${formatCount(t.changedRows)} target rows`;
    return { reason: `${many} were written since the last sync, too many to stage on their own` };
  }
  const keys = [...new Set([...s.changed, ...t.changed])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Each side's rows with those keys, summed up, to take them out of its key set.
  const sum = (session: Session, table: TableName, key: string, w: string | undefined, ks: bigint[]) => (ks.length ? session.rowVersions!.keySetOf({ table, key, where: w, keys: ks }) : Promise.resolve({ rows: 0, hash: 0n }));
  const [sIn, tIn] = await Promise.all([sum(source, plan.sourceName, sKey, where, keys), sum(target, plan.targetName, tKey, undefined, keys)]);
  const sRest = xorOut(s, sIn);
  const tRest = xorOut(t, tIn);
  if (sRest.rows !== tRest.rows || sRest.hash !== tRest.hash) {
    // Keys only one side has, among rows whose contents their versions vouch for: range hashes of the key alone.
    const sk = plan.columns.find((c) => c.name === sKey)!;
    const tk = plan.targetColumns.find((c) => c.name === tKey)!;
    const kinds = hashKinds([sk], [tk], source, target);
    if (!('kinds' in kinds)) return { reason: `the other rows' keys differ, and ${kinds.reason}` };
    const c = await compareTable({ ...plan, columns: [sk], targetColumns: [tk] }, source, target, kinds.kinds, { ...opts, extraKeys: keys });
    // The written keys staged on their own were counted as unchanged in buckets whose keys matched.
    const added = await sum(source, plan.sourceName, sKey, where, c.addedKeys ?? []);
    return { ...c, differingSourceRows: c.differingSourceRows + added.rows, unchangedRows: c.unchangedRows - added.rows, byVersions: { written: keys.length, keyHashes: true } };
  }
  const out: CompareResult = {
    ranges: [],
    sourceRows: s.rows,
    targetRows: t.rows,
    differingSourceRows: sIn.rows,
    differingTargetRows: tIn.rows,
    unchangedRows: s.rows - sIn.rows,
    levels: 1,
    buckets: keys.length,
    byVersions: { written: keys.length, keyHashes: false },
  };
  if (!keys.length) return out;
  const lo = keys[0];
  const hi = keys[keys.length - 1];
  const leaves: Leaf[] = keys.map((k) => ({ from: k, width: 1n, id: k - lo, rows: 1 }));
  // Keys of a chunk are read as key ranges (neighbours merged) or a list of up to 20,000 keys (PostgreSQL's bucketCondition): 10,000 neighbouring keys are one read, not three.
  out.ranges = toChunks(leaves, lo, hi, lo >= -(2n ** 62n) && hi < 2n ** 62n, DEFAULT_MAX_RANGES, 16_384);
  return out;
}
