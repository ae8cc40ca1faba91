/** What the source's schema has that a target table which exists already lacks: listed in the plan, never added by itself. */
import type { PlannedSchemaItem } from '../../../shared/events.js';
import type { TableSchema } from './model.js';

const key = (columns: string[]) => columns.map((c) => c.toLowerCase()).join(',');

export function missingInTarget(source: TableSchema, target: TableSchema, targetPrimaryKey: string[]): PlannedSchemaItem[] {
  const out: PlannedSchemaItem[] = [];
  const note = 'the target table exists: dbferry does not change it; add it by hand if the application needs it';
  const indexed = new Set([key(targetPrimaryKey), ...target.indexes.map((i) => key(i.columns.map((c) => c.name)))]);
  for (const index of source.indexes) {
    const columns = index.columns.map((c) => c.name);
    if (index.expression || indexed.has(key(columns))) continue;
    out.push({ object: index.unique ? 'unique index' : 'index', name: index.name, detail: columns.join(', '), fate: 'missing', note });
  }
  const referencing = new Set(target.foreignKeys.map((f) => key(f.columns)));
  for (const fk of source.foreignKeys) {
    if (referencing.has(key(fk.columns))) continue;
    out.push({ object: 'foreign key', name: fk.name, detail: `(${fk.columns.join(', ')}) → ${fk.references.name} (${fk.referencedColumns.join(', ')})`, fate: 'missing', note });
  }
  const defaulted = new Set(target.defaults.map((d) => d.column.toLowerCase()));
  for (const d of source.defaults) {
    if (d.value?.kind === 'null' || defaulted.has(d.column.toLowerCase())) continue;
    out.push({ object: 'default', name: d.column, detail: `${d.column} DEFAULT ${d.expression}`, fate: 'missing', note });
  }
  const stamped = new Set(target.onUpdateNow.map((c) => c.toLowerCase()));
  for (const c of source.onUpdateNow) {
    if (!stamped.has(c.toLowerCase())) out.push({ object: 'on update', name: c, detail: `${c} ON UPDATE CURRENT_TIMESTAMP`, fate: 'missing', note });
  }
  if (source.generatedKey && !target.generatedKey) {
    out.push({ object: 'generated key', name: source.generatedKey.column, detail: `${source.generatedKey.column}, ${source.generatedKey.kind}`, fate: 'missing', note });
  }
  return out;
}
