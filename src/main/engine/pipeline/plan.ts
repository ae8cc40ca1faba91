/**
 * Plan: resolve every table of the job against both databases (names, columns,
 * key, type mapping, whether the target exists) and list every problem at
 * once, before anything is written.
 */
import { realpathSync } from 'node:fs';
import type { JobSpec, Mode, TableSpec } from '../../../shared/jobSpec.js';
import type { PlannedColumn, PlannedTable } from '../../../shared/events.js';
import type { ColumnDef, Session } from '../dialects/dialect.js';
import { openEndpoint } from '../connect.js';
import { FerryError, errorMessage } from '../errors.js';
import { STAGING_PREFIX } from '../naming.js';
import { tableLabel, type Column, type TableInfo, type TableName, type Value } from '../types.js';
import { parentsFirst } from './order.js';
import type { TableWork } from '../schema/model.js';
import { planSchemas } from '../schema/translate.js';
import { BATCH_COLUMN, ROW_COLUMN } from './stage.js';
import { describeType, fitProblem, fitReason, type Fit } from './typeFit.js';
import { ruleProblems } from './validate/index.js';
import { validatorOptionsFor } from './validate/options.js';
import { keyFold, mergeWarning } from './validate/collation.js';
import { cursorTypeProblem, decodeWatermark, encodeWatermark, flowId, readWatermark } from './watermark.js';
import { describePath, planSwap, type SwapPlan } from './swap.js';
import { compareEligibility, diffTable, rulesCheckEveryRow } from './compare.js';
import { compareByVersions, readSyncStates, specFingerprint, syncFlow, trustedSince, versionsApply, type Since } from './syncState.js';

export interface TablePlan {
  index: number;
  spec: TableSpec;
  mode: Mode;
  sourceName: TableName;
  targetName: TableName;
  sourceLabel: string;
  targetLabel: string;
  sourceInfo: TableInfo;
  /** Source columns in read order. */
  columns: Column[];
  /** Target columns, same order and count as `columns`. */
  targetColumns: Column[];
  /** Key columns (target names) used for upsert/mirror and ordering. */
  key: string[];
  /** Source columns to order reads by (the key), empty when there is none. */
  orderBy: string[];
  createTarget: boolean;
  /**
   * Replace into an existing table that is not what dbferry would create
   * (leftover dbferry columns, no key where the source has one): the apply
   * drops it and creates it as planned, in its transaction.
   */
  rebuild?: boolean;
  /** Replace into an existing table by swapping a staged table in (swap.ts); undefined: in place. */
  swap?: SwapPlan;
  targetInfo?: TableInfo;
  estimate?: number;
  /** An incremental table: only rows whose cursor is past the watermark of the last applied run. */
  incremental?: IncrementalPlan;
  /**
   * Set when rows pass from source to target as bytes, never decoded, in this
   * format (rawReads/rawWrites in dialect.ts: binary COPY between PostgreSQL
   * tables of the same types, or text): every value fits as it is, and there
   * is no rule, cursor or non-unique key to check.
   */
  rawFormat?: string;
  planned: PlannedTable;
  /** options.schema "full", a table the run creates: what it gets once its rows are in (schema/apply.ts). */
  schemaWork?: TableWork;
  /**
   * A table the run creates with generated columns (schema/translate.ts), or a damaged one it rebuilds that has
   * some: every column in the table's order, the generated ones with their expression in the target's SQL. They
   * are not among `targetColumns`: never written.
   */
  tableColumns?: ColumnDef[];
}

export interface IncrementalPlan {
  /** The cursor column (source name, among `columns`). */
  cursor: string;
  flow: string;
  /** The watermark: rows up to it were applied by an earlier run; undefined: none yet, copy every row. */
  since?: Value;
}

export interface Plan {
  tables: TablePlan[];
  warnings: string[];
  /** The job does not fit these databases (unknown table, lossy mapping, …). */
  problems: string[];
  /** The users may not do what the job needs (privileges, read-only files). */
  accessProblems: string[];
}

export interface PlanReport {
  ok: boolean;
  tables: PlannedTable[];
  warnings: string[];
  problems: string[];
  accessProblems: string[];
}

/**
 * `plan --diff` between PostgreSQL servers: for each table a run would compare,
 * where the last run's record of both tables' row versions still holds
 * (syncState.ts), where to look for rows written since; else why not. Read
 * only: a plan records nothing.
 */
