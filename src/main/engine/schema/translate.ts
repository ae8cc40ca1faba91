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
import type { SchemaSupport, TableSchema, TableWork, TargetForeignKey } from './model.js';
import { missingInTarget } from './compare.js';

interface Planning {
  plan: TablePlan;
  schema: TableSchema;
  work: TableWork;
  items: PlannedSchemaItem[];
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
    let schema: TableSchema;
    try {
      schema = await from.readTable(source, plan.sourceName);
    } catch (err) {
      warnings.push(`${plan.sourceLabel}: could not read its indexes, keys and defaults (${errorMessage(err)}); only its columns and primary key are carried`);
      continue;
    }
    if (!plan.createTarget) {
      await listMissing(plan, schema, target, to, warnings);
      continue;
    }
    planning.push({ plan, schema, work: emptyWork(plan), items: [] });
  }
  const max = target.dialect.capabilities.maxIdentifierLength;
  const shared = new NameSpace(max);
  // Names that are taken in the target's namespace: the tables, and PostgreSQL's primary key indexes.
  for (const t of tables) shared.reserve(t.targetName.name);
  for (const t of creating) shared.reserve(`${t.targetName.name.slice(0, 58)}_pkey`);
  const foreignKeyNames = new NameSpace(max);
  try {
    for (const name of await to.takenNames(target, creating[0]?.targetName.schema)) {
      shared.reserve(name);
      foreignKeyNames.reserve(name);
    }
  } catch (err) {
    warnings.push(`could not list the target's names in use (${errorMessage(err)}); an index name that is taken fails the run, which is rolled back`);
  }
  const sameEngine = source.dialect.engine === target.dialect.engine;
  for (const p of planning) planTable(p, to, to.indexNamesPerTable ? new NameSpace(max) : shared, sameEngine);
  for (const p of planning) planForeignKeys(p, planning, tables, to, foreignKeyNames);
  for (const p of planning) {
    p.plan.schemaWork = p.work;
    p.plan.planned.schema = p.items;
    for (const item of p.items) {
      if (item.fate === 'not carried') warnings.push(`${p.plan.targetLabel}: ${item.object} ${item.name} (${item.detail}) is not carried: ${item.note}`);
    }
  }
  // A migration's concern: a sync into tables that exist is not told again each run.
  if (creating.length) await listOtherObjects(source, from, tables, warnings);
}

function emptyWork(plan: TablePlan): TableWork {
  return { table: plan.targetName, columns: plan.targetColumns, primaryKey: plan.key, defaults: [], indexes: [], foreignKeys: [], onUpdateNow: [], enumChecks: [], checks: [] };
}

/** The target column a source column becomes, if the run copies it. */
function targetColumn(plan: TablePlan, name: string): Column | undefined {
  const i = plan.columns.findIndex((c) => c.name === name);
  return i < 0 ? undefined : plan.targetColumns[i];
}

function planTable({ plan, schema, work, items }: Planning, to: SchemaSupport, names: NameSpace, sameEngine: boolean): void {
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
    const fit = to.adaptIndex(renamed, plan.targetColumns, verbatim);
    if ('reason' in fit) {
      items.push({ object, name: index.name, detail, fate: 'not carried', note: fit.reason });
      continue;
    }
    const name = names.take(index.name, table);
    work.indexes.push({ ...fit.index, name });
    const notes = [...(name !== index.name ? [`named ${name} (${index.name} is taken or too long)`] : []), ...(fit.adaptation ? [fit.adaptation] : [])];
    items.push({ object, name, detail, fate: notes.length ? 'adapted' : 'carried', ...(notes.length ? { note: notes.join('; ') } : {}) });
  }
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
    const unique = sameSet(parentPlan.key) || parent.work.indexes.some((i) => i.unique && i.columns.every((c) => c.prefix === undefined) && sameSet(i.columns.map((c) => c.name)));
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
async function listMissing(plan: TablePlan, schema: TableSchema, target: Session, to: SchemaSupport, warnings: string[]): Promise<void> {
  let existing: TableSchema;
  try {
    existing = await to.readTable(target, plan.targetName);
  } catch (err) {
    warnings.push(`${plan.targetLabel}: could not read the target's indexes and keys (${errorMessage(err)})`);
    return;
  }
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
