/**
 * Why rows were refused, grouped for a failure message: a run that refused
 * too many rows names each reason once, with how many rows it refused and one
 * example, instead of "21 of 2000 rows were refused" and nothing else.
 */
import type { Value } from '../types.js';

interface Group {
  table: string;
  count: number;
  /** The first row's own reason and key, as the example. */
  reason: string;
  key?: readonly Value[];
}

/** Rows refused for one reason differ in the values their reasons quote: masked, they group. */
export function reasonShape(reason: string): string {
  return reason
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, (m) => (/^["'][A-Za-z_][\w$.]*["']$/.test(m) ? m : '…'))
    .replace(/\(([^()]*)\)=\(([^()]*)\)/g, '($1)=(…)')
    .replace(/(?<![\w.])-?\d+(?:\.\d+)?(?![\w])/g, 'N');
}

export class RefusalTally {
  private readonly groups = new Map<string, Group>();

  add(table: string, key: readonly Value[] | undefined, reasons: readonly string[]): void {
    for (const reason of reasons) {
      const id = `${table}\u0000${reasonShape(reason)}`;
      const group = this.groups.get(id);
      if (group) group.count++;
      else this.groups.set(id, { table, count: 1, reason, key });
    }
  }

  get size(): number {
    return this.groups.size;
  }

  /** The reasons, most rows first, one a line: "21 × orders: duplicate key … (e.g. key 5)". */
  lines(max = 5): string[] {
    const groups = [...this.groups.values()].sort((a, b) => b.count - a.count);
    const out = groups.slice(0, max).map((g) => `${g.count} × ${g.table}: ${g.reason}${g.key ? ` (e.g. key ${g.key.map(showKey).join(', ')})` : ''}`);
    if (groups.length > max) out.push(`and ${groups.length - max} more reason${groups.length - max === 1 ? '' : 's'}`);
    return out;
  }
}

function showKey(v: Value): string {
  if (v === null) return 'NULL';
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString('hex')}'`;
  return String(v);
}
