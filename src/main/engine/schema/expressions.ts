/**
 * Generated columns' expressions between engines. An expression is translated
 * only where its meaning is the same in both: arithmetic (+ - *) over numeric
 * columns and numbers, concatenation of text columns and strings, lower() and
 * upper() of text. Anything else (division, whose integer rules differ; other
 * functions; casts that change a type) is not guessed: the reason is returned
 * and the column is carried as a plain column of the source's values.
 */
import type { Column } from '../types.js';
import { stringLiteral } from './defaults.js';

export type Engine = 'postgres' | 'mysql' | 'sqlite';

type Expr =
  | { k: 'col'; name: string }
  | { k: 'num'; v: string }
  | { k: 'str'; v: string }
  | { k: 'bin'; op: '+' | '-' | '*'; l: Expr; r: Expr }
  | { k: 'neg'; e: Expr }
  | { k: 'concat'; parts: Expr[] }
  | { k: 'fn'; name: 'lower' | 'upper'; arg: Expr };

type Token = { t: 'id'; v: string; quoted: boolean } | { t: 'num'; v: string } | { t: 'str'; v: string } | { t: 'op'; v: string };

class Untranslatable extends Error {}

const fail = (why: string): never => {
  throw new Untranslatable(why);
};

/** Casts PostgreSQL's catalog adds that do not change what + - * or || mean here. */
const HARMLESS_CASTS = /^(text|character varying|varchar|numeric|integer|bigint|smallint|double precision|real)$/i;

function tokenize(text: string, engine: Engine): Token[] {
  const out: Token[] = [];
  let i = 0;
  const s = text;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const quoteEnd = (close: string, escapes: boolean): string => {
      let v = '';
      i++;
      for (;;) {
        if (i >= s.length) fail('an unterminated quote');
        if (escapes && s[i] === '\\' && i + 1 < s.length) {
          const e = s[i + 1];
          v += ({ n: '\n', t: '\t', r: '\r', '0': '\0' } as Record<string, string>)[e] ?? e;
          i += 2;
        } else if (s[i] === close && s[i + 1] === close) {
          v += close;
          i += 2;
        } else if (s[i] === close) {
          i++;
          return v;
        } else v += s[i++];
      }
    };
    // MySQL's charset introducer before a string: _utf8mb4'x'.
    const intro = engine === 'mysql' ? /^_[a-z0-9]+'/i.exec(s.slice(i)) : null;
    if (intro) i += intro[0].length - 1;
    if (s[i] === "'") {
      out.push({ t: 'str', v: quoteEnd("'", engine === 'mysql') });
      continue;
    }
    if (c === '"' && engine !== 'mysql') {
      out.push({ t: 'id', v: quoteEnd('"', false), quoted: true });
      continue;
    }
    if (c === '`' && engine !== 'postgres') {
      out.push({ t: 'id', v: quoteEnd('`', false), quoted: true });
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)/.exec(s.slice(i));
    if (num) {
      if (/^[eE]/.test(s.slice(i + num[0].length))) fail('a number with an exponent');
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(s.slice(i));
    if (word) {
      out.push({ t: 'id', v: word[0], quoted: false });
      i += word[0].length;
      continue;
    }
    const op = /^(::|\|\||[-+*/%(),])/.exec(s.slice(i));
    if (!op) fail(`"${c}"`);
    out.push({ t: 'op', v: op![0] });
    i += op![0].length;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly engine: Engine,
  ) {}

  parse(): Expr {
    const e = this.concat();
    if (this.i < this.tokens.length) fail(`"${this.tokens[this.i].v}"`);
    return e;
  }

  private peek(v: string): boolean {
    const t = this.tokens[this.i];
    return t !== undefined && t.t === 'op' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.peek(v)) fail(`a missing "${v}"`);
    this.i++;
  }

  private concat(): Expr {
    const parts = [this.sum()];
    while (this.peek('||')) {
      if (this.engine === 'mysql') fail('|| (a logical OR in MySQL)');
      this.i++;
      parts.push(this.sum());
    }
    return parts.length === 1 ? parts[0] : { k: 'concat', parts: parts.flatMap((p) => (p.k === 'concat' ? p.parts : [p])) };
  }

  private sum(): Expr {
    let l = this.product();
    while (this.peek('+') || this.peek('-')) {
      const op = this.tokens[this.i++].v as '+' | '-';
      l = { k: 'bin', op, l, r: this.product() };
    }
    return l;
  }

  private product(): Expr {
    let l = this.unary();
    for (;;) {
      if (this.peek('/') || this.peek('%')) fail(`${this.tokens[this.i].v} (its integer rules differ between engines)`);
      if (!this.peek('*')) return l;
      this.i++;
      l = { k: 'bin', op: '*', l, r: this.unary() };
    }
  }

  private unary(): Expr {
    if (this.peek('-')) {
      this.i++;
      return { k: 'neg', e: this.unary() };
    }
    if (this.peek('+')) {
      this.i++;
      return this.unary();
    }
    return this.cast(this.primary());
  }

  /** PostgreSQL's ::type after a term: dropped where harmless. */
  private cast(e: Expr): Expr {
    while (this.peek('::')) {
      this.i++;
      const words: string[] = [];
      while (this.tokens[this.i]?.t === 'id') words.push(this.tokens[this.i++].v);
      if (this.peek('(')) fail('a cast to a sized type');
      const type = words.join(' ');
      if (!HARMLESS_CASTS.test(type)) fail(`a cast to ${type}`);
    }
    return e;
  }

  private primary(): Expr {
    const t = this.tokens[this.i++];
    if (!t) fail('an incomplete expression');
    if (t.t === 'num') return { k: 'num', v: t.v };
    if (t.t === 'str') return { k: 'str', v: t.v };
    if (t.t === 'op') {
      if (t.v !== '(') fail(`"${t.v}"`);
      const e = this.concat();
      this.expect(')');
      return e;
    }
    if (!t.quoted && this.peek('(')) {
      // MariaDB prints lower() and upper() as lcase() and ucase().
      const name = ({ lcase: 'lower', ucase: 'upper' } as Record<string, string>)[t.v.toLowerCase()] ?? t.v.toLowerCase();
      this.i++;
      const args: Expr[] = [];
      if (!this.peek(')')) {
        args.push(this.concat());
        while (this.peek(',')) {
          this.i++;
          args.push(this.concat());
        }
      }
      this.expect(')');
      if ((name === 'lower' || name === 'upper') && args.length === 1) return { k: 'fn', name, arg: args[0] };
      // MySQL's concat() is NULL when an argument is (as ||); PostgreSQL's ignores NULLs: not the same.
      if (name === 'concat' && this.engine === 'mysql' && args.length >= 1) return { k: 'concat', parts: args };
      return fail(`the function ${t.v}()`);
    }
    if (!t.quoted && /^(true|false|null)$/i.test(t.v)) fail(t.v);
    return { k: 'col', name: t.v };
  }
}

