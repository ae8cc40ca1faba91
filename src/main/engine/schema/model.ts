/**
 * The schema a migration carries besides rows, in engine-neutral terms: what
 * each dialect's schema.ts reads from its catalog, and what translate.ts turns
 * into the target's objects (or names as not carried, with the reason).
 */
import type { Column, TableName, Value } from '../types.js';
import type { ColumnDef, Session } from '../dialects/dialect.js';

export type ReferentialAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';

export interface IndexColumn {
  name: string;
  /** Indexed case-insensitively: PostgreSQL lower(column), SQLite COLLATE NOCASE (options.caseInsensitiveUnique "lower"). */
  folded?: boolean;
  /** MySQL: only the first `prefix` characters (bytes for binary) are indexed. */
  prefix?: number;
  descending?: boolean;
}

export interface IndexDef {
  name: string;
  unique: boolean;
  columns: IndexColumn[];
  /** Parts no other engine reads the same way: such an index is named, not translated. */
  expression?: boolean;
  partial?: boolean;
  fullText?: boolean;
  spatial?: boolean;
  /** An access method other than the engine's ordinary B-tree (PostgreSQL gin, gist, hash, …). */
  method?: string;
  /** The source's own text of it, shown when it is not carried. */
  definition?: string;
  /** Its method, key parts and condition in the engine's own SQL (PostgreSQL `USING gin (…) WHERE …`): a target of the same engine builds it from that. */
  native?: string;
}

export interface ForeignKeyDef {
  name: string;
  columns: string[];
  references: TableName;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

/** A default as the source spells it, and what it means when dialect's table of known expressions knows it. */
export interface ColumnDefault {
  column: string;
  /** The source's text of the expression (quoted in warnings). */
  expression: string;
  value?: DefaultValue;
}

/** Defaults every engine can spell: the table of known expressions. */
export type DefaultValue =
  | { kind: 'null' }
  | { kind: 'now' }
  | { kind: 'current-date' }
  | { kind: 'uuid' }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'boolean'; value: boolean };

export interface GeneratedKey {
  column: string;
  /** identity / serial (PostgreSQL), auto_increment (MySQL), autoincrement or rowid (SQLite INTEGER PRIMARY KEY). */
  kind: 'identity' | 'serial' | 'auto_increment' | 'autoincrement' | 'rowid';
  /** The next value the source would hand out (decimal text: any size); undefined when none was handed out yet. */
  next?: string;
}

export interface TableSchema {
  indexes: IndexDef[];
  foreignKeys: ForeignKeyDef[];
  defaults: ColumnDefault[];
  generatedKey?: GeneratedKey;
  /** Columns set to the current time whenever their row changes (MySQL's ON UPDATE CURRENT_TIMESTAMP). */
  onUpdateNow: string[];
  /** CHECK constraints, by name and text (`CHECK (…)` in the engine's SQL): carried between engines of one kind, else named. */
  checks: { name: string; expression: string }[];
  /** Triggers on the table, by name: never carried. */
  triggers: string[];
  /** The table's comment (no `column`) and its columns' (PostgreSQL COMMENT ON, MySQL COMMENT); SQLite has none. */
  comments: Comment[];
}

export interface Comment {
  column?: string;
  text: string;
}

/** Objects of the source database dbferry does not carry, listed so none is left behind silently. */
export interface OtherObject {
  kind: 'view' | 'materialized view' | 'trigger' | 'routine' | 'sequence' | 'type';
  name: string;
}

/** An index as the target builds it. */
export interface TargetIndex {
  name: string;
  unique: boolean;
  columns: IndexColumn[];
  /** Built from the source's own text (IndexDef.native) instead of `columns`. */
  native?: string;
  /** Built already, on the staging table, under this name (SchemaSupport.prebuildIndex): the apply only renames it. */
  prebuilt?: string;
}

export interface TargetForeignKey extends Omit<ForeignKeyDef, 'references'> {
  references: TableName;
}

