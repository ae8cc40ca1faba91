/**
 * Statements that follow one another with nothing read in between, sent
 * together: over a remote link each statement is a network round trip, and
 * PostgreSQL runs several in one (Session.executeAll). Only statements without
 * parameters go in (identifiers quoted by the dialect, no values spliced in).
 * Engines that cannot batch run them one by one, as the calls they replace.
 */
import type { Session, TargetIsolation } from '../dialects/dialect.js';
import type { TableName } from '../types.js';

type Item = { sql: string } | { drop: TableName[] };

export class StatementBatch {
  private items: Item[] = [];

  constructor(private readonly session: Session) {}

  add(...statements: string[]): this {
    for (const sql of statements) this.items.push({ sql });
    return this;
  }

  /** DROP TABLE IF EXISTS, as session.dropTable does (PostgreSQL: every name in one statement). */
  drop(...names: TableName[]): this {
    if (names.length) this.items.push({ drop: names });
    return this;
  }

  /** Runs what was added, in order; the batch is empty again (also when a statement failed). */
  async flush(): Promise<void> {
    const items = this.items;
    this.items = [];
    const s = this.session;
    if (s.executeAll) {
      const statements = render(s, items);
      if (statements.length === 1) await s.execute(statements[0]);
      else if (statements.length) await s.executeAll(statements);
      return;
    }
    for (const i of items) {
      if ('sql' in i) await s.execute(i.sql);
      else for (const n of i.drop) await s.dropTable(n);
    }
  }

  /** What was added, as the statements flush would send where the engine batches (executeAll); the batch is empty again. */
  take(): string[] {
    const items = this.items;
    this.items = [];
    return render(this.session, items);
  }
}

function render(s: Session, items: Item[]): string[] {
  return items.map((i) => ('sql' in i ? i.sql : `DROP TABLE IF EXISTS ${i.drop.map((n) => s.quoteTable(n)).join(', ')}`));
}

/**
 * Statements without parameters whose affected rows the caller needs, in
 * order: in one round trip where the engine batches (stopping at the first
 * error), else one by one. Each statement's affected rows.
 */
export async function executeCounted(session: Session, statements: string[]): Promise<number[]> {
  if (session.executeAll && statements.length > 1) return session.executeAll(statements);
  const counts: number[] = [];
  for (const sql of statements) counts.push(await session.execute(sql));
  return counts;
}

/**
 * A transaction whose `first` statements go in its BEGIN's round trip, and
 * the statements fn leaves in `last` in its COMMIT's, where the engine can
 * (Session.transactionWith); elsewhere they run inside it, first before fn and
 * last after it. Either way a failure of any of them rolls the whole
 * transaction back.
 */
export function transactionWithStatements<T>(session: Session, first: string[], fn: (last: StatementBatch) => Promise<T>, isolation?: TargetIsolation): Promise<T> {
  const last = new StatementBatch(session);
  if (session.transactionWith && session.executeAll) return session.transactionWith(() => fn(last), isolation, { first, last: () => last.take() });
  return session.transaction(async () => {
    for (const sql of first) await session.execute(sql);
    const result = await fn(last);
    await last.flush();
    return result;
  }, isolation);
}