type Kind = 'number' | 'decimal' | 'text';

function kindOf(column: Column): Kind | undefined {
  const k = column.type.kind;
  if (k === 'integer' || k === 'float') return 'number';
  if (k === 'decimal') return 'decimal';
  if (k === 'text') return 'text';
  return undefined;
}

/** What the expression yields; fails where an operand is not of the kind its operator takes. */
function check(e: Expr, columns: Map<string, Column>, to: Engine, from: Engine): Kind {
  switch (e.k) {
    case 'col': {
      const c = columns.get(e.name);
      if (!c) return fail(`column ${e.name}, which is not copied under its own name`);
      if (c.generated) return fail(`column ${e.name}, itself generated`);
      return kindOf(c) ?? fail(`column ${e.name} (${c.nativeType})`);
    }
    case 'num':
      return e.v.includes('.') ? 'decimal' : 'number';
    case 'str':
      return 'text';
    case 'neg':
    case 'bin': {
      const kinds = e.k === 'neg' ? [check(e.e, columns, to, from)] : [check(e.l, columns, to, from), check(e.r, columns, to, from)];
      if (kinds.includes('text')) return fail('arithmetic on text');
      // SQLite holds decimals as text: its arithmetic on them is floating point.
      if (to === 'sqlite' && kinds.includes('decimal')) return fail('decimal arithmetic (SQLite would compute it in floating point)');
      return kinds.includes('decimal') ? 'decimal' : 'number';
    }
    case 'concat':
      for (const p of e.parts) if (check(p, columns, to, from) !== 'text') fail('concatenation of something other than text');
      return 'text';
    case 'fn':
      if (to === 'sqlite' || from === 'sqlite') fail(`${e.name}() (SQLite's folds ASCII letters only)`);
      if (check(e.arg, columns, to, from) !== 'text') fail(`${e.name}() of something other than text`);
      return 'text';
  }
}

function render(e: Expr, to: Engine, quote: (name: string) => string): string {
  const r = (x: Expr) => render(x, to, quote);
  switch (e.k) {
    case 'col':
      return quote(e.name);
    case 'num':
      return e.v;
    case 'str':
      return stringLiteral(e.v, to === 'mysql');
    case 'neg':
      return `(-${r(e.e)})`;
    case 'bin':
      return `(${r(e.l)} ${e.op} ${r(e.r)})`;
    case 'concat':
      return to === 'mysql' ? `concat(${e.parts.map(r).join(', ')})` : `(${e.parts.map(r).join(' || ')})`;
    case 'fn':
      return `${e.name}(${r(e.arg)})`;
  }
}

