/**
 * Translation: each table the run creates gets its source's indexes, unique
 * and foreign keys, defaults and generated key in the target's terms. Every
 * object is carried as it is, carried with a named adaptation, or not carried
 * with the reason; the plan lists each (PlannedTable.schema), and what is not
 * carried is also a warning. Nothing here touches the target.
 */
import type { JobSpec } from '../../../shared/jobSpec.js';
import type { PlannedSchemaItem } from '../../../shared/events.js';
import type { Session } from '../dialects/dialect.js';
import { errorMessage } from '../errors.js';
import { tableLabel, type Column, type TableName } from '../types.js';
import type { TablePlan } from '../pipeline/plan.js';
import { NameSpace } from './defaults.js';
import type { IndexDef, SchemaSupport, TableSchema, TableWork, TargetForeignKey } from './model.js';
import type { ColumnDef } from '../dialects/dialect.js';
import { expressionColumns, translateExpression, type Engine } from './expressions.js';
import { missingInTarget } from './compare.js';

interface Planning {
  plan: TablePlan;
  schema: TableSchema;
  work: TableWork;
  items: PlannedSchemaItem[];
  /** Warnings besides the objects not carried (a generated column made plain, a unique index that stops ignoring case). */
  warnings: string[];
}

/** What planTable needs to know of the run besides the table. */
interface Context {
  to: SchemaSupport;
  from: Engine;
  into: Engine;
  sameEngine: boolean;
  target: Session;
  options: JobSpec['options'];
}

export async function planSchemas(tables: TablePlan[], spec: JobSpec, source: Session, target: Session, warnings: string[]): Promise<void> {
  if (spec.options.schema !== 'full' || tables.length === 0) return;
  const from = source.dialect.schema;
  const to = target.dialect.schema;
  if (!from || !to) {
    warnings.push(`indexes, foreign keys, defaults and generated keys are not carried between ${source.dialect.engine} and ${target.dialect.engine}`);
    return;
  }
  const creating = tables.filter((t) => t.createTarget);
  const planning: Planning[] = [];
  for (const plan of tables) {
    // A table that exists: its target side is read at the same time as the source's (two connections, one round trip each query instead of two).
    const existing = plan.createTarget ? undefined : settle(to.readTable(target, plan.targetName));
    let schema: TableSchema;
    try {
      schema = await from.readTable(source, plan.sourceName);
    } catch (err) {
      await existing;
      warnings.push(`${plan.sourceLabel}: could not read its indexes, keys and defaults (${errorMessage(err)}); only its columns and primary key are carried`);
      continue;
    }
    if (existing) {
      listMissing(plan, schema, await existing, warnings);
      continue;
    }
    planning.push({ plan, schema, work: emptyWork(plan), items: [], warnings: [] });
  }
  const max = target.dialect.capabilities.maxIdentifierLength;
  const shared = new NameSpace(max);
  // Names that are taken in the target's namespace: the tables, and PostgreSQL's primary key indexes.
  for (const t of tables) shared.reserve(t.targetName.name);
  for (const t of creating) shared.reserve(`${t.targetName.name.slice(0, 58)}_pkey`);
  const foreignKeyNames = new NameSpace(max);
  // Names are only given to what a created table gets: with none created (a sync into tables that exist), the list is not needed.
  try {
    for (const name of planning.length ? await to.takenNames(target, creating[0]?.targetName.schema) : []) {
      shared.reserve(name);
      foreignKeyNames.reserve(name);
    }
  } catch (err) {
    warnings.push(`could not list the target's names in use (${errorMessage(err)}); an index name that is taken fails the run, which is rolled back`);
  }
  const context: Context = { to, from: source.dialect.engine, into: target.dialect.engine, sameEngine: source.dialect.engine === target.dialect.engine, target, options: spec.options };
  for (const p of planning) planTable(p, context, to.indexNamesPerTable ? new NameSpace(max) : shared);
  for (const p of planning) planForeignKeys(p, planning, tables, to, foreignKeyNames);
  for (const p of planning) {
    leaveOutGenerated(p);
    p.plan.schemaWork = p.work;
    p.plan.planned.schema = p.items;
    for (const item of p.items) {
      if (item.fate === 'not carried') warnings.push(`${p.plan.targetLabel}: ${item.object} ${item.name} (${item.detail}) is not carried: ${item.note}`);
    }
    warnings.push(...p.warnings);
  }
  // A migration's concern: a sync into tables that exist is not told again each run.
  if (creating.length) await listOtherObjects(source, from, tables, warnings);
}

