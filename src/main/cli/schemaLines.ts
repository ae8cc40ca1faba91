import type { PlannedSchemaItem } from '../../shared/events.js';

const FATES: Record<PlannedSchemaItem['fate'], string> = { carried: 'carried', adapted: 'adapted', 'not carried': 'NOT CARRIED', missing: 'MISSING in the target' };

/** A table's schema objects in `dbferry plan`: one line each, with its fate and why. */
export function schemaLines(items: PlannedSchemaItem[]): string[] {
  if (items.length === 0) return [];
  return ['schema:', ...items.map((i) => `  ${i.object} ${i.name}: ${i.detail}  [${FATES[i.fate]}${i.note ? `: ${i.note}` : ''}]`)];
}