async function versionsSince(spec: JobSpec, tables: TablePlan[], source: Session, target: Session): Promise<Map<TablePlan, Since | { reason: string }>> {
  const out = new Map<TablePlan, Since | { reason: string }>();
  if (!source.rowVersions || !target.rowVersions || process.env.DBFERRY_ROW_VERSIONS === '0') return out;
  const eligible = tables.filter((t) => !t.createTarget && versionsApply(t, source, target) && 'kinds' in compareEligibility(t, source, target));
  if (!eligible.length) return out;
  const [sMarks, tMarks] = await Promise.all([source.rowVersions.marks(eligible.map((t) => t.sourceName)), target.rowVersions.marks(eligible.map((t) => t.targetName))]);
  const flows = eligible.map((t) => syncFlow(spec.source.url, t));
  const states = await readSyncStates(target, tables[0]?.targetName.schema, flows);
  eligible.forEach((t, i) => {
    const state = states.get(flows[i]);
    if (state) out.set(t, trustedSince(state, specFingerprint(t), { source: sMarks[i], target: tMarks[i] }));
  });
  return out;
}

/**
 * Open both sides, plan, close. Connection failures come back as problems.
 * `diff`: also compare every table's rows (compare.ts), writing nothing.
 */
export async function planJob(spec: JobSpec, opts: { baseDir: string; diff?: boolean }): Promise<PlanReport> {
  const sessions: Session[] = [];
  try {
    const source = await openEndpoint(spec.source.url, { baseDir: opts.baseDir, role: 'source', schema: spec.source.schema, ssh: spec.source.ssh });
    sessions.push(source);
    const target = await openEndpoint(spec.target.url, { baseDir: opts.baseDir, role: 'target', schema: spec.target.schema, ssh: spec.target.ssh });
    sessions.push(target);
    const plan = await buildPlan(spec, source, target);
    if (opts.diff && plan.problems.length === 0) {
      const since = await versionsSince(spec, plan.tables, source, target).catch(() => new Map<TablePlan, Since | { reason: string }>());
      for (const t of plan.tables) {
        const s = since.get(t);
        const byVersions = s ? () => ('reason' in s ? Promise.resolve(s) : compareByVersions(t, source, target, s)) : undefined;
        try {
          t.planned.diff = await diffTable(t, source, target, { byVersions });
        } catch (err) {
          t.planned.diff = { inserted: 0, updated: 0, deleted: 0, unchanged: 0, examples: { inserted: [], updated: [], deleted: [] }, method: '', error: errorMessage(err) };
        }
      }
    }
    return {
      ok: plan.problems.length === 0 && plan.accessProblems.length === 0,
      tables: plan.tables.map((t) => t.planned),
      warnings: plan.warnings,
      problems: plan.problems,
      accessProblems: plan.accessProblems,
    };
  } catch (err) {
    return { ok: false, tables: [], warnings: [], problems: [], accessProblems: [errorMessage(err)] };
  } finally {
    await Promise.allSettled(sessions.map((s) => s.close()));
  }
}

/**
 * One SQLite file as both source and target cannot work: the source is read
 * in one snapshot, whose shared lock holds every commit to the file back, the
 * run's own too (it failed after half a minute of retries as "locked").
 */
function sameSqliteFile(source: Session, target: Session): string | undefined {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const [from, to] = [source.path, target.path];
  if (!from || !to || real(from) !== real(to)) return undefined;
  return `the source and the target are the same SQLite file (${from}): the source is read in one snapshot, whose lock keeps any write to that file from committing; copy into another file (and rename it afterwards if need be)`;
}

export async function buildPlan(spec: JobSpec, source: Session, target: Session): Promise<Plan> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const sameFile = sameSqliteFile(source, target);
  if (sameFile) return { tables: [], warnings, problems: [sameFile], accessProblems: [] };
  const specs = await expandTables(spec, source, warnings);
  const tables: TablePlan[] = [];
  for (const [index, tableSpec] of specs.entries()) {
    const where = spec.tables === '*' ? `table "${tableSpec.source}"` : `tables[${index}] (${tableSpec.source})`;
    try {
      const plan = await planTable(index, tableSpec, spec, source, target, warnings);
      if (typeof plan === 'string') problems.push(`${where}: ${plan}`);
      else {
        problems.push(...plan.problems.map((p) => `${where}: ${p}`));
        tables.push(plan.table);
      }
    } catch (err) {
      problems.push(`${where}: ${errorMessage(err)}`);
    }
  }
  warnings.push(...copiedTwice(tables));
  const ordered = parentsFirst(tables, (t) => t.targetInfo ?? t.sourceInfo, (t) => t.targetName.name);
  if (problems.length === 0) await planSchemas(ordered, spec, source, target, warnings);
  const accessProblems = await privilegeProblems(ordered, source, target, warnings);
  return { tables: ordered, warnings, problems, accessProblems };
}

