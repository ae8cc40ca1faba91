/**
 * Statements that follow one another with nothing read in between, sent
 * together: over a remote link each statement is a network round trip, and
 * PostgreSQL runs several in one (Session.executeAll). Only statements without
 * parameters go in (identifiers quoted by the dialect, no values spliced in).
 * Engines that cannot batch run them one by one, as the calls they replace.
 */
import type { Session } from '../dialects/dialect.js';
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
      const statements = items.map((i) => ('sql' in i ? i.sql : `DROP TABLE IF EXISTS ${i.drop.map((n) => s.quoteTable(n)).join(', ')}`));
      if (statements.length === 1) await s.execute(statements[0]);
      else if (statements.length) await s.executeAll(statements);
      return;
    }
    for (const i of items) {
      if ('sql' in i) await s.execute(i.sql);
      else for (const n of i.drop) await s.dropTable(n);
    }
  }
}