/**
 * The expression in the target's SQL, over the target's column names; or why
 * it is not translated. `columns`: the source columns the run copies, by
 * source name, with `renamed` their target names.
 */
export function translateExpression(
  text: string,
  from: Engine,
  to: Engine,
  columns: Column[],
  renamed: (source: string) => string,
  quote: (name: string) => string,
): { sql: string } | { reason: string } {
  try {
    const tree = new Parser(tokenize(text, from), from).parse();
    // SQLite and MySQL match column names whatever their case.
    const byName = new Map(columns.map((c) => [from === 'postgres' ? c.name : c.name.toLowerCase(), c]));
    const lookup = new Map<string, Column>();
    const visit = (e: Expr): void => {
      if (e.k === 'col') {
        const c = byName.get(from === 'postgres' ? e.name : e.name.toLowerCase());
        if (c) {
          e.name = c.name;
          lookup.set(c.name, c);
        }
      } else if (e.k === 'bin') [e.l, e.r].forEach(visit);
      else if (e.k === 'neg') visit(e.e);
      else if (e.k === 'concat') e.parts.forEach(visit);
      else if (e.k === 'fn') visit(e.arg);
    };
    visit(tree);
    check(tree, lookup, to, from);
    const sql = render(tree, to, (n) => quote(renamed(n)));
    // The whole expression goes inside AS (…): its own outer parentheses are not needed.
    return { sql: tree.k === 'bin' || tree.k === 'neg' || (tree.k === 'concat' && to !== 'mysql') ? sql.slice(1, -1) : sql };
  } catch (err) {
    if (err instanceof Untranslatable) return { reason: `it holds ${err.message}, which dbferry does not translate` };
    throw err;
  }
}

/** The columns an expression names (for checks such as "not the AUTO_INCREMENT column"); undefined when it does not parse. */
export function expressionColumns(text: string, from: Engine): string[] | undefined {
  try {
    return tokenize(text, from)
      .filter((t, i, all) => t.t === 'id' && !(all[i + 1]?.t === 'op' && all[i + 1].v === '(') && !(all[i - 1]?.t === 'op' && all[i - 1].v === '::'))
      .map((t) => t.v);
  } catch {
    return undefined;
  }
}

/**
 * SQLite keeps no catalog of generated columns' expressions: they are read
 * from the table's CREATE TABLE text, column by column
 * (`name type … [GENERATED ALWAYS] AS (expr) [VIRTUAL|STORED]`).
 */
export function sqliteGeneratedColumns(text: string): Map<string, { expression: string; stored: boolean }> {
  const out = new Map<string, { expression: string; stored: boolean }>();
  const sql = withoutComments(text);
  const open = sql.indexOf('(');
  if (open < 0) return out;
  // Split the body at top-level commas, skipping quotes and comments.
  const parts: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      i++;
      while (i < sql.length && !(sql[i] === close && sql[i + 1] !== close)) i += sql[i] === close ? 2 : 1;
    } else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) {
        parts.push(sql.slice(start, i));
        break;
      }
      depth--;
    } else if (c === ',' && depth === 0) {
      parts.push(sql.slice(start, i));
      start = i + 1;
    }
  }
  for (const part of parts) {
    const name = /^\s*(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\]|([^\s(]+))/.exec(part);
    if (!name) continue;
    const column = name[1]?.replaceAll('""', '"') ?? name[2]?.replaceAll('``', '`') ?? name[3] ?? name[4];
    if (/^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)$/i.test(column)) continue;
    const as = topLevelAs(part);
    if (as < 0) continue;
    const body = balanced(part, part.indexOf('(', as));
    if (body === undefined) continue;
    const rest = part.slice(part.indexOf('(', as) + body.length + 2);
    out.set(column, { expression: body.trim(), stored: /^\s*STORED\b/i.test(rest) });
  }
  return out;
}

/** The text with its comments (line and block) made spaces, outside quotes. */
function withoutComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      let j = i + 1;
      while (j < sql.length && sql[j] !== close) j++;
      out += sql.slice(i, j + 1);
      i = j;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      out += ' ';
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
      out += ' ';
    } else out += c;
  }
  return out;
}

/** Where the generated clause's AS stands in a column definition: outside parentheses and quotes, followed by "(". */
function topLevelAs(part: string): number {
  let depth = 0;
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c;
      i++;
      while (i < part.length && part[i] !== close) i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && /^AS\s*\(/i.test(part.slice(i)) && !/[A-Za-z0-9_]/.test(part[i - 1] ?? ' ')) return i;
  }
  return -1;
}

/** The text inside the parentheses that open at `at`. */
function balanced(text: string, at: number): string | undefined {
  if (at < 0) return undefined;
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < text.length && text[i] !== c) i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return text.slice(at + 1, i);
  }
  return undefined;
}