/**
 * A partition (or inheritance child) listed in "tables" beside its parent: reading the parent reads
 * its rows too, so they go into both targets. Said in the plan, which copies as listed.
 */
export function copiedTwice(tables: TablePlan[]): string[] {
  const out: string[] = [];
  const full = (n: TableName) => `${n.schema ?? 'public'}.${n.name}`;
  for (const parent of tables) {
    const p = parent.sourceInfo.partitions;
    if (!p) continue;
    const inside = new Set(p.tables.map((t) => (t.includes('.') ? t : `${parent.sourceName.schema ?? 'public'}.${t}`)));
    for (const child of tables) {
      if (child === parent || !inside.has(full(child.sourceName))) continue;
      out.push(
        `${child.sourceLabel} is listed in "tables" and is also ${p.kind === 'partitioned' ? 'a partition' : 'a child table'} of ${parent.sourceLabel}, which is listed too and copies its rows through the parent: ` +
          `its rows are copied twice, into ${child.targetLabel} and into ${parent.targetLabel}; leave one of the two out of "tables" unless both copies are meant`,
      );
    }
  }
  return out;
}

/** Can the source user read, and the target user create/write, everything this run touches? */
async function privilegeProblems(tables: TablePlan[], source: Session, target: Session, warnings: string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const out: string[] = [];
  const creating = tables.find((t) => t.createTarget);
  const checks = [
    { session: source, label: 'source', request: { role: 'source' as const, tables: tables.map((t) => t.sourceName) } },
    {
      session: target,
      label: 'target',
      request: { role: 'target' as const, tables: tables.filter((t) => !t.createTarget).map((t) => t.targetName), createIn: creating ? { schema: creating.targetName.schema } : undefined },
    },
  ];
  // Both sides at once (round trips to remote servers); problems and warnings in the same order as one after the other.
  const found = await Promise.allSettled(checks.map(({ session, request }) => session.privilegeProblems?.(request) ?? Promise.resolve([])));
  found.forEach((r, i) => {
    const { label } = checks[i];
    if (r.status === 'fulfilled') out.push(...r.value.map((p) => `${label}: ${p}`));
    else warnings.push(`could not check the ${label} user's privileges (${errorMessage(r.reason)}); the run will find out`);
  });
  return out;
}

async function expandTables(spec: JobSpec, source: Session, warnings: string[]): Promise<TableSpec[]> {
  if (spec.tables !== '*') return spec.tables;
  const names = (await source.listTables()).filter((n) => !n.name.startsWith(STAGING_PREFIX));
  if (names.length === 0) warnings.push('the source has no tables to copy');
  const out: TableSpec[] = [];
  for (const name of names) {
    const info = await source.describeTable(name);
    out.push({ source: tableLabel(name), target: name.name, mode: info && info.primaryKey.length ? 'upsert' : 'replace' });
  }
  return out;
}

/**
 * What the plan says of a partitioned table, or of an inheritance parent: its
 * partitions or children are read through it, each row once (they are not
 * listed as tables of their own), into one table; and of a partition named
 * on its own: only its rows.
 */
function partitionNote(info: TableInfo, createTarget: boolean, target: Session): { partitions?: string } {
  const p = info.partitions;
  if (!p) return info.partitionOf ? { partitions: `a partition of ${info.partitionOf}: only its own rows are copied` } : {};
  const n = p.tables.length;
  const shown = p.tables.slice(0, 8).join(', ') + (n > 8 ? ', …' : '');
  const what = p.kind === 'partitioned' ? `partitioned: ${n} partition${n === 1 ? '' : 's'} (${shown})` : `inheritance: ${n} child table${n === 1 ? '' : 's'} (${shown})`;
  const into = !createTarget
    ? 'into the existing table'
    : target.dialect.engine === 'postgres'
      ? `into one ordinary table (the ${p.kind === 'partitioned' ? 'partitioning' : 'inheritance'} is not recreated)`
      : 'into one table';
  return { partitions: `${what} copied through the parent, each row once, ${into}` };
}

function isUniqueKey(info: TableInfo, key: string[]): boolean {
  const same = (cols: string[]) => cols.length === key.length && cols.every((c) => key.some((k) => k.toLowerCase() === c.toLowerCase()));
  return same(info.primaryKey) || info.uniqueKeys.some(same);
}

