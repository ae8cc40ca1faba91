/**
 * Defaults shared by the dialects: ANSI identifier quoting and the apply SQL,
 * which every engine speaks the same way except where it overrides.
 */
import type { Column, TableName } from '../types.js';
import type { ApplySql, ReadRequest } from './dialect.js';

/** "name" with embedded quotes doubled (PostgreSQL, SQLite). */
export function quoteAnsi(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `name` with embedded backticks doubled (MySQL/MariaDB). */
export function quoteBacktick(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

export function tableQuoter(quote: (n: string) => string): (t: TableName) => string {
  return (t) => (t.schema ? `${quote(t.schema)}.${quote(t.name)}` : quote(t.name));
}

/** Apply SQL in standard form; `UPDATE ... FROM` is PostgreSQL/SQLite syntax. */
export class StandardApplySql implements ApplySql {
  constructor(
    protected readonly quote: (name: string) => string,
    protected readonly table: (name: TableName) => string = tableQuoter(quote),
  ) {}

  protected list(columns: string[], prefix = ''): string {
    return columns.map((c) => prefix + this.quote(c)).join(', ');
  }

  protected keyMatch(key: string[], left: string, right: string): string {
    return key.map((k) => `${left}.${this.quote(k)} = ${right}.${this.quote(k)}`).join(' AND ');
  }

  deleteAll(target: TableName): string {
    return `DELETE FROM ${this.table(target)}`;
  }

  protected and(filter?: string): string {
    return filter ? ` AND (${filter})` : '';
  }

  insertFromStaging(target: TableName, staging: TableName, columns: string[], filter?: string): string {
    return `INSERT INTO ${this.table(target)} (${this.list(columns)}) SELECT ${this.list(columns, 's.')} FROM ${this.table(staging)} AS s${filter ? ` WHERE ${filter}` : ''}`;
  }

  updateFromStaging(target: TableName, staging: TableName, columns: string[], key: string[], filter?: string): string {
    const set = columns.filter((c) => !key.includes(c));
    if (set.length === 0) return '';
    const t = this.table(target);
    const assignments = set.map((c) => `${this.quote(c)} = s.${this.quote(c)}`).join(', ');
    return `UPDATE ${t} SET ${assignments} FROM ${this.table(staging)} AS s WHERE ${this.keyMatch(key, 's', t)}${this.and(filter)}`;
  }

  /** How the target table is named inside updateFromStaging's conditions (MySQL aliases it). */
  protected updatedTarget(target: TableName): string {
    return this.table(target);
  }

  /**
   * Null-safe "these two values differ", exactly for the column's type: an
   * engine whose plain comparison misses a change (case under a _ci collation,
   * 1.10 = 1.1, json without equality) overrides it.
   */
  protected differs(column: Column, left: string, right: string): string {
    const c = this.quote(column.name);
    return `${left}.${c} IS DISTINCT FROM ${right}.${c}`;
  }

  /** Some non-key column differs between the rows `left` and `right`; false when there is none. */
  protected rowDiffers(columns: Column[], key: string[], left: string, right: string): string {
    const compared = columns.filter((c) => !key.includes(c.name));
    return compared.length ? `(${compared.map((c) => this.differs(c, left, right)).join(' OR ')})` : '1 = 0';
  }

  updateChangedFromStaging(target: TableName, staging: TableName, columns: Column[], key: string[], filter?: string): string {
    if (columns.every((c) => key.includes(c.name))) return '';
    const changed = this.rowDiffers(columns, key, this.updatedTarget(target), 's');
    return this.updateFromStaging(target, staging, columns.map((c) => c.name), key, filter ? `${changed} AND (${filter})` : changed);
  }

  copyMatching(target: TableName, rows: TableName, to: TableName, key: string[]): string {
    const keys = key.length === 1 ? this.quote(key[0]) : `(${this.list(key)})`;
    return `CREATE TABLE ${this.table(to)} AS SELECT * FROM ${this.table(target)} WHERE ${keys} IN (SELECT ${this.list(key)} FROM ${this.table(rows)})`;
  }

  copyDiffering(target: TableName, staging: TableName, to: TableName, columns: Column[], key: string[]): string[] {
    return [`CREATE TABLE ${this.table(to)} AS ${this.differingRows(target, staging, columns, key)}`];
  }

  protected differingRows(target: TableName, staging: TableName, columns: Column[], key: string[]): string {
    const t = this.table(target);
    return `SELECT * FROM ${this.table(staging)} AS s WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${this.keyMatch(key, 's', t)} AND NOT (${this.rowDiffers(columns, key, t, 's')}))`;
  }

  /** Created empty first, then filled: a long CREATE TABLE … SELECT holds the new table's exclusive lock (MySQL) while it reads. */
  copyAbsentKeys(target: TableName, staging: TableName, to: TableName, key: string[]): string[] {
    const t = this.table(target);
    return [
      `CREATE TABLE ${this.table(to)} AS SELECT ${this.list(key)} FROM ${t} WHERE 1 = 0`,
      `INSERT INTO ${this.table(to)} SELECT ${this.list(key, `${t}.`)} FROM ${t} WHERE NOT EXISTS (SELECT 1 FROM ${this.table(staging)} AS s WHERE ${this.keyMatch(key, 's', t)})`,
    ];
  }

  copyRowsOfKeys(target: TableName, keys: TableName, to: TableName, key: string[]): string {
    return `INSERT INTO ${this.table(to)} SELECT x.* FROM ${this.table(keys)} AS g JOIN ${this.table(target)} AS x ON ${this.keyMatch(key, 'g', 'x')}`;
  }

  deleteRowsOfKeys(target: TableName, keys: TableName, key: string[]): string {
    const k = key.length === 1 ? this.quote(key[0]) : `(${this.list(key)})`;
    return `DELETE FROM ${this.table(target)} WHERE ${k} IN (SELECT ${this.list(key)} FROM ${this.table(keys)})`;
  }

  insertMissingFromStaging(target: TableName, staging: TableName, columns: string[], key: string[], filter?: string): string {
    const t = this.table(target);
    return (
      `INSERT INTO ${t} (${this.list(columns)}) SELECT ${this.list(columns, 's.')} FROM ${this.table(staging)} AS s ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${this.keyMatch(key, 's', t)})${this.and(filter)}`
    );
  }

  /** Row numbers are dbferry's own counters, never user data: integer literals. */
  rowRange(column: string, from: number, to: number): string {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new Error(`invalid row range ${from}..${to}`);
    return `s.${this.quote(column)} BETWEEN ${from} AND ${to}`;
  }

  /** The n-th (1-based) parameter of a statement. */
  protected placeholder(_n: number): string {
    return '?';
  }

  /** Staging in final shape: rows by (integer) key, a row comparison past and up to the bounds given as parameters. */
  deleteStagedKeys(staging: TableName, key: string[], after: boolean, through: boolean): string {
    const tuple = `(${this.list(key)})`;
    let n = 0;
    const marks = () => `(${key.map(() => this.placeholder(++n)).join(', ')})`;
    const conditions = [...(after ? [`${tuple} > ${marks()}`] : []), ...(through ? [`${tuple} <= ${marks()}`] : [])];
    return `DELETE FROM ${this.table(staging)}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}`;
  }

  /** PostgreSQL form: dropping a column and renaming are catalog changes, not rewrites. */
  promoteStaging(staging: TableName, target: TableName, drop: string[], notNull: string[], key: string[], keyIndex?: string): string[] {
    const t = this.table(staging);
    // A unique index built beforehand becomes the key (and takes the constraint's name): no second build.
    const keyDef = keyIndex ? `USING INDEX ${this.quote(keyIndex)}` : `(${this.list(key)})`;
    const changes = [...drop.map((c) => `DROP COLUMN ${this.quote(c)}`), ...notNull.map((c) => `ALTER COLUMN ${this.quote(c)} SET NOT NULL`)];
    return [
      ...(changes.length ? [`ALTER TABLE ${t} ${changes.join(', ')}`] : []),
      // Named as CREATE TABLE would name it, not after the staging table.
      ...(key.length ? [`ALTER TABLE ${t} ADD CONSTRAINT ${this.quote(`${target.name.slice(0, 58)}_pkey`)} PRIMARY KEY ${keyDef}`] : []),
      `ALTER TABLE ${t} RENAME TO ${this.quote(target.name)}`,
    ];
  }

  /** PostgreSQL form: renames and the key are transactional catalog changes, run inside the apply transaction. */
  swapStaging(staging: TableName, target: TableName, backup: TableName, drop: string[], notNull: string[], key: string[], primaryKeyName?: string, keyIndex?: string): string[] {
    const b = { schema: target.schema, name: backup.name };
    return [
      `ALTER TABLE ${this.table(target)} RENAME TO ${this.quote(backup.name)}`,
      // Constraint (and index) names are unique per schema: the new table's key takes the old one's name.
      ...(primaryKeyName ? [`ALTER TABLE ${this.table(b)} RENAME CONSTRAINT ${this.quote(primaryKeyName)} TO ${this.quote(`${backup.name.slice(0, 58)}_pkey`)}`] : []),
      ...this.promoteStaging(staging, target, drop, notNull, key, keyIndex),
    ];
  }

  /** PostgreSQL and SQLite form, inside the restore transaction (DDL rolls back with it). */
  swapBack(target: TableName, backup: TableName, primaryKeyName?: string): string[] {
    return [
      `DROP TABLE ${this.table(target)}`,
      `ALTER TABLE ${this.table({ schema: target.schema, name: backup.name })} RENAME TO ${this.quote(target.name)}`,
      ...(primaryKeyName ? [`ALTER TABLE ${this.table(target)} RENAME CONSTRAINT ${this.quote(`${backup.name.slice(0, 58)}_pkey`)} TO ${this.quote(primaryKeyName)}`] : []),
    ];
  }

  savepoint(name: string): string {
    return `SAVEPOINT ${this.quote(name)}`;
  }

  rollbackToSavepoint(name: string): string {
    return `ROLLBACK TO SAVEPOINT ${this.quote(name)}`;
  }

  releaseSavepoint(name: string): string {
    return `RELEASE SAVEPOINT ${this.quote(name)}`;
  }

  deleteAbsentFromStaging(target: TableName, staging: TableName, key: string[]): string {
    const t = this.table(target);
    return `DELETE FROM ${t} WHERE NOT EXISTS (SELECT 1 FROM ${this.table(staging)} AS s WHERE ${this.keyMatch(key, 's', t)})`;
  }

  deleteMatching(target: TableName, keys: TableName, key: string[]): string {
    const t = this.table(target);
    return `DELETE FROM ${t} WHERE EXISTS (SELECT 1 FROM ${this.table(keys)} AS k WHERE ${this.keyMatch(key, 'k', t)})`;
  }

  copyTable(from: TableName, to: TableName): string {
    return `CREATE TABLE ${this.table(to)} AS SELECT * FROM ${this.table(from)}`;
  }

  copyNewKeys(target: TableName, staging: TableName, to: TableName, key: string[]): string {
    const t = this.table(target);
    return (
      `CREATE TABLE ${this.table(to)} AS SELECT ${this.list(key, 's.')} FROM ${this.table(staging)} AS s ` +
      `WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${this.keyMatch(key, 's', t)})`
    );
  }

  /** `batch` is dbferry's own counter, never user data; an integer literal keeps this placeholder-style-free across engines. */
  deleteStagedBatches(staging: TableName, after: number, through: number, batchColumn: string): string {
    if (!Number.isSafeInteger(after) || !Number.isSafeInteger(through)) throw new Error(`invalid batch range ${after}..${through}`);
    const c = this.quote(batchColumn);
    return `DELETE FROM ${this.table(staging)} WHERE ${c} > ${after} AND ${c} <= ${through}`;
  }
}

/** ` LIMIT n OFFSET m` from dbferry's own counters (never user data): checked integers. */
export function limitClause(req: Pick<ReadRequest, 'limit' | 'offset'>): string {
  if (req.limit === undefined && req.offset === undefined) return '';
  const limit = req.limit ?? Number.MAX_SAFE_INTEGER;
  const offset = req.offset ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0 || !Number.isSafeInteger(offset) || offset < 0) throw new Error(`invalid limit ${limit} offset ${offset}`);
  return ` LIMIT ${limit} OFFSET ${offset}`;
}
