/**
 * MySQL/MariaDB's side of the schema a migration carries, from
 * information_schema. DDL here commits on its own: apply builds it after the
 * run's commit and its caller removes the run's tables if it fails.
 */
import type { Session } from '../dialect.js';
import type { Column, TableName, Value } from '../../types.js';
import { fitDefault, fractionalDigits, numberLiteral, stringLiteral } from '../../schema/defaults.js';
import type { ColumnDefault, DefaultValue, ForeignKeyDef, GeneratedKey, IndexDef, OtherObject, ReferentialAction, SchemaSupport, TableSchema, TableWork, TargetForeignKey, TargetIndex } from '../../schema/model.js';
import { valueText } from '../../schema/model.js';
import { notTranslatable } from '../../schema/indexes.js';

/** InnoDB's longest index key, in bytes (utf8mb4: 4 bytes a character). */
const MAX_KEY_BYTES = 3072;

const text = (v: Value): string | null => (v === null ? null : valueText(v));

/**
 * `sql`'s rows for the table, whose database and name fill each `?` pair in
 * turn. Both are constants in every information_schema condition: MariaDB
 * then opens that one table, not every table of the server (which waits on any
 * other session's lock on any of them).
 */
/** The session's database, asked once per session (dbferry never runs USE): over a remote link each ask is a round trip. */
const databases = new WeakMap<Session, string>();

async function database(session: Session): Promise<string> {
  const known = databases.get(session);
  if (known !== undefined) return known;
  const db = valueText((await session.query('SELECT DATABASE()')).rows[0][0]);
  databases.set(session, db);
  return db;
}

async function rows(session: Session, sql: string, table: TableName): Promise<(string | null)[][]> {
  const db = table.schema ?? (await database(session));
  const pairs = (sql.match(/\?/g) ?? []).length / 2;
  const r = await session.query(sql, Array.from({ length: pairs }, () => [db, table.name]).flat());
  return r.rows.map((row) => row.map(text));
}

const DB = '?';

async function readIndexes(session: Session, table: TableName): Promise<IndexDef[]> {
  const found = await rows(
    session,
    `SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ${DB} AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    table,
  );
  const byName = new Map<string, IndexDef>();
  for (const [name, nonUnique, column, subPart, type, collation] of found) {
    let index = byName.get(name!);
    if (!index) {
      index = { name: name!, unique: nonUnique === '0', columns: [], ...(type === 'FULLTEXT' ? { fullText: true } : {}), ...(type === 'SPATIAL' ? { spatial: true } : {}) };
      byName.set(name!, index);
    }
    // MySQL 8's functional key parts have no column.
    if (column === null) index.expression = true;
    else index.columns.push({ name: column, ...(subPart !== null ? { prefix: Number(subPart) } : {}), ...(collation === 'D' ? { descending: true } : {}) });
  }
  return [...byName.values()];
}

async function readForeignKeys(session: Session, table: TableName): Promise<ForeignKeyDef[]> {
  const found = await rows(
    session,
    `SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE, DATABASE()
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS r
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
      WHERE k.TABLE_SCHEMA = ${DB} AND k.TABLE_NAME = ? AND r.CONSTRAINT_SCHEMA = ${DB} AND r.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
    table,
  );
  const byName = new Map<string, ForeignKeyDef>();
  for (const [name, column, refSchema, refTable, refColumn, onDelete, onUpdate, current] of found) {
    let fk = byName.get(name!);
    if (!fk) {
      const references: TableName = refSchema === (table.schema ?? current) ? { name: refTable! } : { schema: refSchema!, name: refTable! };
      fk = { name: name!, columns: [], references, referencedColumns: [], onDelete: onDelete as ReferentialAction, onUpdate: onUpdate as ReferentialAction };
      byName.set(name!, fk);
    }
    fk.columns.push(column!);
    fk.referencedColumns.push(refColumn!);
  }
  return [...byName.values()];
}

/**
 * The table of known expressions, as information_schema.COLUMNS prints them:
 * MariaDB quotes literals ('abc', 'it''s') and prints functions with
 * parentheses (current_timestamp()); MySQL 8 prints literals bare and marks
 * expressions DEFAULT_GENERATED.
 */