function findColumn(columns: Column[], name: string): Column | undefined {
  return columns.find((c) => c.name === name) ?? columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

async function planTable(
  index: number,
  t: TableSpec,
  spec: JobSpec,
  source: Session,
  target: Session,
  warnings: string[],
): Promise<string | { table: TablePlan; problems: string[] }> {
  const problems: string[] = [];
  const sourceName = source.tableName(t.source);
  const targetName = target.tableName(t.target ?? sourceName.name);
  // Both sides at once: a dozen catalog queries each, every one a round trip to a remote server.
  const [described, targetDescribed] = await Promise.allSettled([source.describeTable(sourceName), target.describeTable(targetName)]);
  if (described.status === 'rejected') throw described.reason;
  const sourceInfo = described.value;
  if (!sourceInfo) {
    const known = (await source.listTables()).filter((n) => !n.name.startsWith(STAGING_PREFIX)).map(tableLabel);
    return `no table "${t.source}" in the source${known.length ? `; it has: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}` : ' (it has no tables)'}`;
  }
  if (targetDescribed.status === 'rejected') throw targetDescribed.reason;
  const targetInfo = targetDescribed.value;

  const columns: Column[] = [];
  for (const name of t.columns ?? sourceInfo.columns.map((c) => c.name)) {
    const col = findColumn(sourceInfo.columns, name);
    if (col) columns.push(col);
    else problems.push(`no column "${name}" in ${tableLabel(sourceName)}; its columns are ${sourceInfo.columns.map((c) => c.name).join(', ')}`);
  }
  if (t.encoding) decodeAs(t, t.key ?? sourceInfo.primaryKey, source, columns, problems, warnings, tableLabel(sourceName));
  const incremental = t.incremental ? await planIncremental(t.incremental.cursor, sourceInfo, columns, spec, sourceName, targetName, target, problems) : undefined;

  const keyNames = t.key ?? sourceInfo.primaryKey;
  const mode = t.mode;
  const keyColumns = keyNames.map((k) => findColumn(columns, k));
  if (keyNames.length === 0 && (mode === 'upsert' || mode === 'mirror')) {
    problems.push(`${tableLabel(sourceName)} has no primary key, so ${mode} cannot match rows; name the key columns in "key", or use mode "replace" or "append"`);
  }
  keyColumns.forEach((c, i) => {
    if (!c) problems.push(`key column "${keyNames[i]}" is not among the copied columns`);
  });

  const createTarget = !targetInfo;
  if (createTarget && !spec.options.createTables) {
    problems.push(`the target has no table "${tableLabel(targetName)}" and options.createTables is false; create it or allow dbferry to`);
  }

  const typedTarget = validatorOptionsFor(target.dialect.engine).typedColumns !== false;
  const plannedColumns: PlannedColumn[] = [];
  const targetColumns: Column[] = [];
  const names = targetColumnNames(columns, t, target, createTarget, problems, warnings, tableLabel(sourceName));
  const targetOf = new Map<string, Column>();
  const notWritten: Column[] = [];
  for (const col of columns) {
    const override = t.types?.[col.name];
    const name = names.get(col.name) ?? col.name;
    let targetCol: Column;
    let fit: Fit | undefined;
    if (targetInfo) {
      const existing = findColumn(targetInfo.columns, name);
      if (!existing) {
        problems.push(`the target table ${tableLabel(targetName)} has no column "${name}"; add it, or leave it out with "columns"`);
        continue;
      }
      if (existing.generated) {
        // The target computes it: written to, it would refuse the row. Left out of the copy (and of verification).
        notWritten.push(col);
        warnings.push(`${tableLabel(targetName)}.${existing.name} is a generated column in the target (${existing.generated.expression}): it is computed there, not copied`);
        if (keyNames.some((k) => k.toLowerCase() === col.name.toLowerCase())) problems.push(`key column "${col.name}" is a generated column in the target, which cannot be written`);
        continue;
      }
      targetCol = existing;
      fit = fitProblem(col.type, existing.type);
    } else if (override) {
      const type = target.parseNativeType(override);
      targetCol = { name, nativeType: override, type, nullable: col.nullable };
      fit = fitProblem(col.type, type);
    } else if (sameNativeType(source, target, col)) {
      // MySQL/MariaDB to MySQL/MariaDB: the column's own type (TINYINT(1) stays what ORMs read as a boolean, TEXT stays TEXT).
      targetCol = { name, nativeType: col.nativeType, type: col.type, nullable: col.nullable };
    } else {
      const mapping = target.mapType(col.type);
      targetCol = { name, nativeType: mapping.nativeType, type: target.parseNativeType(mapping.nativeType), nullable: col.nullable };
      fit = mapping.lossy === undefined ? undefined : { reason: mapping.lossy, changes: true };
    }
    // Values that would be stored changed are refused unless accepted; values that may not fit at all
    // are refused one by one by validation (dead-lettered, never cut), so the plan only says so.
    const lossy = fit?.changes ? fit.reason : undefined;
    // A target that stores any value in any column (SQLite) takes such values whole.
    let mayNotFit = fit && !fit.changes && typedTarget ? fit.reason : undefined;
    let longest: number | undefined;
    if (mayNotFit && targetCol.type.kind === 'text' && targetCol.type.maxLength !== undefined) {
      longest = await longestNow(source, sourceName, sourceInfo, col, t.where);
      if (longest !== undefined) mayNotFit += ` (longest in the source now: ${longest}${longest <= targetCol.type.maxLength ? ', fits' : ''})`;
    }
    if (mayNotFit) {
      warnings.push(`${tableLabel(sourceName)}.${col.name} (${col.nativeType} → ${targetCol.nativeType}): ${mayNotFit}; a row with such a value is dead-lettered with the reason, never cut or changed`);
    }
    // A type override is the user saying "this column, this type": it accepts its loss, on the
    // run that creates the table and on every later run into it.
    const accepted = lossy !== undefined && (t.allowLossy === true || override !== undefined);
    if (lossy && !accepted) {
      problems.push(
        `column "${col.name}" (${col.nativeType} → ${targetCol.nativeType}): ${lossy}; accept it with "allowLossy": true or choose a type with "types": {"${col.name}": "…"}`,
      );
    } else if (lossy) {
      warnings.push(`${tableLabel(sourceName)}.${col.name}: ${lossy} (accepted)`);
    }
    if (col.type.kind === 'any' && targetCol.type.kind !== 'any') {
      warnings.push(`${tableLabel(sourceName)}.${col.name} has no declared type in SQLite; each value must fit ${describeType(targetCol.type)} or the row is rejected`);
    }
    targetColumns.push(targetCol);
    targetOf.set(col.name, targetCol);
    plannedColumns.push({ name: col.name, ...(targetCol.name !== col.name ? { targetName: targetCol.name } : {}), sourceType: col.nativeType || '(none)', targetType: targetCol.nativeType || '(none)', lossy, accepted: lossy ? accepted : undefined, ...(mayNotFit ? { mayNotFit } : {}), ...(longest !== undefined ? { longest } : {}) });
  }

  for (const col of notWritten) columns.splice(columns.indexOf(col), 1);

  if (targetInfo && (mode === 'upsert' || mode === 'mirror')) {
    for (const k of keyNames) {
      if (!findColumn(targetInfo.columns, k)) problems.push(`key column "${k}" is missing in the target table ${tableLabel(targetName)}`);
    }
  }

  if (t.key && !isUniqueKey(sourceInfo, t.key)) {
    warnings.push(
      `${tableLabel(sourceName)}: "key" (${t.key.join(', ')}) is not the primary key or a unique index in the source; ` +
        'rows that share a key are dead-lettered as duplicates, and a resumed run could skip rows sharing the last staged key',
    );
  }
  problems.push(...ruleProblems({ columns, spec: t }));
  const merges = targetInfo ? keyColumns.filter((c): c is Column => c !== undefined).map((c) => targetOf.get(c.name)).filter((d, i) => d && keyFold(d, keyColumns[i])) : [];
  for (const d of merges) warnings.push(mergeWarning(tableLabel(targetName), d!));
  const rebuild = targetInfo ? damageOf(targetInfo, sourceInfo, keyNames, mode, target, warnings) : false;
  // The table rebuilt is created again with the target's generated columns where they were (never written: computed from the rows).
  const rebuiltColumns =
    rebuild && targetInfo!.columns.some((c) => c.generated)
      ? targetInfo!.columns.filter((c) => c.name !== BATCH_COLUMN && c.name !== ROW_COLUMN).map((c) => ({ name: c.name, nativeType: c.nativeType, nullable: c.nullable, ...(c.generated ? { generated: c.generated } : {}) }))
      : undefined;
  const key = keyColumns.filter((c): c is Column => c !== undefined).map((c) => targetOf.get(c.name)?.name ?? c.name);
  const orderBy = keyColumns.every((c) => c) ? keyColumns.map((c) => (c as Column).name) : [];
  const estimate = sourceInfo.rowEstimate;
  // Keys the target's collation would merge are told apart row by row, by validation.
  const rawFormat = merges.length ? undefined : rawFormatFor(t, sourceInfo, columns, targetColumns, source, target);
  const route = problems.length ? { reasons: [] } : await planSwap(target, { mode, targetInfo, targetColumns, key, incremental, targetName });
  const planned: PlannedTable = {
    source: tableLabel(sourceName),
    target: tableLabel(targetName),
    mode,
    key,
    createTarget,
    path: comparePath(
      spec,
      t,
      { createTarget, mode, swap: route.swap },
      route.reasons,
      () => compareEligibility({ createTarget, key, orderBy, columns, targetColumns, incremental } as TablePlan, source, target),
      () => process.env.DBFERRY_ROW_VERSIONS !== '0' && versionsApply({ mode, key, orderBy, columns, targetColumns, incremental } as TablePlan, source, target),
    ),
    estimate,
    ...(incremental ? { incremental: { cursor: incremental.cursor, since: incremental.since === undefined ? undefined : encodeWatermark(incremental.since) } } : {}),
    bytes: sourceInfo.byteEstimate,
    columns: plannedColumns,
    ...(rawFormat ? { fastPath: FAST_PATHS[rawFormat] ?? `${rawFormat} pass-through` } : {}),
    ...partitionNote(sourceInfo, createTarget, target),
  };
  return {
    table: {
      index,
      spec: t,
      mode,
      sourceName,
      targetName,
      sourceLabel: tableLabel(sourceName),
      targetLabel: tableLabel(targetName),
      sourceInfo,
      columns,
      targetColumns,
      key,
      orderBy,
      createTarget,
      ...(rebuild ? { rebuild } : {}),
      ...(rebuiltColumns ? { tableColumns: rebuiltColumns } : {}),
      // A table rebuilt as planned is not swapped: the staged copy would take its damaged shape.
      swap: rebuild ? undefined : route.swap,
      targetInfo,
      estimate,
      incremental,
      rawFormat,
      planned,
    },
    problems,
  };
}