function emptyWork(plan: TablePlan): TableWork {
  return { table: plan.targetName, columns: plan.targetColumns, primaryKey: plan.key, defaults: [], indexes: [], foreignKeys: [], onUpdateNow: [], enumChecks: [], checks: [], comments: [] };
}

/**
 * The generated columns the target computes are not copied: out of the
 * columns the run reads, writes and verifies (once every object that names
 * them is planned). The table is created with them (plan.tableColumns).
 */
function leaveOutGenerated({ plan, work }: Planning): void {
  if (!plan.tableColumns) return;
  for (const c of plan.tableColumns) {
    if (!c.generated) continue;
    const i = plan.targetColumns.findIndex((t) => t.name === c.name);
    if (i < 0) continue;
    plan.columns.splice(i, 1);
    plan.targetColumns.splice(i, 1);
  }
  work.columns = plan.targetColumns;
  work.tableColumns = plan.tableColumns;
}

/**
 * A source's generated column: created as one where its expression is
 * carried (as written between engines of one kind, else translated when
 * simple enough to mean the same), else a plain column of the source's values.
 */
function planGenerated({ plan, work, items, warnings }: Planning, ctx: Context, verbatim: boolean): void {
  const carried = new Map<string, ColumnDef>();
  plan.columns.forEach((c, i) => {
    if (!c.generated) return;
    const into = plan.targetColumns[i];
    const g = c.generated;
    const detail = `${c.name} AS (${g.expression}) ${g.stored ? 'STORED' : 'VIRTUAL'}`;
    const plain = (why: string) => {
      const note = `created as a plain column holding the source's values: ${why}`;
      items.push({ object: 'generated column', name: into.name, detail, fate: 'adapted', note });
      warnings.push(`${plan.targetLabel}.${into.name}: the generated column (${g.expression}) is ${note}`);
    };
    if (!g.expression) return plain('its expression could not be read from the source');
    if (plan.key.includes(into.name)) return plain('it is part of the key rows are matched by');
    if (plan.incremental?.cursor === c.name) return plain('it is the incremental cursor');
    if (plan.spec.rules?.[c.name]) return plain('a rule checks its values');
    let sql: string;
    if (ctx.sameEngine) {
      if (!verbatim) return plain('its expression names columns by their source names, and not every column is copied under its own');
      sql = g.expression;
    } else {
      const t = translateExpression(g.expression, ctx.from, ctx.into, plan.columns, (n) => targetColumn(plan, n)?.name ?? n, (n) => ctx.target.quoteIdentifier(n));
      if ('reason' in t) return plain(t.reason);
      sql = t.sql;
    }
    const key = work.generatedKey;
    if (ctx.into === 'mysql' && key && (expressionColumns(sql, 'mysql') ?? []).some((n) => n.toLowerCase() === key.column.toLowerCase())) {
      return plain(`MySQL computes no generated column from the AUTO_INCREMENT column ${key.column}`);
    }
    // PostgreSQL before 18 has stored generated columns only.
    const stored = ctx.into === 'postgres' ? true : g.stored;
    carried.set(into.name, { name: into.name, nativeType: into.nativeType, nullable: into.nullable, generated: { expression: sql, stored } });
    const notes = [
      ...(ctx.sameEngine ? [] : [`AS (${sql})`]),
      ...(stored !== g.stored ? ['STORED: PostgreSQL computes generated columns when a row is written'] : []),
      'computed by the target, not copied',
    ];
    items.push({ object: 'generated column', name: into.name, detail, fate: notes.length > 1 ? 'adapted' : 'carried', note: notes.join('; ') });
  });
  if (carried.size) plan.tableColumns = plan.targetColumns.map((c) => carried.get(c.name) ?? { name: c.name, nativeType: c.nativeType, nullable: c.nullable });
}

