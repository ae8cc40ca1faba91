import type { TableInfo } from '../types.js';

/**
 * Order tables so that a referenced table comes before the tables that
 * reference it (parents first). Cycles keep their input order.
 */
export function parentsFirst<T>(items: T[], info: (item: T) => TableInfo | undefined, nameOf: (item: T) => string): T[] {
  const byName = new Map(items.map((it) => [nameOf(it).toLowerCase(), it]));
  const visited = new Set<T>();
  const visiting = new Set<T>();
  const out: T[] = [];
  const visit = (item: T) => {
    if (visited.has(item) || visiting.has(item)) return;
    visiting.add(item);
    for (const fk of info(item)?.foreignKeys ?? []) {
      const parent = byName.get(fk.references.name.toLowerCase());
      if (parent && parent !== item) visit(parent);
    }
    visiting.delete(item);
    visited.add(item);
    out.push(item);
  };
  items.forEach(visit);
  return out;
}