/** The path, and for upsert and mirror into a table that exists whether it is compared before copying (compare.ts), or why not. */
function comparePath(
  spec: JobSpec,
  t: TableSpec,
  plan: Pick<TablePlan, 'createTarget' | 'mode' | 'swap'>,
  reasons: string[],
  eligibility: () => { reason: string } | object,
  versions: () => boolean,
): string {
  const path = describePath(plan, reasons);
  if (plan.createTarget || (plan.mode !== 'upsert' && plan.mode !== 'mirror')) return path;
  if (spec.options.compare === 'never') return `${path} (options.compare "never": every row is staged)`;
  const rules = rulesCheckEveryRow({ spec: t }, spec.options.compare);
  if (rules) return `${path}; every row is staged, not compared first: ${rules}`;
  const e = eligibility();
  if ('reason' in e) return `${path}; every row is staged, not compared first: ${e.reason}`;
  // Between PostgreSQL servers, where the last run recorded where both tables' row versions stood (syncState.ts).
  const written = versions() ? "where the last run's record of both tables' row versions still holds, only the rows written since are staged; else " : '';
  return (
    `delta: ${written}both servers hash key ranges first, and only the ranges that differ are staged; ` +
    `${plan.mode === 'mirror' ? 'keys the source lacks are deleted within them; ' : ''}only rows that differ are written` +
    (spec.options.compare === 'auto' ? ' (the full copy when more than half of the rows differ)' : '')
  );
}

