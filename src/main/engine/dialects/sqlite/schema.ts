/**
 * SQLite's side of the schema a migration carries. SQLite adds neither a
 * default, a foreign key nor AUTOINCREMENT to a table that exists, so a table
 * that needs them is built again with them (the documented way: new table,
 * copy, drop, rename), inside the apply transaction, before its indexes.
 */
import type { Session } from '../dialect.js';
import type { Column, TableName } from '../../types.js';
import { STAGING_PREFIX } from '../../naming.js';
import { fitDefault, numberLiteral, stringLiteral } from '../../schema/defaults.js';
import { notTranslatable } from '../../schema/indexes.js';
import type { ColumnDefault, DefaultValue, ForeignKeyDef, GeneratedKey, IndexDef, OtherObject, ReferentialAction, SchemaSupport, TableSchema, TableWork, TargetIndex } from '../../schema/model.js';
import { valueText } from '../../schema/model.js';

async function rows(session: Session, sql: string, params: string[]): Promise<(string | null)[][]> {
  const r = await session.query(sql, params);
  return r.rows.map((row) => row.map((v) => (v === null ? null : valueText(v))));
}

async function readIndexes(session: Session, table: string): Promise<IndexDef[]> {
  const list = await rows(session, `SELECT l.name, l."unique", l.origin, l.partial, m.sql FROM pragma_index_list(?) l LEFT JOIN sqlite_master m ON m.name = l.name AND m.type = 'index' ORDER BY l.name`, [table]);
  const out: IndexDef[] = [];
  for (const [name, unique, origin, partial, sql] of list) {
    if (origin === 'pk') continue;
    const parts = await rows(session, 'SELECT cid, name, "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno', [name!]);
    const columns = parts.filter(([cid]) => Number(cid) >= 0).map(([, column, desc]) => ({ name: column!, ...(desc === '1' ? { descending: true } : {}) }));
    out.push({
      // A UNIQUE constraint's index has a name SQLite reserves: named as PostgreSQL would.
      name: origin === 'u' ? `${table}_${columns.map((c) => c.name).join('_')}_key` : name!,
      unique: unique === '1',
      columns,
      ...(parts.some(([cid]) => Number(cid) < 0) ? { expression: true } : {}),
      ...(partial === '1' ? { partial: true } : {}),
      ...(sql ? { definition: sql } : {}),
    });
  }
  return out;
}

async function primaryKey(session: Session, table: string): Promise<string[]> {
  return (await rows(session, 'SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk', [table])).map(([n]) => n!);
}

async function readForeignKeys(session: Session, table: string): Promise<ForeignKeyDef[]> {
  const found = await rows(session, 'SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq', [table]);
  const byId = new Map<string, ForeignKeyDef & { implicit: boolean }>();
  for (const [id, parent, from, to, onUpdate, onDelete] of found) {
    let fk = byId.get(id!);
    if (!fk) {
      fk = { name: '', columns: [], references: { name: parent! }, referencedColumns: [], onDelete: onDelete as ReferentialAction, onUpdate: onUpdate as ReferentialAction, implicit: to === null };
      byId.set(id!, fk);
    }
    fk.columns.push(from!);
    if (to !== null) fk.referencedColumns.push(to);
  }
  const out: ForeignKeyDef[] = [];
  for (const { implicit, ...fk } of byId.values()) {
    // "REFERENCES parent" without columns means the parent's primary key.
    if (implicit) fk.referencedColumns = await primaryKey(session, fk.references.name);
    // SQLite's foreign keys are seldom named: named as PostgreSQL would.
    out.push({ ...fk, name: `${table}_${fk.columns.join('_')}_fkey` });
  }
  return out;
}

/** The table of known expressions, as SQLite keeps a default's text. */
export function parseSqliteDefault(raw: string): DefaultValue | undefined {
  let e = raw.trim();
  while (/^\([^()]*(\([^()]*\))?[^()]*\)$/s.test(e)) e = e.slice(1, -1).trim();
  const lower = e.toLowerCase().replace(/\s+/g, '');
  if (lower === 'null') return { kind: 'null' };
  if (lower === 'current_timestamp' || lower === "datetime('now')") return { kind: 'now' };
  if (lower === 'current_date' || lower === "date('now')") return { kind: 'current-date' };
  if (lower === 'true' || lower === 'false') return { kind: 'boolean', value: lower === 'true' };
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(e)) return { kind: 'number', value: e };
  const quoted = /^'((?:[^']|'')*)'$/s.exec(e);
  if (quoted) return { kind: 'string', value: quoted[1].replaceAll("''", "'") };
  return undefined;
}