/** Table and column comments: carried where the target keeps comments. */
function planComments({ plan, schema, work, items }: Planning, to: SchemaSupport): void {
  for (const c of schema.comments) {
    const column = c.column === undefined ? undefined : targetColumn(plan, c.column);
    if (c.column !== undefined && !column) continue;
    const name = column?.name ?? plan.targetName.name;
    const detail = `${column ? 'column' : 'table'} comment '${c.text.length > 60 ? `${c.text.slice(0, 57)}…` : c.text}'`;
    if (to.commentsProblem) items.push({ object: 'comment', name, detail, fate: 'not carried', note: to.commentsProblem });
    else {
      work.comments.push({ ...(column ? { column: column.name } : {}), text: c.text });
      items.push({ object: 'comment', name, detail, fate: 'carried' });
    }
  }
}

/**
 * A primary key over MySQL text of a _ci collation: case-sensitive in the
 * target, flagged; with caseInsensitiveUnique "lower", a unique index on the
 * folded key beside it keeps 'A' out where 'a' is.
 */
function planCaseInsensitiveKey({ plan, work, items, warnings }: Planning, ctx: Context, names: NameSpace): void {
  if (ctx.from !== 'mysql' || ctx.into === 'mysql' || plan.key.length === 0) return;
  const source = plan.key.map((k) => plan.columns[plan.targetColumns.findIndex((c) => c.name === k)]);
  const folded = source.filter((c): c is Column => c !== undefined && c.type.kind === 'text' && /_ci$/i.test(c.collation ?? ''));
  if (!folded.length) return;
  const collations = [...new Set(folded.map((c) => c.collation!))].join(', ');
  const detail = `primary key (${plan.key.join(', ')})`;
  if (ctx.options.caseInsensitiveUnique !== 'lower') {
    const note = `case-sensitive in the target, where MySQL's ${collations} ignored case on ${folded.map((c) => c.name).join(', ')}: 'a' and 'A' may both be stored; options.caseInsensitiveUnique "lower" adds a unique index that keeps them apart`;
    items.push({ object: 'unique index', name: 'primary key', detail, fate: 'adapted', note });
    warnings.push(`${plan.targetLabel}: the primary key is ${note}`);
    return;
  }
  const foldedNames = new Set(folded.map((c) => targetColumn(plan, c.name)!.name));
  const name = names.take(`${plan.targetName.name.slice(0, 40)}_key_folded`, plan.targetName.name);
  work.indexes.push({ name, unique: true, columns: plan.key.map((k) => ({ name: k, ...(foldedNames.has(k) ? { folded: true } : {}) })) });
  const how = ctx.into === 'sqlite' ? `${[...foldedNames].join(', ')} COLLATE NOCASE (ASCII letters only)` : `lower(${[...foldedNames].join('), lower(')})`;
  items.push({ object: 'unique index', name, detail, fate: 'adapted', note: `a unique index on ${how} beside the primary key, as ${collations} ignored case in MySQL` });
}

/**
 * A unique index over text a MySQL _ci collation compared regardless of case
 * becomes case-sensitive where the target compares text as it is: flagged,
 * and, with options.caseInsensitiveUnique "lower", folded in the target.
 */
function caseInsensitive(plan: TablePlan, index: IndexDef, ctx: Context): { columns: string[]; collations: string[] } | undefined {
  if (!index.unique || ctx.from !== 'mysql' || ctx.into === 'mysql' || index.expression) return undefined;
  const found = index.columns.map((c) => plan.columns.find((x) => x.name === c.name)).filter((c): c is Column => c !== undefined && c.type.kind === 'text' && /_ci$/i.test(c.collation ?? ''));
  if (!found.length) return undefined;
  return { columns: found.map((c) => c.name), collations: [...new Set(found.map((c) => c.collation!))] };
}

/** The target column a source column becomes, if the run copies it. */
function targetColumn(plan: TablePlan, name: string): Column | undefined {
  const i = plan.columns.findIndex((c) => c.name === name);
  return i < 0 ? undefined : plan.targetColumns[i];
}