/**
 * The name each column gets in the target: its own, or the spec's "rename".
 * A new table's names must be names the target keeps: PostgreSQL cuts a name
 * past 63 bytes (two long names can become one, which it then refuses as
 * "specified more than once"), MySQL refuses one past 64 characters. Found
 * here, before anything is created, with both columns named.
 */
function targetColumnNames(columns: Column[], t: TableSpec, target: Session, creating: boolean, problems: string[], warnings: string[], table: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const [from, to] of Object.entries(t.rename ?? {})) {
    if (!findColumn(columns, from)) problems.push(`"rename" names a column "${from}" that is not among the copied columns`);
    else names.set(findColumn(columns, from)!.name, to);
  }
  for (const c of columns) if (!names.has(c.name)) names.set(c.name, c.name);
  if (!creating) return names;
  const caps = target.dialect.capabilities;
  const kept = new Map<string, string>();
  for (const c of columns) {
    const name = names.get(c.name)!;
    const cut = caps.truncatesIdentifiers ? truncateBytes(name, caps.maxIdentifierLength) : name;
    const other = kept.get(cut.toLowerCase());
    if (other !== undefined) {
      problems.push(
        `columns "${other}" and "${c.name}" would both be named "${cut}" in the target (it keeps ${caps.maxIdentifierLength} bytes of a name); ` +
          `give one a shorter name with "rename": {"${c.name}": "…"}`,
      );
      continue;
    }
    kept.set(cut.toLowerCase(), c.name);
    if (cut !== name) {
      names.set(c.name, cut);
      warnings.push(`${table}.${c.name}: the target keeps ${caps.maxIdentifierLength} bytes of a name, so the column is created as "${cut}"; choose its name with "rename"`);
    } else if (!caps.truncatesIdentifiers && [...name].length > caps.maxIdentifierLength) {
      problems.push(`column "${c.name}": the target allows names of at most ${caps.maxIdentifierLength} characters; give it a shorter one with "rename": {"${c.name}": "…"}`);
    }
  }
  return names;
}