export function parseMysqlDefault(raw: string, mariadb: boolean, expression: boolean, numeric: boolean): DefaultValue | undefined {
  const e = raw.trim();
  const lower = e.toLowerCase();
  if (mariadb || expression) {
    if (/^(current_timestamp|now|localtimestamp)(\(\d*\))?$/.test(lower)) return { kind: 'now' };
    if (/^(curdate\(\)|current_date(\(\))?)$/.test(lower)) return { kind: 'current-date' };
    if (lower === 'uuid()') return { kind: 'uuid' };
  }
  if (!mariadb && !expression) return numeric && /^[+-]?[\d.]+([eE][+-]?\d+)?$/.test(e) ? { kind: 'number', value: e } : { kind: 'string', value: raw };
  if (lower === 'null') return { kind: 'null' };
  const bits = /^b'([01]+)'$/i.exec(e);
  if (bits) return { kind: 'number', value: String(parseInt(bits[1], 2)) };
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(e)) return { kind: 'number', value: e };
  const quoted = /^'((?:[^'\\]|''|\\.)*)'$/s.exec(e);
  if (quoted) return { kind: 'string', value: quoted[1].replace(/''|\\(.)/gs, (m, c: string | undefined) => (m === "''" ? "'" : (ESCAPES[c!] ?? c!))) };
  return undefined;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a' };

async function readColumns(session: Session, table: TableName): Promise<{ defaults: ColumnDefault[]; generatedKey?: GeneratedKey; onUpdateNow: string[] }> {
  const found = await rows(
    session,
    `SELECT c.COLUMN_NAME, c.COLUMN_DEFAULT, c.EXTRA, c.DATA_TYPE, t.AUTO_INCREMENT
       FROM information_schema.COLUMNS c
       JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA = ${DB} AND c.TABLE_NAME = ? AND t.TABLE_SCHEMA = ${DB} AND t.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION`,
    table,
  );
  const mariadb = /mariadb/i.test(session.serverVersion);
  const defaults: ColumnDefault[] = [];
  const onUpdateNow: string[] = [];
  let generatedKey: GeneratedKey | undefined;
  for (const [column, raw, extra, dataType, counter] of found) {
    if (/on update (current_timestamp|now)/i.test(extra ?? '')) onUpdateNow.push(column!);
    if (/auto_increment/i.test(extra ?? '')) {
      generatedKey = { column: column!, kind: 'auto_increment', ...(counter !== null ? { next: counter } : {}) };
      continue;
    }
    if (/\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(extra ?? '')) continue;
    if (raw === null) continue;
    const numeric = /int|decimal|numeric|float|double|real|bit|year/i.test(dataType ?? '');
    defaults.push({ column: column!, expression: raw, value: parseMysqlDefault(raw, mariadb, /DEFAULT_GENERATED/i.test(extra ?? ''), numeric) });
  }
  return { defaults, generatedKey, onUpdateNow };
}

