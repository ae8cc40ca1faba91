/**
 * Apply SQL for MySQL/MariaDB. The update differs from the standard form
 * (MySQL has no UPDATE ... FROM, it joins instead), and so does comparing
 * values (`<=>`, in bytes for text). The other statements
 * (INSERT ... SELECT ... WHERE NOT EXISTS on the target, DELETE ... WHERE NOT
 * EXISTS on the staging table) are valid MySQL as they are.
 */
import type { Column, TableName } from '../../types.js';
import type { BucketSet } from '../dialect.js';
import { quoteBacktick, StandardApplySql } from '../base.js';
import { bucketSetCondition } from './read.js';

/** Kinds whose values compare under a collation: told apart by their bytes. */
const TEXT_KINDS: string[] = ['text', 'enum', 'json', 'any', 'binary', 'uuid'];

export class MysqlApplySql extends StandardApplySql {
  constructor() {
    super(quoteBacktick);
  }

  /**
   * The staging table was created as the target will be (key, NOT NULL): drop
   * dbferry's columns and rename it. DDL commits on its own in MySQL, so apply
   * runs this after its transaction has committed.
   */
  override promoteStaging(staging: TableName, target: TableName, drop: string[]): string[] {
    const s = this.table(staging);
    return [...(drop.length ? [`ALTER TABLE ${s} ${drop.map((c) => `DROP COLUMN ${this.quote(c)}`).join(', ')}`] : []), `RENAME TABLE ${s} TO ${this.table(target)}`];
  }

  protected override updatedTarget(): string {
    return 't';
  }

  /**
   * `<=>` is MySQL's null-safe equality. Text compares under its collation,
   * where 'a' = 'A' (_ci) and 'a' = 'a ' (PAD SPACE): bytes tell every change.
   * Numbers, dates and times compare exactly as they are (a DECIMAL has its
   * column's scale; a double as text could round two values to one).
   */
  protected override differs(column: Column, left: string, right: string): string {
    const c = this.quote(column.name);
    if (TEXT_KINDS.includes(column.type.kind)) {
      return `NOT (CAST(${left}.${c} AS BINARY) <=> CAST(${right}.${c} AS BINARY))`;
    }
    return `NOT (${left}.${c} <=> ${right}.${c})`;
  }

  /** One RENAME TABLE renames both at once: no moment without the target. */
  override swapStaging(staging: TableName, target: TableName, backup: TableName, drop: string[]): string[] {
    const s = this.table(staging);
    return [...(drop.length ? [`ALTER TABLE ${s} ${drop.map((c) => `DROP COLUMN ${this.quote(c)}`).join(', ')}`] : []), `RENAME TABLE ${this.table(target)} TO ${this.table(backup)}, ${s} TO ${this.table(target)}`];
  }

  /**
   * A mirror's delta: the target keys of the differing buckets that staging
   * lacks, in one statement on the server. Read into dbferry instead (delta.ts),
   * both tables' keys in the buckets crossed the link and came back: two reads
   * of a 3,000-key IN list and a LOAD, 0.1-0.5 s for a 0.1% change of 1M rows.
   * Integer keys, the buckets' condition as Session.bucketCondition's.
   */
  copyAbsentKeysInBuckets(target: TableName, staging: TableName, to: TableName, key: string, set: BucketSet): string[] {
    // The condition names the key bare: in the outer WHERE it is the target's (the subquery's is qualified).
    return [
      `INSERT INTO ${this.table(to)} SELECT t.${this.quote(key)} FROM ${this.table(target)} AS t WHERE ${bucketSetCondition(key, set)} ` +
        `AND NOT EXISTS (SELECT 1 FROM ${this.table(staging)} AS s WHERE ${this.keyMatch([key], 's', 't')})`,
    ];
  }

  /**
   * CREATE TABLE … SELECT holds the new table's exclusive metadata lock while
   * it reads every staged row, and information_schema queries of every other
   * session wait on it: create the table first, then fill it.
   */
  override copyDiffering(target: TableName, staging: TableName, to: TableName, columns: Column[], key: string[]): string[] {
    return [`CREATE TABLE ${this.table(to)} LIKE ${this.table(staging)}`, `INSERT INTO ${this.table(to)} ${this.differingRows(target, staging, columns, key)}`];
  }

  /** A multi-table DELETE joins the few keys to the target's key (an IN subquery in a DELETE is run per target row before MariaDB 11.1). */
  override deleteRowsOfKeys(target: TableName, keys: TableName, key: string[]): string {
    return `DELETE x FROM ${this.table(keys)} AS g JOIN ${this.table(target)} AS x ON ${this.keyMatch(key, 'g', 'x')}`;
  }

  /** Both names at once, then the table that was in place dropped (after the restore's transaction: DDL commits on its own). */
  override swapBack(target: TableName, backup: TableName): string[] {
    const gone = { schema: target.schema, name: `${backup.name}_r` };
    return [`RENAME TABLE ${this.table(target)} TO ${this.table(gone)}, ${this.table(backup)} TO ${this.table(target)}`, `DROP TABLE ${this.table(gone)}`];
  }

  /**
   * A text key matches under the target's collation (the staging table's key takes it: 'a' = 'A'
   * in _ci, 'a' = 'a ' with PAD SPACE), so a source key whose case or trailing spaces changed finds
   * its old row: its bytes are compared too, and the update writes them, so that the target's key
   * is the source's again (validation has already refused source keys the collation would merge).
   */
  protected override rowDiffers(columns: Column[], key: string[], left: string, right: string): string {
    const compared = columns.filter((c) => !key.includes(c.name) || TEXT_KINDS.includes(c.type.kind));
    return compared.length ? `(${compared.map((c) => this.differs(c, left, right)).join(' OR ')})` : '1 = 0';
  }

  override updateChangedFromStaging(target: TableName, staging: TableName, columns: Column[], key: string[], filter?: string): string {
    const changed = this.rowDiffers(columns, key, this.updatedTarget(), 's');
    if (changed === '1 = 0') return '';
    return this.updateFromStaging(target, staging, columns.map((c) => c.name), key, filter ? `${changed} AND (${filter})` : changed);
  }

  override updateFromStaging(target: TableName, staging: TableName, columns: string[], key: string[], filter?: string): string {
    // The key columns too: equal under the collation, their bytes may differ (an equal value is not rewritten).
    const set = columns;
    if (set.length === 0) return '';
    const assignments = set.map((c) => `t.${this.quote(c)} = s.${this.quote(c)}`).join(', ');
    return `UPDATE ${this.table(target)} AS t JOIN ${this.table(staging)} AS s ON ${this.keyMatch(key, 't', 's')} SET ${assignments}${filter ? ` WHERE ${filter}` : ''}`;
  }
}