/** What the target does to one table this run created, once its rows are in. */
export interface TableWork {
  table: TableName;
  columns: Column[];
  primaryKey: string[];
  /** Target SQL of each default, from the target's renderDefault. */
  defaults: { column: string; sql: string }[];
  /** `from`: how the source generates it (a SQLite rowid into SQLite is carried as it is, with no rebuild). */
  generatedKey?: { column: string; next?: string; from?: GeneratedKey['kind'] };
  indexes: TargetIndex[];
  foreignKeys: TargetForeignKey[];
  /** Columns the target sets to the current time when their row changes (a trigger where the engine has no ON UPDATE). */
  onUpdateNow: string[];
  /** A source ENUM held as text: a CHECK that keeps its values to the labels. */
  enumChecks: EnumCheck[];
  /** CHECK constraints as the source (an engine of the same kind) has them: name and `CHECK (…)`. */
  checks: { name: string; expression: string }[];
  /** Comments to set (where the engine keeps them with the definition, MySQL, the staging table had them from the start). */
  comments: Comment[];
  /** Every column in the table's order, generated ones included (plan.tableColumns): where the table is rebuilt (SQLite). */
  tableColumns?: ColumnDef[];
}

export interface EnumCheck {
  name: string;
  column: string;
  values: string[];
}

/**
 * A dialect's side of the schema (dialects/<engine>/schema.ts): read a table's
 * schema from the catalog, and build one on a table the run created. Runs on
 * the session given, inside the apply transaction where DDL is transactional.
 */
export interface SchemaSupport {
  readTable(session: Session, table: TableName): Promise<TableSchema>;
  /** In `schema` where the engine has schemas. */
  otherObjects(session: Session, schema?: string): Promise<OtherObject[]>;
  /** Names in the target that an index or constraint may not take (relations of the schema, constraint names of the database). */
  takenNames(session: Session, schema?: string): Promise<string[]>;
  /** The n-th (1-based) parameter of a statement. */
  placeholder(n: number): string;
  /** Index names are unique per table (MySQL), or per schema/database (PostgreSQL, SQLite). */
  indexNamesPerTable: boolean;
  /** A default in this engine's SQL for a column of this type; a reason string when it has no equivalent. */
  renderDefault(value: DefaultValue, column: Column): { sql: string } | { reason: string };
  /** An index this engine cannot build as it is: the one it builds, and the adaptation named; or the reason it cannot. */
  adaptIndex(index: IndexDef, columns: Column[], sameEngine: boolean): { index: TargetIndex; adaptation?: string } | { reason: string };
  /** Can this engine make this column generate keys (with a counter where it has one)? A reason when not, an adaptation when changed. */
  adaptGeneratedKey(column: Column, primaryKey: string[], from: GeneratedKey['kind']): { adaptation?: string } | { reason: string };
  /** How this engine sets a column to the current time when its row changes; a reason when it cannot. */
  adaptOnUpdateNow(column: Column): { adaptation: string } | { reason: string };
  /** Referential actions the engine refuses (InnoDB: SET DEFAULT): carried as NO ACTION, named. */
  unsupportedActions: ReferentialAction[];
  /** Why this engine would refuse a foreign key between columns of these types (InnoDB: not the same type); undefined: it takes it. */
  foreignKeyProblem?(columns: Column[], referenced: Column[]): string | undefined;
  /** Adding a foreign key checks the rows (and refuses orphans) in one pass of its own: no query for them first. */
  validatesForeignKeys?: boolean;
  /** Foreign keys exist only as part of the table's definition (SQLite): buildTable declares them. */
  foreignKeysWithTable: boolean;
  /** Defaults, the generated key, its indexes (and, foreignKeysWithTable, its foreign keys) on a table the run created. */
  buildTable(session: Session, work: TableWork): Promise<void>;
  /**
   * Where DDL is transactional and a staging table becomes the new table
   * (PostgreSQL): build one of its indexes on the staging table before the
   * apply transaction, on a session of its own, under `name` (several at
   * once: they need not wait for one another in the apply). The apply renames
   * it into place; a failed run drops the staging table and the index with it.
   * Does nothing when the staging table has an index of that name already (resume).
   * `serial`: the builds at once fill the server's cores already, so this one gets no parallel workers.
   */
  prebuildIndex?(session: Session, staging: TableName, index: TargetIndex, name: string, opts?: { serial?: boolean }): Promise<void>;
  addForeignKey?(session: Session, table: TableName, fk: TargetForeignKey): Promise<void>;
  /** Can this engine keep comments? A reason when not (SQLite). */
  commentsProblem?: string;
  /** Make the generated key hand out `next` next (never less than max + 1 of what is in the table). */
  setCounter(session: Session, table: TableName, column: string, next: string): Promise<void>;
}

export function valueText(v: Value): string {
  if (v === null) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return String(v);
}
