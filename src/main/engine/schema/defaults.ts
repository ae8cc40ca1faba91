/**
 * The table of known default expressions, shared by the dialects: a source
 * default means one of these (DefaultValue) or it is not carried. Here a
 * known value is fitted to the target column's type; each dialect's
 * schema.ts spells the result in its own SQL.
 */
import type { Column } from '../types.js';
import type { DefaultValue } from './model.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE = new Set(['f', 'false', 'n', 'no', 'off', '0']);

export function isNumberText(s: string): boolean {
  return NUMBER.test(s.trim());
}

/** The value as the target column holds it (a boolean 1 for a boolean column, a number text for a number), or why it cannot be. */
export function fitDefault(value: DefaultValue, column: Column): DefaultValue | { reason: string } {
  const kind = column.type.kind;
  const no = (what: string): { reason: string } => ({ reason: `${what} is no default for a ${column.nativeType || 'typeless'} column` });
  switch (value.kind) {
    case 'null':
      return value;
    case 'now':
      if (kind === 'timestamp') return value;
      if (kind === 'date') return { kind: 'current-date' };
      return no('the current time');
    case 'current-date':
      return kind === 'date' || kind === 'timestamp' ? value : no('the current date');
    case 'uuid':
      return kind === 'uuid' || kind === 'text' ? value : no('a new UUID');
    case 'boolean':
      if (kind === 'boolean') return value;
      if (kind === 'integer' || kind === 'decimal' || kind === 'float' || kind === 'any') return { kind: 'number', value: value.value ? '1' : '0' };
      if (kind === 'text') return { kind: 'string', value: String(value.value) };
      return no(`the boolean ${String(value.value)}`);
    case 'number':
    case 'string': {
      const text = value.value;
      if (kind === 'boolean') {
        const lower = text.trim().toLowerCase();
        if (TRUE.has(lower)) return { kind: 'boolean', value: true };
        if (FALSE.has(lower)) return { kind: 'boolean', value: false };
        return no(`'${text}'`);
      }
      if (kind === 'integer' || kind === 'decimal' || kind === 'float') return isNumberText(text) ? { kind: 'number', value: text.trim() } : no(`'${text}'`);
      if (kind === 'binary') return no(`'${text}'`);
      if (kind === 'any') return value;
      return { kind: 'string', value: text };
    }
  }
}

/** A string literal in standard SQL: quotes doubled; `backslashes`: MySQL also reads backslash escapes. */
export function stringLiteral(s: string, backslashes = false): string {
  const escaped = backslashes ? s.replaceAll('\\', '\\\\') : s;
  return `'${escaped.replaceAll("'", "''")}'`;
}

/** A number for a SQL text: what isNumberText accepted, without a leading plus. */
export function numberLiteral(s: string): string {
  const t = s.trim().replace(/^\+/, '');
  if (!isNumberText(t)) throw new Error(`not a number: ${s}`);
  return t;
}

/** "(6)" in datetime(6): the fractional digits a temporal type keeps. */
export function fractionalDigits(nativeType: string): number {
  const m = /\((\d+)\)/.exec(nativeType);
  return m ? Number(m[1]) : 0;
}

/** Index and constraint names: the source's where it is free and short enough, else one made from the table, unique in its namespace. */
export class NameSpace {
  private readonly used = new Set<string>();
  constructor(private readonly maxLength: number) {}

  take(wanted: string, table: string): string {
    const fits = (n: string) => n.length <= this.maxLength && !this.used.has(n.toLowerCase());
    let name = fits(wanted) ? wanted : `${table}_${wanted}`.slice(0, this.maxLength);
    for (let i = 2; !fits(name); i++) {
      const suffix = `_${i}`;
      name = `${table}_${wanted}`.slice(0, this.maxLength - suffix.length) + suffix;
    }
    this.used.add(name.toLowerCase());
    return name;
  }

  reserve(name: string): void {
    this.used.add(name.toLowerCase());
  }
}