function planTable(planning: Planning, ctx: Context, names: NameSpace): void {
  const { plan, schema, work, items, warnings } = planning;
  const { to, sameEngine } = ctx;
  // Between engines of one kind, what is written in the engine's own SQL (a CHECK, an expression index) is carried as
  // written: only when every column is copied under its own name, which that text names.
  const verbatim = sameEngine && plan.columns.length === plan.sourceInfo.columns.length && plan.columns.every((c, i) => plan.targetColumns[i].name === c.name);
  const table = plan.targetName.name;
  const key = schema.generatedKey;
  if (key) {
    const column = targetColumn(plan, key.column);
    const detail = `${key.column}, ${key.kind}${key.next !== undefined ? `, next ${key.next}` : ''}`;
    const fit = column ? to.adaptGeneratedKey(column, plan.key, key.kind) : { reason: `column ${key.column} is not copied` };
    if ('reason' in fit) items.push({ object: 'generated key', name: key.column, detail, fate: 'not carried', note: fit.reason });
    else {
      work.generatedKey = { column: column!.name, next: key.next, from: key.kind };
      items.push({ object: 'generated key', name: column!.name, detail, fate: fit.adaptation ? 'adapted' : 'carried', ...(fit.adaptation ? { note: `${fit.adaptation}, continuing at ${key.next ?? 'the largest key + 1'}` } : {}) });
    }
  }
  planGenerated(planning, ctx, verbatim);
  planComments(planning, to);
  for (const d of schema.defaults) {
    const column = targetColumn(plan, d.column);
    if (!column || d.value?.kind === 'null') continue;
    const detail = `${d.column} DEFAULT ${d.expression}`;
    if (!d.value) {
      items.push({ object: 'default', name: d.column, detail, fate: 'not carried', note: `the expression ${d.expression} is not one dbferry translates; set it by hand if the application needs it` });
      continue;
    }
    const rendered = to.renderDefault(d.value, column);
    if ('reason' in rendered) items.push({ object: 'default', name: d.column, detail, fate: 'not carried', note: rendered.reason });
    else {
      work.defaults.push({ column: column.name, sql: rendered.sql });
      const same = rendered.sql.toLowerCase() === d.expression.toLowerCase();
      items.push({ object: 'default', name: column.name, detail, fate: same ? 'carried' : 'adapted', ...(same ? {} : { note: `DEFAULT ${rendered.sql}` }) });
    }
  }
  // An ENUM the target holds as text: its labels become a CHECK (into MySQL it stays an ENUM).
  plan.columns.forEach((c, i) => {
    const into = plan.targetColumns[i];
    if (c.type.kind !== 'enum' || into.type.kind === 'enum' || into.type.kind !== 'text') return;
    const name = `${table.slice(0, 40)}_${into.name.slice(0, 16)}_check`;
    work.enumChecks.push({ name, column: into.name, values: c.type.values });
    items.push({ object: 'check', name, detail: `${into.name} IN (${c.type.values.map((v) => `'${v}'`).join(', ')})`, fate: 'adapted', note: `${c.nativeType} becomes ${into.nativeType} with a CHECK on its labels` });
  });
  for (const name of schema.onUpdateNow) {
    const column = targetColumn(plan, name);
    const detail = `${name} ON UPDATE CURRENT_TIMESTAMP`;
    const fit = column ? to.adaptOnUpdateNow(column) : { reason: `column ${name} is not copied` };
    if ('reason' in fit) items.push({ object: 'on update', name, detail, fate: 'not carried', note: fit.reason });
    else {
      work.onUpdateNow.push(column!.name);
      items.push({ object: 'on update', name: column!.name, detail, fate: 'adapted', note: fit.adaptation });
    }
  }
  // The target's primary key (the job's "key" where it names one), in source names.
  const pk = new Set(plan.key.map((k) => plan.columns[plan.targetColumns.findIndex((c) => c.name === k)]?.name ?? k));
  for (const index of schema.indexes) {
    const object = index.unique ? 'unique index' : 'index';
    const detail = index.columns.map((c) => `${c.name}${c.prefix !== undefined ? `(${c.prefix})` : ''}${c.descending ? ' DESC' : ''}`).join(', ') || '(expression)';
    // The primary key is already there; a unique index on the same columns would only repeat it.
    if (index.unique && !index.expression && !index.partial && index.columns.length === pk.size && index.columns.every((c) => pk.has(c.name) && c.prefix === undefined)) continue;
    const missing = index.columns.find((c) => !targetColumn(plan, c.name));
    if (missing) {
      items.push({ object, name: index.name, detail, fate: 'not carried', note: `column ${missing.name} is not copied` });
      continue;
    }
    const columns = index.columns.map((c) => targetColumn(plan, c.name)!);
    const renamed = { ...index, columns: index.columns.map((c, i) => ({ ...c, name: columns[i].name })) };
    // Rebuilt from its own text only over columns of the same type (a tsvector held as text has no GiST operator class).
    const sameTypes = index.columns.every((c) => {
      const i = plan.columns.findIndex((x) => x.name === c.name);
      return i >= 0 && plan.columns[i].nativeType.toLowerCase() === plan.targetColumns[i].nativeType.toLowerCase();
    });
    const fit = to.adaptIndex(renamed, plan.targetColumns, verbatim && sameTypes);
    if ('reason' in fit) {
      const retyped = verbatim && !sameTypes ? index.columns.map((c) => plan.columns.findIndex((x) => x.name === c.name)).find((i) => plan.columns[i].nativeType.toLowerCase() !== plan.targetColumns[i].nativeType.toLowerCase()) : undefined;
      const why = retyped === undefined ? '' : `${plan.targetColumns[retyped].name} is ${plan.targetColumns[retyped].nativeType} in the target (${plan.columns[retyped].nativeType} in the source), so the index is not rebuilt as written: `;
      items.push({ object, name: index.name, detail, fate: 'not carried', note: why + fit.reason });
      continue;
    }
    const name = names.take(index.name, table);
    const built = { ...fit.index, name };
    const notes = [...(name !== index.name ? [`named ${name} (${index.name} is taken or too long)`] : []), ...(fit.adaptation ? [fit.adaptation] : [])];
    const ci = caseInsensitive(plan, index, ctx);
    if (ci && ctx.options.caseInsensitiveUnique === 'lower') {
      const folded = new Set(ci.columns.map((c) => targetColumn(plan, c)!.name));
      built.columns = built.columns.map((c) => (folded.has(c.name) ? { ...c, folded: true } : c));
      notes.push(
        ctx.into === 'sqlite'
          ? `${[...folded].join(', ')} COLLATE NOCASE, as ${ci.collations.join(', ')} ignored case in MySQL (NOCASE folds ASCII letters only)`
          : `on lower(${[...folded].join('), lower(')}), as ${ci.collations.join(', ')} ignored case in MySQL (lower() folds case, not accents)`,
      );
    } else if (ci) {
      const note = `case-sensitive in the target, where MySQL's ${ci.collations.join(', ')} ignored case on ${ci.columns.join(', ')}: 'a' and 'A' may both be stored; options.caseInsensitiveUnique "lower" keeps them apart`;
      notes.push(note);
      warnings.push(`${plan.targetLabel}: unique index ${name} is ${note}`);
    }
    work.indexes.push(built);
    items.push({ object, name, detail, fate: notes.length ? 'adapted' : 'carried', ...(notes.length ? { note: notes.join('; ') } : {}) });
  }
  planCaseInsensitiveKey(planning, ctx, names);
  for (const check of schema.checks) {
    if (verbatim && /^CHECK\s*\(/i.test(check.expression)) {
      work.checks.push(check);
      items.push({ object: 'check', name: check.name, detail: check.expression, fate: 'carried' });
    } else items.push({ object: 'check', name: check.name, detail: check.expression, fate: 'not carried', note: 'CHECK constraints are carried between engines of one kind only (and with every column copied)' });
  }
  for (const trigger of schema.triggers) items.push({ object: 'trigger', name: trigger, detail: 'trigger', fate: 'not carried', note: 'triggers are code in the source engine’s language: rewrite it for the target' });
}

function sameTable(a: TableName, b: TableName): boolean {
  return a.name === b.name && (a.schema === undefined || b.schema === undefined || a.schema === b.schema);
}

function planForeignKeys({ plan, schema, work, items }: Planning, planning: Planning[], tables: TablePlan[], to: SchemaSupport, names: NameSpace): void {
  for (const fk of schema.foreignKeys) {
    const detail = `(${fk.columns.join(', ')}) → ${tableLabel(fk.references)} (${fk.referencedColumns.join(', ')})${fk.onDelete !== 'NO ACTION' ? ` ON DELETE ${fk.onDelete}` : ''}${fk.onUpdate !== 'NO ACTION' ? ` ON UPDATE ${fk.onUpdate}` : ''}`;
    const not = (note: string) => items.push({ object: 'foreign key', name: fk.name, detail, fate: 'not carried', note });
    const parentPlan = tables.find((t) => sameTable(t.sourceName, fk.references));
    if (!parentPlan) {
      not(`it references ${tableLabel(fk.references)}, which this run does not copy`);
      continue;
    }
    const parent = planning.find((p) => p.plan === parentPlan);
    if (!parent) {
      not(`${parentPlan.targetLabel} exists in the target already: add the key by hand once its rows are checked`);
      continue;
    }
    const missing = fk.columns.find((c) => !targetColumn(plan, c)) ?? fk.referencedColumns.find((c) => !targetColumn(parentPlan, c));
    if (missing) {
      not(`column ${missing} is not copied`);
      continue;
    }
    const columns = fk.columns.map((c) => targetColumn(plan, c)!.name);
    const referenced = fk.referencedColumns.map((c) => targetColumn(parentPlan, c)!.name);
    const sameSet = (a: string[]) => a.length === referenced.length && a.every((c) => referenced.includes(c));
    const unique = sameSet(parentPlan.key) || parent.work.indexes.some((i) => i.unique && !i.native && i.columns.every((c) => c.prefix === undefined && !c.folded) && sameSet(i.columns.map((c) => c.name)));
    if (!unique) {
      not(`the target has no primary key or unique index on ${parentPlan.targetLabel} (${referenced.join(', ')}) for it to reference`);
      continue;
    }
    const typeProblem = to.foreignKeyProblem?.(
      columns.map((c) => plan.targetColumns.find((t) => t.name === c)!),
      referenced.map((c) => parentPlan.targetColumns.find((t) => t.name === c)!),
    );
    if (typeProblem) {
      not(typeProblem);
      continue;
    }
    const notes: string[] = [];
    const action = (a: typeof fk.onDelete, on: string) => {
      if (!to.unsupportedActions.includes(a)) return a;
      notes.push(`ON ${on} ${a} becomes NO ACTION: the target does not support it`);
      return 'NO ACTION' as const;
    };
    const name = names.take(fk.name, plan.targetName.name);
    if (name !== fk.name) notes.push(`named ${name} (${fk.name} is taken or too long)`);
    const built: TargetForeignKey = { name, columns, references: parentPlan.targetName, referencedColumns: referenced, onDelete: action(fk.onDelete, 'DELETE'), onUpdate: action(fk.onUpdate, 'UPDATE') };
    work.foreignKeys.push(built);
    items.push({ object: 'foreign key', name, detail, fate: notes.length ? 'adapted' : 'carried', ...(notes.length ? { note: notes.join('; ') } : {}) });
  }
}

/** Existing targets are not changed: the plan lists what the source has and they lack. */
/** A promise's outcome, never rejected: what is read ahead is waited for even when the other side failed. */
function settle<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function listMissing(plan: TablePlan, schema: TableSchema, read: { value: TableSchema } | { error: unknown }, warnings: string[]): void {
  if ('error' in read) {
    warnings.push(`${plan.targetLabel}: could not read the target's indexes and keys (${errorMessage(read.error)})`);
    return;
  }
  const existing = read.value;
  const items = missingInTarget(schema, existing, plan.targetInfo?.primaryKey ?? []);
  if (items.length) plan.planned.schema = items;
}

async function listOtherObjects(source: Session, from: SchemaSupport, tables: TablePlan[], warnings: string[]): Promise<void> {
  try {
    const others = await from.otherObjects(source, tables[0]?.sourceName.schema);
    if (others.length) warnings.push(`not carried (dbferry copies tables): ${others.map((o) => `${o.kind} ${o.name}`).join(', ')}`);
  } catch (err) {
    warnings.push(`could not list the source's views, triggers and routines (${errorMessage(err)})`);
  }
}