async function readColumns(session: Session, table: string, sql: string): Promise<{ defaults: ColumnDefault[]; generatedKey?: GeneratedKey }> {
  const found = await rows(session, 'SELECT name, type, pk, dflt_value FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid', [table]);
  const defaults = found.filter(([, , , d]) => d !== null).map(([column, , , d]) => ({ column: column!, expression: d!, value: parseSqliteDefault(d!) }));
  const keys = found.filter(([, , pk]) => pk !== '0');
  // An INTEGER PRIMARY KEY is the rowid: it generates max + 1, or with AUTOINCREMENT, past any value ever used.
  if (keys.length !== 1 || keys[0][1]?.toUpperCase() !== 'INTEGER' || /WITHOUT\s+ROWID\s*$/i.test(sql)) return { defaults };
  const column = keys[0][0]!;
  const autoincrement = /AUTOINCREMENT/i.test(sql);
  const q = session.quoteIdentifier(column);
  const [[top]] = await rows(session, `SELECT COALESCE(MAX(${q}), 0) + 1 FROM ${session.quoteTable({ name: table })}`, []);
  let next = BigInt(top!);
  if (autoincrement && (await rows(session, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'", [])).length) {
    const seq = await rows(session, 'SELECT seq + 1 FROM sqlite_sequence WHERE name = ?', [table]);
    if (seq.length && BigInt(seq[0][0]!) > next) next = BigInt(seq[0][0]!);
  }
  return { defaults, generatedKey: { column, kind: autoincrement ? 'autoincrement' : 'rowid', next: next.toString() } };
}

async function readTable(session: Session, table: TableName): Promise<TableSchema> {
  const [[sql]] = await rows(session, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table.name]);
  const indexes = await readIndexes(session, table.name);
  const foreignKeys = await readForeignKeys(session, table.name);
  const columns = await readColumns(session, table.name, sql ?? '');
  const triggers = await rows(session, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name", [table.name]);
  // SQLite keeps no catalog of CHECK constraints: their presence in the table's text is named.
  const checks = /\bCHECK\s*\(/i.test(sql ?? '') ? [{ name: '(in the table definition)', expression: sql! }] : [];
  return { indexes, foreignKeys, ...columns, onUpdateNow: [], checks, triggers: triggers.map(([t]) => t!), comments: [] };
}

async function otherObjects(session: Session): Promise<OtherObject[]> {
  // A table's triggers are named with its schema (readTable); here the views and theirs.
  const found = await rows(
    session,
    "SELECT type, name FROM sqlite_master WHERE type = 'view' OR (type = 'trigger' AND tbl_name IN (SELECT name FROM sqlite_master WHERE type = 'view')) ORDER BY type, name",
    [],
  );
  return found.map(([kind, name]) => ({ kind: kind as OtherObject['kind'], name: name! }));
}

function renderDefault(value: DefaultValue, column: Column): { sql: string } | { reason: string } {
  const fitted = fitDefault(value, column);
  if ('reason' in fitted) return fitted;
  switch (fitted.kind) {
    case 'null':
      return { sql: 'NULL' };
    case 'now':
      return { sql: 'CURRENT_TIMESTAMP' };
    case 'current-date':
      return { sql: 'CURRENT_DATE' };
    case 'uuid':
      return { reason: 'SQLite has no function that makes a UUID' };
    case 'boolean':
      return { sql: fitted.value ? '1' : '0' };
    case 'number':
      return { sql: numberLiteral(fitted.value) };
    case 'string':
      return { sql: stringLiteral(fitted.value) };
  }
}

function adaptIndex(index: IndexDef): { index: TargetIndex; adaptation?: string } | { reason: string } {
  const not = notTranslatable(index);
  if (not) return { reason: not };
  const prefixed = index.columns.filter((c) => c.prefix !== undefined);
  return {
    index: { name: index.name, unique: index.unique, columns: index.columns.map(({ name, descending }) => ({ name, ...(descending ? { descending } : {}) })) },
    ...(prefixed.length ? { adaptation: `indexes whole values of ${prefixed.map((c) => c.name).join(', ')}: SQLite has no prefix indexes` } : {}),
  };
}

function adaptGeneratedKey(column: Column, key: string[], from: GeneratedKey['kind']): { adaptation?: string } | { reason: string } {
  if (column.type.kind !== 'integer' || key.length !== 1 || key[0] !== column.name) {
    return { reason: `SQLite generates keys only in an INTEGER PRIMARY KEY of one column, and ${column.name} is ${column.nativeType}${key.length > 1 ? ` in a key of ${key.length} columns` : ''}` };
  }
  // A SQLite rowid key (INTEGER PRIMARY KEY, no AUTOINCREMENT) is one here as it is.
  if (from === 'rowid') return column.nativeType.toUpperCase() === 'INTEGER' ? {} : { adaptation: `INTEGER PRIMARY KEY (declared INTEGER instead of ${column.nativeType}: SQLite generates keys only there)` };
  return { adaptation: `INTEGER PRIMARY KEY AUTOINCREMENT${column.nativeType.toUpperCase() === 'INTEGER' ? '' : ` (declared INTEGER instead of ${column.nativeType}: SQLite generates keys only there)`}` };
}

function adaptOnUpdateNow(column: Column): { adaptation: string } | { reason: string } {
  if (column.type.kind !== 'timestamp') return { reason: `${column.name} is ${column.nativeType || 'typeless'}, not a timestamp` };
  return { adaptation: 'an AFTER UPDATE trigger sets it to CURRENT_TIMESTAMP (UTC) when an update leaves it alone' };
}

function rowidCarried(work: TableWork): boolean {
  return work.generatedKey?.from === 'rowid';
}

function createSql(session: Session, name: TableName, work: TableWork): string {
  const q = (n: string) => session.quoteIdentifier(n);
  const defaults = new Map(work.defaults.map((d) => [d.column, d.sql]));
  const generated = work.generatedKey?.column;
  const lines = (work.tableColumns ?? work.columns).map((c) => {
    if (c.name === generated) return `${q(c.name)} INTEGER PRIMARY KEY${rowidCarried(work) ? '' : ' AUTOINCREMENT'}`;
    const d = defaults.get(c.name);
    const computed = 'generated' in c && c.generated ? ` GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.stored ? 'STORED' : 'VIRTUAL'}` : '';
    return `${q(c.name)}${c.nativeType ? ` ${c.nativeType}` : ''}${computed}${c.nullable ? '' : ' NOT NULL'}${d !== undefined ? ` DEFAULT ${d}` : ''}`;
  });
  if (!generated && work.primaryKey.length) lines.push(`PRIMARY KEY (${work.primaryKey.map(q).join(', ')})`);
  for (const check of work.enumChecks) lines.push(`CONSTRAINT ${q(check.name)} CHECK (${q(check.column)} IN (${check.values.map((v) => stringLiteral(v)).join(', ')}))`);
  for (const fk of work.foreignKeys) {
    lines.push(
      `CONSTRAINT ${q(fk.name)} FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${q(fk.references.name)} (${fk.referencedColumns.map(q).join(', ')}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`,
    );
  }
  return `CREATE TABLE ${session.quoteTable(name)} (\n  ${lines.join(',\n  ')}\n)`;
}

/**
 * The table again, with its defaults, foreign keys and generated key. The old
 * one is renamed away first without rewriting what refers to it
 * (legacy_alter_table), so the other tables' foreign keys keep naming this
 * one; foreign keys are checked at the commit (orphans were looked for before).
 */
async function rebuild(session: Session, work: TableWork): Promise<void> {
  const old: TableName = { name: `${STAGING_PREFIX}old_${work.table.name}`.slice(0, 120) };
  const list = work.columns.map((c) => session.quoteIdentifier(c.name)).join(', ');
  await session.execute('PRAGMA defer_foreign_keys = ON');
  await session.execute('PRAGMA legacy_alter_table = ON');
  try {
    await session.execute(`ALTER TABLE ${session.quoteTable(work.table)} RENAME TO ${session.quoteIdentifier(old.name)}`);
    await session.execute(createSql(session, work.table, work));
    await session.execute(`INSERT INTO ${session.quoteTable(work.table)} (${list}) SELECT ${list} FROM ${session.quoteTable(old)}`);
    await session.execute(`DROP TABLE ${session.quoteTable(old)}`);
  } finally {
    await session.execute('PRAGMA legacy_alter_table = OFF');
  }
}

/** The table was created with its generated key already an INTEGER PRIMARY KEY (createTableSql, at staging). */
async function keyInShape(session: Session, work: TableWork): Promise<boolean> {
  const key = work.generatedKey;
  if (!key) return true;
  const [[sql]] = await rows(session, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [work.table.name]);
  const declared = `${session.quoteIdentifier(key.column)} INTEGER PRIMARY KEY${rowidCarried(work) ? '' : ' AUTOINCREMENT'}`;
  return typeof sql === 'string' && sql.toUpperCase().includes(declared.toUpperCase()) && (rowidCarried(work) || /AUTOINCREMENT/i.test(sql));
}

async function buildTable(session: Session, work: TableWork): Promise<void> {
  const keyNeedsRebuild = !(await keyInShape(session, work));
  if (work.defaults.length || keyNeedsRebuild || work.foreignKeys.length || work.enumChecks.length) await rebuild(session, work);
  const q = (n: string) => session.quoteIdentifier(n);
  for (const index of work.indexes) {
    // A column MySQL compared regardless of case (options.caseInsensitiveUnique "lower"): NOCASE.
    const cols = index.columns.map((c) => `${q(c.name)}${c.folded ? ' COLLATE NOCASE' : ''}${c.descending ? ' DESC' : ''}`).join(', ');
    await session.execute(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${q(index.name)} ON ${session.quoteTable(work.table)} (${cols})`);
  }
  // MySQL's ON UPDATE CURRENT_TIMESTAMP: when another column changed and this one was left alone (an update that
  // changes nothing, as a sync's often does, stamps nothing). The trigger's own UPDATE does not fire it again
  // (recursive_triggers is off).
  const t = session.quoteTable(work.table);
  for (const c of work.onUpdateNow) {
    const others = work.columns.filter((x) => x.name !== c).map((x) => `NEW.${q(x.name)} IS NOT OLD.${q(x.name)}`);
    if (others.length === 0) continue;
    await session.execute(
      `CREATE TRIGGER ${q(`${work.table.name}_${c}_on_update`)} AFTER UPDATE ON ${t} FOR EACH ROW WHEN NEW.${q(c)} IS OLD.${q(c)} AND (${others.join(' OR ')}) BEGIN UPDATE ${t} SET ${q(c)} = CURRENT_TIMESTAMP WHERE rowid = NEW.rowid; END`,
    );
  }
}

/** AUTOINCREMENT hands out past sqlite_sequence's value for the table (which the rebuild's copy set to its largest key). */
async function setCounter(session: Session, table: TableName, _column: string, next: string): Promise<void> {
  // A table without AUTOINCREMENT (a rowid carried as it is) hands out max + 1 by itself: no counter to set.
  const [[sql]] = await rows(session, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table.name]);
  if (!/AUTOINCREMENT/i.test(sql ?? '')) return;
  const last = BigInt(next) - 1n;
  const seq = Number.isSafeInteger(Number(last)) ? Number(last) : last;
  const changed = await session.execute('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?', [seq, table.name]);
  if (changed === 0) await session.execute('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', [table.name, seq]);
}

/** Index names are unique in the database, among its tables, views and triggers too. */
async function takenNames(session: Session): Promise<string[]> {
  return (await rows(session, 'SELECT name FROM sqlite_master', [])).map(([n]) => n!);
}

export const sqliteSchema: SchemaSupport = {
  placeholder: () => '?',
  readTable,
  takenNames,
  otherObjects,
  indexNamesPerTable: false,
  renderDefault,
  adaptIndex,
  adaptGeneratedKey,
  adaptOnUpdateNow,
  foreignKeysWithTable: true,
  commentsProblem: 'SQLite keeps no comments',
  unsupportedActions: [],
  buildTable,
  setCounter,
};
