/** What an engine whose indexes are plain column lists cannot rebuild from a source index. */
import type { IndexDef } from './model.js';

export function notTranslatable(index: IndexDef): string | undefined {
  const source = index.definition ? ` (source: ${index.definition})` : '';
  if (index.fullText) return `a full-text index: build the target's own full-text search by hand${source}`;
  if (index.spatial) return `a spatial index: build the target's own by hand${source}`;
  if (index.expression) return `an expression index: its expression is not translated${source}`;
  if (index.partial) return `a partial index: its condition is not translated${source}`;
  if (index.method) return `a ${index.method} index: only B-tree indexes are translated${source}`;
  return undefined;
}