async function readChecks(session: Session, table: TableName): Promise<{ name: string; expression: string }[]> {
  try {
    const found = await rows(session, `SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ${DB} AND TABLE_NAME = ?`, table);
    // MariaDB's JSON columns carry a CHECK (json_valid(`col`)): part of the type, not the user's.
    return found.filter(([, clause]) => !/^json_valid\(`(?:[^`]|``)+`\)$/i.test(String(clause).trim())).map(([name, clause]) => ({ name: name!, expression: `CHECK (${clause!})` }));
  } catch {
    return []; // MySQL before 8.0.16 has no CHECK_CONSTRAINTS (nor checks)
  }
}

async function readTable(session: Session, table: TableName): Promise<TableSchema> {
  // One connection answers one query at a time: in turn.
  const indexes = await readIndexes(session, table);
  const foreignKeys = await readForeignKeys(session, table);
  const columns = await readColumns(session, table);
  const checks = await readChecks(session, table);
  const triggers = await rows(session, `SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ${DB} AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME`, table);
  const comments = await rows(
    session,
    `SELECT NULL, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${DB} AND TABLE_NAME = ? AND TABLE_COMMENT <> ''
     UNION ALL
     SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${DB} AND TABLE_NAME = ? AND COLUMN_COMMENT <> ''`,
    table,
  );
  return {
    indexes,
    foreignKeys,
    ...columns,
    checks,
    triggers: triggers.map(([t]) => t!),
    comments: comments.map(([column, text]) => (column === null ? { text: text! } : { column, text: text! })),
  };
}

async function otherObjects(session: Session): Promise<OtherObject[]> {
  const db = await database(session);
  const r = await session.query(
    `SELECT 'view', TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
     UNION ALL SELECT 'routine', ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
     ORDER BY 1, 2`,
    [db, db],
  );
  return r.rows.map(([kind, name]) => ({ kind: valueText(kind) as OtherObject['kind'], name: valueText(name) }));
}

function renderDefault(value: DefaultValue, column: Column): { sql: string } | { reason: string } {
  const fitted = fitDefault(value, column);
  if ('reason' in fitted) return fitted;
  switch (fitted.kind) {
    case 'null':
      return { sql: 'NULL' };
    case 'now': {
      const p = fractionalDigits(column.nativeType);
      return { sql: p ? `CURRENT_TIMESTAMP(${p})` : 'CURRENT_TIMESTAMP' };
    }
    case 'current-date':
      return { sql: '(CURRENT_DATE)' };
    case 'uuid':
      return { sql: '(uuid())' };
    case 'boolean':
      return { sql: fitted.value ? '1' : '0' };
    case 'number':
      return { sql: numberLiteral(fitted.value) };
    case 'string':
      return { sql: stringLiteral(fitted.value, true) };
  }
}

/** Bytes one character of a column may take in an index key: utf8mb4 text 4, binary 1. */
function charBytes(column: Column): number {
  return column.type.kind === 'binary' ? 1 : 4;
}

/** TEXT and BLOB, and text longer than a key holds, are indexed by a prefix (error 1170/1071 otherwise). */
function needsPrefix(column: Column): boolean {
  const t = column.type;
  if (t.kind !== 'text' && t.kind !== 'binary' && t.kind !== 'json') return false;
  if (/text|blob|json/i.test(column.nativeType)) return true;
  return t.kind !== 'json' && (t.maxLength === undefined || t.maxLength * charBytes(column) > MAX_KEY_BYTES);
}

function adaptIndex(index: IndexDef, columns: Column[], sameEngine: boolean): { index: TargetIndex; adaptation?: string } | { reason: string } {
  // Between MySQL databases a FULLTEXT or SPATIAL index is built as it was ("native" holds its kind).
  if (sameEngine && (index.fullText || index.spatial) && !index.expression) {
    return { index: { name: index.name, unique: false, columns: index.columns, native: index.fullText ? 'FULLTEXT' : 'SPATIAL' } };
  }
  const not = notTranslatable({ ...index, fullText: undefined, spatial: undefined });
  if (not) return { reason: not };
  if (index.fullText || index.spatial) return { reason: `a ${index.fullText ? 'full-text' : 'spatial'} index: only B-tree indexes are translated${index.definition ? ` (source: ${index.definition})` : ''}` };
  const long = index.columns.filter((c) => c.prefix === undefined && needsPrefix(columns.find((x) => x.name === c.name)!));
  const share = Math.floor(MAX_KEY_BYTES / Math.max(1, index.columns.length));
  const built = index.columns.map((c) => {
    if (!long.includes(c)) return c;
    const column = columns.find((x) => x.name === c.name)!;
    return { ...c, prefix: Math.floor(share / charBytes(column)) };
  });
  const named = built.filter((c) => long.some((l) => l.name === c.name));
  return {
    index: { name: index.name, unique: index.unique, columns: built },
    ...(named.length
      ? { adaptation: `indexes the first ${named.map((c) => `${c.prefix} ${columns.find((x) => x.name === c.name)!.type.kind === 'binary' ? 'bytes' : 'characters'} of ${c.name}`).join(', ')} (MySQL indexes long text and BLOBs by a prefix)${index.unique ? '; uniqueness then holds on the prefix' : ''}` }
      : {}),
  };
}

function adaptGeneratedKey(column: Column, primaryKey: string[]): { adaptation?: string } | { reason: string } {
  if (column.type.kind !== 'integer') return { reason: `AUTO_INCREMENT needs an integer column, and ${column.name} is ${column.nativeType}` };
  if (primaryKey[0] !== column.name) return { reason: `AUTO_INCREMENT needs ${column.name} first in the primary key` };
  return { adaptation: 'AUTO_INCREMENT' };
}

function adaptOnUpdateNow(column: Column): { adaptation: string } | { reason: string } {
  if (column.type.kind !== 'timestamp') return { reason: `ON UPDATE CURRENT_TIMESTAMP needs a DATETIME or TIMESTAMP column, and ${column.name} is ${column.nativeType}` };
  return { adaptation: 'ON UPDATE CURRENT_TIMESTAMP' };
}

function columnList(session: Session, columns: TargetIndex['columns']): string {
  return columns.map((c) => `${session.quoteIdentifier(c.name)}${c.prefix !== undefined ? `(${Math.floor(c.prefix)})` : ''}${c.descending ? ' DESC' : ''}`).join(', ');
}

/**
 * One ALTER TABLE, built in place (indexes sorted once the rows are in). The
 * generated key was declared with the staging table where it could be: made
 * AUTO_INCREMENT now, InnoDB would copy the table. (Every dbferry session keeps
 * an explicit 0 as 0 in such a column: NO_AUTO_VALUE_ON_ZERO, connect.ts.)
 */
async function buildTable(session: Session, work: TableWork): Promise<void> {
  const q = (n: string) => session.quoteIdentifier(n);
  const stamped = new Set(work.onUpdateNow);
  // The comments were created with the table; a MODIFY states the column again whole, its comment too.
  const comment = (column: string) => {
    const c = work.comments.find((x) => x.column === column);
    return c ? ` COMMENT ${stringLiteral(c.text, true)}` : '';
  };
  const changes = work.defaults.filter((d) => !stamped.has(d.column)).map((d) => `ALTER COLUMN ${q(d.column)} SET DEFAULT ${d.sql}`);
  // ON UPDATE is part of the column's definition: stated again whole, with its default.
  for (const column of work.columns.filter((c) => stamped.has(c.name))) {
    const d = work.defaults.find((x) => x.column === column.name);
    const p = fractionalDigits(column.nativeType);
    changes.push(`MODIFY ${q(column.name)} ${column.nativeType}${column.nullable ? ' NULL' : ' NOT NULL'}${d ? ` DEFAULT ${d.sql}` : ''} ON UPDATE CURRENT_TIMESTAMP${p ? `(${p})` : ''}${comment(column.name)}`);
  }
  const key = work.generatedKey && work.columns.find((c) => c.name === work.generatedKey!.column);
  if (key && !(await generatesKeys(session, work.table, key.name))) changes.push(`MODIFY ${q(key.name)} ${key.nativeType} NOT NULL AUTO_INCREMENT${comment(key.name)}`);
  for (const check of work.checks) changes.push(`ADD CONSTRAINT ${q(check.name)} ${check.expression}`);
  for (const check of work.enumChecks) changes.push(`ADD CONSTRAINT ${q(check.name)} CHECK (${q(check.column)} IN (${check.values.map((v) => stringLiteral(v, true)).join(', ')}))`);
  for (const index of work.indexes) changes.push(`ADD ${index.native ? `${index.native} ` : index.unique ? 'UNIQUE ' : ''}INDEX ${q(index.name)} (${columnList(session, index.columns)})`);
  if (changes.length) await session.execute(`ALTER TABLE ${session.quoteTable(work.table)} ${changes.join(', ')}`);
}

async function generatesKeys(session: Session, table: TableName, column: string): Promise<boolean> {
  const found = await rows(session, `SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${DB} AND TABLE_NAME = ?`, table);
  return found.some(([name, extra]) => name === column && /auto_increment/i.test(extra ?? ''));
}

/** Checked for orphans by a query before (schema/apply.ts): added without InnoDB's row-by-row check and table copy. */
async function addForeignKey(session: Session, table: TableName, fk: TargetForeignKey): Promise<void> {
  const q = (n: string) => session.quoteIdentifier(n);
  await session.execute('SET SESSION foreign_key_checks = 0');
  try {
    await session.execute(
      `ALTER TABLE ${session.quoteTable(table)} ADD CONSTRAINT ${q(fk.name)} FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${session.quoteTable(fk.references)} (${fk.referencedColumns.map(q).join(', ')}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`,
    );
  } finally {
    await session.execute('SET SESSION foreign_key_checks = 1');
  }
}

async function setCounter(session: Session, table: TableName, column: string, next: string): Promise<void> {
  const t = session.quoteTable(table);
  const [[top]] = (await session.query(`SELECT COALESCE(MAX(${session.quoteIdentifier(column)}), 0) + 1 FROM ${t}`)).rows;
  const value = [BigInt(next), BigInt(valueText(top))].reduce((a, b) => (a > b ? a : b));
  // ALTER TABLE takes no parameter here: a BigInt's own digits.
  await session.execute(`ALTER TABLE ${t} AUTO_INCREMENT = ${value.toString()}`);
}

/** Foreign key names are unique per database. */
async function takenNames(session: Session): Promise<string[]> {
  const db = await database(session);
  const r = await session.query("SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND CONSTRAINT_TYPE = 'FOREIGN KEY'", [db]);
  return r.rows.map(([n]) => valueText(n));
}

/** InnoDB refuses a foreign key between integers of different sizes or signedness (error 1825), even unchecked. */
function foreignKeyProblem(columns: Column[], referenced: Column[]): string | undefined {
  const bare = (c: Column) => c.nativeType.toLowerCase().replace(/\(\d+\)/, '').trim();
  const i = columns.findIndex((c, k) => (c.type.kind === 'integer' || referenced[k].type.kind === 'integer') && bare(c) !== bare(referenced[k]));
  if (i < 0) return undefined;
  return `InnoDB needs the same integer type on both sides, and ${columns[i].name} is ${columns[i].nativeType} where ${referenced[i].name} is ${referenced[i].nativeType} (a "types" override on one of them makes them match)`;
}

export const mysqlSchema: SchemaSupport = {
  placeholder: () => '?',
  foreignKeyProblem,
  readTable,
  takenNames,
  otherObjects,
  indexNamesPerTable: true,
  renderDefault,
  adaptIndex,
  adaptGeneratedKey,
  adaptOnUpdateNow,
  foreignKeysWithTable: false,
  unsupportedActions: ['SET DEFAULT'],
  buildTable,
  addForeignKey,
  setCounter,
};