/** The longest prefix of `name` within `bytes` bytes of UTF-8 that does not split a character, as PostgreSQL cuts it. */
function truncateBytes(name: string, bytes: number): string {
  if (Buffer.byteLength(name) <= bytes) return name;
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}

/**
 * An existing target damaged by dbferry before 0.2 (a new SQLite table with a
 * text key kept dbferry's two columns and lost its key): named in the plan;
 * replace rebuilds it where DDL is transactional. True when it will.
 */
function damageOf(targetInfo: TableInfo, sourceInfo: TableInfo, keyNames: string[], mode: Mode, target: Session, warnings: string[]): boolean {
  const label = tableLabel(targetInfo.name);
  const leftovers = targetInfo.columns.filter((c) => c.name === BATCH_COLUMN || c.name === ROW_COLUMN).map((c) => c.name);
  const keyless = sourceInfo.primaryKey.length > 0 && targetInfo.primaryKey.length === 0 && !targetInfo.uniqueKeys.length && keyNames.length > 0;
  if (!leftovers.length && !keyless) return false;
  const rebuild = mode === 'replace' && target.dialect.capabilities.transactionalDdl;
  const what = [
    ...(leftovers.length ? [`has dbferry's internal columns ${leftovers.join(', ')}, which every SELECT * sees`] : []),
    ...(keyless ? [`has no primary key where the source has (${sourceInfo.primaryKey.join(', ')}), so nothing stops duplicate keys and every upsert into it scans the table`] : []),
  ];
  warnings.push(
    `the target table ${label} ${what.join(', and ')}; ` +
      (rebuild ? 'this replace rebuilds it as planned, in its transaction' : 'run it once with "mode": "replace" to rebuild it (see the README\'s upgrade note)'),
  );
  return rebuild;
}

/** Tables of at most this many rows (the engine's estimate) are scanned for their longest value at plan time. */
export const LONGEST_SCAN_ROWS = 100_000;
const LONGEST_SCAN_BYTES = 16 * 1024 * 1024;

/**
 * The source's longest value of a text column that may not fit the target's
 * width, where that is cheap to know: a small table (by the engine's estimate,
 * else its size: a scan of about LONGEST_SCAN_ROWS rows at most). Undefined otherwise, or when the
 * column holds no text.
 */
async function longestNow(source: Session, table: TableName, info: TableInfo, column: Column, where?: string): Promise<number | undefined> {
  // Without a row estimate (a PostgreSQL table never analyzed), its size on disk tells a small table.
  const small = info.rowEstimate !== undefined ? info.rowEstimate <= LONGEST_SCAN_ROWS : info.byteEstimate !== undefined && info.byteEstimate <= LONGEST_SCAN_BYTES;
  if (!source.longestText || !small) return undefined;
  try {
    return (await source.longestText(table, column, where)) ?? undefined;
  } catch {
    return undefined; // only a hint: the plan goes on without it
  }
}

/**
 * A table's "encoding": its SQLite source's text columns are read as bytes and
 * decoded from it (textEncoding.ts), also when verifying. Key columns are read
 * as stored: reads page by key, in the source's own byte order. Other engines
 * send text in the connection's character set already (a MySQL latin1 column
 * arrives as UTF-8), so the option is refused there.
 */
function decodeAs(t: TableSpec, keyNames: string[], source: Session, columns: Column[], problems: string[], warnings: string[], table: string): void {
  if (source.dialect.engine !== 'sqlite') {
    problems.push(
      `"encoding" decodes the text of a SQLite source; ${source.dialect.engine === 'mysql' ? 'MySQL/MariaDB converts a latin1 column to UTF-8 itself when it sends it' : 'PostgreSQL sends text in the connection\'s encoding (UTF-8) itself'}: remove "encoding" from ${table}`,
    );
    return;
  }
  const keys = new Set(keyNames.map((k) => k.toLowerCase()));
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    if (c.type.kind !== 'text' && c.type.kind !== 'any') continue;
    if (keys.has(c.name.toLowerCase())) {
      warnings.push(`${table}.${c.name} is a key column: it is read as stored, not decoded from ${t.encoding} (its text must be UTF-8)`);
      continue;
    }
    columns[i] = { ...c, encoding: t.encoding };
  }
}

/** The format a table passes through in, the first the source reads and the target writes that fits every column; none: rows are decoded. */
function rawFormatFor(t: TableSpec, sourceInfo: TableInfo, columns: Column[], targetColumns: Column[], source: Session, target: Session): string | undefined {
  if (!target.rawCompatible) return undefined;
  if (Object.keys(t.rules ?? {}).length || t.incremental || t.encoding || (t.key && !isUniqueKey(sourceInfo, t.key))) return undefined;
  if (columns.length !== targetColumns.length) return undefined;
  const fits = (format: string) =>
    columns.every((c, i) => {
      const d = targetColumns[i];
      return (
        c.type.kind !== 'any' &&
        // Every value of the source type fits the target type.
        fitReason(c.type, d.type) === undefined &&
        (source.rawReadable?.(c, format) ?? true) &&
        target.rawCompatible!(c, d, format) &&
        // A NULL the source may hold must fit too.
        (d.nullable || !c.nullable)
      );
    });
  const takes = (format: string) => (source.readRaw && target.writeRaw && target.rawWrites?.includes(format)) || (target.pullRaw && target.rawPulls?.includes(format));
  return source.rawReads?.find((format) => takes(format) && fits(format));
}

/** How the plan shows a pass-through. */
const FAST_PATHS: Record<string, string> = {
  'postgres-binary': 'binary COPY pass-through (same types on both sides)',
  'sqlite-file': 'SQLite copies the rows itself from the attached source file (INSERT … SELECT; every value checked as validation would)',
  'json-rows': 'JSON pass-through: the source builds each row as JSON, SQLite parses and stores it, never decoded here (every value fits as it is)',
  tsv: 'text pass-through: the source’s bulk read into the target’s bulk load as text, never decoded (every value fits as it is)',
};

/** The cursor must be copied (its largest value becomes the watermark) and ordered the same way everywhere. */
async function planIncremental(
  cursorName: string,
  sourceInfo: TableInfo,
  columns: Column[],
  spec: JobSpec,
  sourceName: TableName,
  targetName: TableName,
  target: Session,
  problems: string[],
): Promise<IncrementalPlan | undefined> {
  const cursor = findColumn(sourceInfo.columns, cursorName);
  if (!cursor) {
    problems.push(`incremental cursor column "${cursorName}" is not in ${tableLabel(sourceName)}`);
    return undefined;
  }
  if (!findColumn(columns, cursor.name)) {
    problems.push(`incremental cursor column "${cursor.name}" must be among the copied "columns" (its largest value becomes the watermark)`);
    return undefined;
  }
  const typeProblem = cursorTypeProblem(cursor.type);
  if (typeProblem) {
    problems.push(`incremental cursor "${cursor.name}" (${cursor.nativeType}): ${typeProblem}`);
    return undefined;
  }
  const flow = flowId(spec.source.url, tableLabel(sourceName), cursor.name, tableLabel(targetName));
  const stored = await readWatermark(target, targetName.schema, flow);
  return { cursor: cursor.name, flow, since: stored === undefined ? undefined : decodeWatermark(stored, cursor.type) };
}

export function assertPlanOk(plan: Plan): void {
  const all = [...plan.problems, ...plan.accessProblems];
  if (all.length === 0) return;
  const list = `\n  - ${all.join('\n  - ')}`;
  if (plan.problems.length) throw new FerryError('spec', `the job does not fit these databases; nothing was changed:${list}`);
  throw new FerryError('connection', `the database users may not do what this job needs; nothing was changed:${list}`);
}

/**
 * Between two MySQL/MariaDB servers a new column takes the source's own type where the target
 * reads it as the same logical type: the mapping from the logical type would widen TEXT to
 * MEDIUMTEXT (its limit is counted in bytes, the mapping's in characters) and make TINYINT(1) a
 * plain TINYINT. PostgreSQL's and SQLite's types go through the mapping (domains, arrays and
 * user-defined types need objects the target may not have).
 */
function sameNativeType(source: Session, target: Session, col: Column): boolean {
  if (source.dialect.engine !== 'mysql' || target.dialect.engine !== 'mysql' || !col.nativeType) return false;
  try {
    return JSON.stringify(target.parseNativeType(col.nativeType)) === JSON.stringify(col.type);
  } catch {
    return false;
  }
}
