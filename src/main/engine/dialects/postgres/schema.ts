/**
 * PostgreSQL's side of the schema a migration carries: indexes, foreign keys,
 * defaults and identity/serial keys read from pg_catalog, and built on a
 * table the run created, inside the apply transaction (DDL is transactional).
 */
import type { Session } from '../dialect.js';
import type { Column, TableName, Value } from '../../types.js';
import { fitDefault, numberLiteral, stringLiteral } from '../../schema/defaults.js';
import type { ColumnDefault, DefaultValue, ForeignKeyDef, GeneratedKey, IndexDef, OtherObject, ReferentialAction, SchemaSupport, TableSchema, TableWork, TargetForeignKey, TargetIndex } from '../../schema/model.js';
import { valueText } from '../../schema/model.js';
import { notTranslatable } from '../../schema/indexes.js';
import { MAINTENANCE_MEMORY } from './memory.js';

const ACTIONS: Record<string, ReferentialAction> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** The table as regclass, from its parts (never a name spliced into SQL). */
const REL = `(quote_ident($1) || '.' || quote_ident($2))::regclass`;

const INDEXES_SQL = `SELECT ic.relname, i.indisunique::text, (i.indpred IS NOT NULL)::text, (i.indexprs IS NOT NULL)::text, am.amname,
            (SELECT json_agg(json_build_object('name', a.attname, 'desc', (i.indoption[k.ord - 1] & 1) = 1) ORDER BY k.ord)
               FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE k.ord <= i.indnkeyatts)::text,
            pg_catalog.pg_get_indexdef(i.indexrelid),
            'USING ' || am.amname || ' (' ||
            (SELECT string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k.ord::int, true) ||
                      CASE WHEN (i.indoption[k.ord - 1] & 1) = 1 THEN ' DESC' || CASE WHEN (i.indoption[k.ord - 1] & 2) = 0 THEN ' NULLS LAST' ELSE '' END
                           WHEN (i.indoption[k.ord - 1] & 2) = 2 THEN ' NULLS FIRST' ELSE '' END, ', ' ORDER BY k.ord)
               FROM generate_series(1, i.indnkeyatts) k(ord)) || ')' ||
            COALESCE(' WHERE ' || pg_catalog.pg_get_expr(i.indpred, i.indrelid, true), '')
       FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_catalog.pg_am am ON am.oid = ic.relam
      WHERE i.indrelid = ${REL} AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype = 'x')
      ORDER BY ic.relname`;

const fkColumns = (key: string, rel: string) =>
  `(SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(c.${key}) WITH ORDINALITY k(attnum, ord)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = c.${rel} AND a.attnum = k.attnum)::text`;

const FOREIGN_KEYS_SQL = `SELECT c.conname, rn.nspname, rc.relname, c.confdeltype::text, c.confupdtype::text, ${fkColumns('conkey', 'conrelid')}, ${fkColumns('confkey', 'confrelid')}
       FROM pg_catalog.pg_constraint c
       JOIN pg_catalog.pg_class rc ON rc.oid = c.confrelid
       JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE c.conrelid = ${REL} AND c.contype = 'f'
      ORDER BY c.conname`;

const COLUMNS_SQL = `SELECT a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
            pg_catalog.pg_get_serial_sequence(${REL}::text, a.attname)
       FROM pg_catalog.pg_attribute a
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = ${REL} AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      ORDER BY a.attnum`;

const CHECKS_SQL = `SELECT conname, pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint WHERE conrelid = ${REL} AND contype = 'c' ORDER BY conname`;

const TRIGGERS_SQL = `SELECT tgname FROM pg_catalog.pg_trigger WHERE tgrelid = ${REL} AND NOT tgisinternal ORDER BY tgname`;

const COMMENTS_SQL = `SELECT NULL, pg_catalog.obj_description(${REL}, 'pg_class') WHERE pg_catalog.obj_description(${REL}, 'pg_class') IS NOT NULL
   UNION ALL
   SELECT * FROM (SELECT a.attname::text, pg_catalog.col_description(a.attrelid, a.attnum) c FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = ${REL} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) x WHERE c IS NOT NULL`;

/**
 * Several of these catalog queries (same $1, $2) in one round trip: each one's
 * rows as a JSON array of arrays, its columns renamed by position (c1 … cN) so
 * that none is lost to a duplicate name, in the order its ORDER BY gives (a
 * sorted subquery aggregated as it comes). Values come back as text (or null).
 */
async function rowsTogether(session: Session, queries: Array<{ sql: string; columns: number }>, table: TableName): Promise<string[][][]> {
  const parts = queries.map(({ sql, columns }) => {
    const names = Array.from({ length: columns }, (_, i) => `c${i + 1}`);
    return `(SELECT COALESCE(json_agg(json_build_array(${names.map((n) => `q.${n}`).join(', ')})), '[]')::text FROM (${sql}) AS q(${names.join(', ')}))`;
  });
  const r = await session.query(`SELECT ${parts.join(',\n')}`, [table.schema ?? 'public', table.name]);
  return (r.rows[0] ?? []).map((v) => (JSON.parse(valueText(v as Value)) as Array<Array<string | null>>).map((row) => row.map((x) => x as string)));
}

function readIndexes(found: string[][]): IndexDef[] {
  return found.map(([name, unique, partial, expression, method, cols, definition, native]) => {
    const columns = (JSON.parse(cols) as { name: string | null; desc: boolean }[]).map((c) => ({ name: c.name ?? '', ...(c.desc ? { descending: true } : {}) }));
    return {
      name,
      unique: unique === 'true',
      columns: columns.filter((c) => c.name !== ''),
      ...(partial === 'true' ? { partial: true } : {}),
      ...(expression === 'true' || columns.some((c) => c.name === '') ? { expression: true } : {}),
      ...(method !== 'btree' ? { method } : {}),
      definition,
      native,
    };
  });
}

function readForeignKeys(found: string[][]): ForeignKeyDef[] {
  return found.map(([name, schema, parent, onDelete, onUpdate, columns, referenced]) => ({
    name,
    columns: JSON.parse(columns) as string[],
    references: { schema, name: parent },
    referencedColumns: JSON.parse(referenced) as string[],
    onDelete: ACTIONS[onDelete] ?? 'NO ACTION',
    onUpdate: ACTIONS[onUpdate] ?? 'NO ACTION',
  }));
}

/** The table of known expressions, as pg_get_expr prints them. */
export function parsePostgresDefault(expression: string): DefaultValue | undefined {
  let e = expression.trim();
  // Casts pg_get_expr adds to literals: 'abc'::character varying, '{}'::jsonb, (-1)::integer.
  const cast = /::(?:"[^"]+"|[a-z_][\w ]*?)(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?$/i;
  while (cast.test(e)) e = e.replace(cast, '').trim();
  if (/^\([^()]*\)$/.test(e)) e = e.slice(1, -1).trim();
  const lower = e.toLowerCase();
  if (lower === 'null') return { kind: 'null' };
  if (['now()', 'current_timestamp', 'localtimestamp', 'transaction_timestamp()', 'statement_timestamp()', 'clock_timestamp()'].includes(lower) || /^(current_timestamp|localtimestamp)\(\d\)$/.test(lower)) return { kind: 'now' };
  if (lower === 'current_date') return { kind: 'current-date' };
  if (lower === 'gen_random_uuid()' || lower === 'uuid_generate_v4()') return { kind: 'uuid' };
  if (lower === 'true' || lower === 'false') return { kind: 'boolean', value: lower === 'true' };
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(e)) return { kind: 'number', value: e };
  const quoted = /^'((?:[^']|'')*)'$/s.exec(e);
  if (quoted) return { kind: 'string', value: quoted[1].replaceAll("''", "'") };
  return undefined;
}

async function readColumns(session: Session, found: string[][]): Promise<{ defaults: ColumnDefault[]; generatedKey?: GeneratedKey }> {
  const defaults: ColumnDefault[] = [];
  let generatedKey: GeneratedKey | undefined;
  for (const [column, expression, identity, owned] of found) {
    // A sequence the column's default draws from, owned by the column (serial) or not (Sakila: CREATE SEQUENCE, then DEFAULT nextval(…)).
    const sequence = owned ?? unownedSequence(expression);
    const serial = sequence !== null && expression !== null && /^nextval\(/i.test(expression);
    if ((identity === 'a' || identity === 'd' || serial) && !generatedKey) {
      generatedKey = { column, kind: serial ? 'serial' : 'identity', next: await nextValue(session, sequence) };
      continue;
    }
    if (expression !== null) defaults.push({ column, expression, value: parsePostgresDefault(expression) });
  }
  return { defaults, generatedKey };
}

/** The sequence of a `nextval('name'::regclass)` default, as the regclass text names it; null for any other default. */
export function unownedSequence(expression: string | null): string | null {
  const m = expression === null ? null : /^nextval\('((?:[^']|'')+)'::regclass\)$/i.exec(expression.trim());
  return m ? m[1].replaceAll("''", "'") : null;
}

/**
 * What nextval would return, read from the sequence itself: its last value plus
 * its step once called, else its last value (never used, or set with
 * setval(…, false), as dbferry leaves a target it migrated). pg_sequences shows
 * NULL for both of the latter, which would send the counter back to the start.
 */
async function nextValue(session: Session, sequence: string | null): Promise<string | undefined> {
  if (!sequence) return undefined;
  const named = await session.query(
    `SELECT n.nspname, c.relname, s.seqincrement::text FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
      WHERE c.oid = $1::regclass`,
    [sequence],
  );
  const row = named.rows[0];
  if (!row) return undefined;
  const [schema, name, step] = row.map((v) => valueText(v as Value));
  const r = await session.query(
    `SELECT (CASE WHEN is_called THEN last_value + $1::bigint ELSE last_value END)::text FROM ${session.quoteTable({ schema, name })}`,
    [step],
  );
  const v = r.rows[0]?.[0];
  return v === undefined || v === null ? undefined : valueText(v);
}

async function readTable(session: Session, table: TableName): Promise<TableSchema> {
  // All six in one round trip (over a remote link each is a network turn): a pg client runs one query at a time.
  const [indexRows, foreignKeyRows, columnRows, checks, triggers, comments] = await rowsTogether(
    session,
    [
      { sql: INDEXES_SQL, columns: 8 },
      { sql: FOREIGN_KEYS_SQL, columns: 7 },
      { sql: COLUMNS_SQL, columns: 4 },
      { sql: CHECKS_SQL, columns: 2 },
      { sql: TRIGGERS_SQL, columns: 1 },
      { sql: COMMENTS_SQL, columns: 2 },
    ],
    table,
  );
  const indexes = readIndexes(indexRows);
  const foreignKeys = readForeignKeys(foreignKeyRows);
  const columns = await readColumns(session, columnRows);
  // A trigger that stamps a column is named with the table's triggers: it is not read as one.
  return { indexes, foreignKeys, ...columns, onUpdateNow: [], checks: checks.map(([name, expression]) => ({ name, expression })),
    triggers: triggers.map(([t]) => t),
    comments: comments.map(([column, text]) => (column === null ? { text } : { column, text })),
  };
}

async function otherObjects(session: Session, schema = 'public'): Promise<OtherObject[]> {
  const r = await session.query(
    `SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'sequence' END, c.relname
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND (c.relkind IN ('v', 'm') OR (c.relkind = 'S' AND NOT EXISTS (
            SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))))
     UNION ALL
     SELECT 'routine', p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 1, 2`,
    [schema],
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
      const p = column.type.kind === 'timestamp' ? column.type.precision : undefined;
      const fn = column.type.kind === 'timestamp' && column.type.withTimeZone ? 'CURRENT_TIMESTAMP' : 'LOCALTIMESTAMP';
      return { sql: p !== undefined && p < 6 ? `${fn}(${p})` : fn };
    }
    case 'current-date':
      return { sql: 'CURRENT_DATE' };
    case 'uuid':
      return { sql: column.type.kind === 'uuid' ? 'gen_random_uuid()' : 'gen_random_uuid()::text' };
    case 'boolean':
      return { sql: fitted.value ? 'true' : 'false' };
    case 'number':
      return { sql: numberLiteral(fitted.value) };
    case 'string':
      return { sql: stringLiteral(fitted.value) };
  }
}

function adaptIndex(index: IndexDef, _columns: Column[], sameEngine: boolean): { index: TargetIndex; adaptation?: string } | { reason: string } {
  // Between PostgreSQL databases an index is rebuilt from its own text, whatever its method, expressions or condition.
  if (sameEngine && index.native) return { index: { name: index.name, unique: index.unique, columns: index.columns, native: index.native } };
  const not = notTranslatable(index);
  if (not) return { reason: not };
  const prefixed = index.columns.filter((c) => c.prefix !== undefined);
  return {
    index: { name: index.name, unique: index.unique, columns: index.columns.map(({ name, descending }) => ({ name, ...(descending ? { descending } : {}) })) },
    ...(prefixed.length
      ? { adaptation: `indexes whole values of ${prefixed.map((c) => `${c.name} (was its first ${c.prefix})`).join(', ')}: PostgreSQL has no prefix indexes${index.unique ? ', so uniqueness now holds on whole values' : ''}` }
      : {}),
  };
}

function adaptGeneratedKey(column: Column): { adaptation?: string } | { reason: string } {
  if (column.type.kind !== 'integer' || !/^(smallint|integer|bigint)$/i.test(column.nativeType)) {
    return { reason: `PostgreSQL generates keys only in smallint, integer or bigint columns, and ${column.name} is ${column.nativeType}` };
  }
  if (column.nullable) return { reason: `an identity column is NOT NULL, and ${column.name} may hold NULLs in the source` };
  return { adaptation: 'GENERATED BY DEFAULT AS IDENTITY' };
}

function adaptOnUpdateNow(column: Column): { adaptation: string } | { reason: string } {
  if (column.type.kind !== 'timestamp') return { reason: `${column.name} is ${column.nativeType}, not a timestamp` };
  return { adaptation: 'a BEFORE UPDATE trigger sets it to the current time when the row changes and the update leaves it alone, as MySQL does' };
}

/**
 * MySQL's ON UPDATE CURRENT_TIMESTAMP as pgloader makes it: a trigger function
 * per table. Its body is code: the column names in it are quoted as
 * identifiers, inside a dollar-quoted string no identifier can end.
 */
async function stampOnUpdate(session: Session, work: TableWork): Promise<void> {
  if (work.onUpdateNow.length === 0) return;
  const q = (n: string) => session.quoteIdentifier(n);
  const schema = work.table.schema ?? 'public';
  const fn = { schema, name: `dbferry_${work.table.name}`.slice(0, 52) + '_on_update' };
  const stamps = work.onUpdateNow.map((c) => {
    const column = work.columns.find((x) => x.name === c)!;
    const now = column.type.kind === 'timestamp' && column.type.withTimeZone ? 'CURRENT_TIMESTAMP' : 'LOCALTIMESTAMP';
    return `IF NEW.${q(c)} IS NOT DISTINCT FROM OLD.${q(c)} THEN NEW.${q(c)} := ${now}; END IF;`;
  });
  const tag = '$dbferry$';
  if ([...work.onUpdateNow].some((c) => c.includes(tag))) throw new Error(`a column name holds ${tag}`);
  await session.execute(
    `CREATE FUNCTION ${session.quoteTable(fn)}() RETURNS trigger LANGUAGE plpgsql AS ${tag} BEGIN IF NEW IS DISTINCT FROM OLD THEN ${stamps.join(' ')} END IF; RETURN NEW; END ${tag}`,
  );
  await session.execute(`CREATE TRIGGER ${q(`${work.table.name.slice(0, 53)}_on_update`)} BEFORE UPDATE ON ${session.quoteTable(work.table)} FOR EACH ROW EXECUTE FUNCTION ${session.quoteTable(fn)}()`);
}

function indexSql(session: Session, table: TableName, index: TargetIndex): string {
  const q = (n: string) => session.quoteIdentifier(n);
  // A column MySQL compared regardless of case (options.caseInsensitiveUnique "lower"): lower() of it.
  const cols = index.columns.map((c) => `${c.folded ? `(lower(${q(c.name)}))` : q(c.name)}${c.descending ? ' DESC' : ''}`).join(', ');
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${q(index.name)} ON ${session.quoteTable(table)} ${index.native ?? `(${cols})`}`;
}

async function buildTable(session: Session, work: TableWork): Promise<void> {
  const q = (n: string) => session.quoteIdentifier(n);
  const t = session.quoteTable(work.table);
  const changes = work.defaults.map((d) => `ALTER COLUMN ${q(d.column)} SET DEFAULT ${d.sql}`);
  if (work.generatedKey) changes.push(`ALTER COLUMN ${q(work.generatedKey.column)} ADD GENERATED BY DEFAULT AS IDENTITY`);
  for (const check of work.checks) changes.push(`ADD CONSTRAINT ${q(check.name)} ${check.expression}`);
  for (const check of work.enumChecks) changes.push(`ADD CONSTRAINT ${q(check.name)} CHECK (${q(check.column)} IN (${check.values.map((v) => stringLiteral(v)).join(', ')}))`);
  if (changes.length) await session.execute(`ALTER TABLE ${t} ${changes.join(', ')}`);
  if (work.indexes.some((i) => !i.prebuilt)) await session.execute(MAINTENANCE_MEMORY);
  for (const index of work.indexes) {
    // Built on the staging table before the apply (prebuildIndex): renamed into place, a catalog change.
    if (index.prebuilt) await session.execute(`ALTER INDEX ${session.quoteTable({ schema: work.table.schema, name: index.prebuilt })} RENAME TO ${q(index.name)}`);
    else await session.execute(indexSql(session, work.table, index));
  }
  await stampOnUpdate(session, work);
  // COMMENT ON takes a literal, no parameter.
  for (const c of work.comments) {
    const what = c.column === undefined ? `TABLE ${t}` : `COLUMN ${t}.${q(c.column)}`;
    await session.execute(`COMMENT ON ${what} IS ${stringLiteral(c.text)}`);
  }
}

async function prebuildIndex(session: Session, staging: TableName, index: TargetIndex, name: string, opts: { serial?: boolean } = {}): Promise<void> {
  const found = await session.query(
    `SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = ${REL} AND c.relname = $3`,
    [staging.schema ?? 'public', staging.name, name],
  );
  if (found.rows.length) return;
  // One statement string, one implicit transaction: the memory setting (memory.ts) is for this build only.
  // Builds that fill the cores already gain nothing from parallel workers, which only contend: measured with
  // four builds at once on 2 cores (1M rows, PostgreSQL local), 0.65 s less of the server's CPU without them.
  const serial = opts.serial ? "SELECT pg_catalog.set_config('max_parallel_maintenance_workers', '0', true); " : '';
  await session.execute(`${MAINTENANCE_MEMORY}; ${serial}${indexSql(session, staging, { ...index, name })}`);
}

/** NOT VALID adds the constraint without a scan; VALIDATE then checks the rows under a lighter lock. */
async function addForeignKey(session: Session, table: TableName, fk: TargetForeignKey): Promise<void> {
  const q = (n: string) => session.quoteIdentifier(n);
  const t = session.quoteTable(table);
  await session.execute(
    `ALTER TABLE ${t} ADD CONSTRAINT ${q(fk.name)} FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${session.quoteTable(fk.references)} (${fk.referencedColumns.map(q).join(', ')}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate} NOT VALID`,
  );
  await session.execute(`ALTER TABLE ${t} VALIDATE CONSTRAINT ${q(fk.name)}`);
}

async function setCounter(session: Session, table: TableName, column: string, next: string): Promise<void> {
  const t = session.quoteTable(table);
  await session.query(
    `SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence($1, $2), GREATEST($3::numeric, (SELECT COALESCE(max(${session.quoteIdentifier(column)}), 0) + 1 FROM ${t}))::bigint, false)`,
    [t, column, next],
  );
}

/** Indexes share the schema's namespace with tables, sequences and views. */
async function takenNames(session: Session, schema = 'public'): Promise<string[]> {
  const r = await session.query('SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1', [schema]);
  return r.rows.map(([n]) => valueText(n));
}

export const postgresSchema: SchemaSupport = {
  placeholder: (n) => `$${n}`,
  readTable,
  takenNames,
  otherObjects,
  indexNamesPerTable: false,
  renderDefault,
  adaptIndex,
  adaptGeneratedKey,
  adaptOnUpdateNow,
  foreignKeysWithTable: false,
  validatesForeignKeys: true,
  unsupportedActions: [],
  buildTable,
  prebuildIndex,
  addForeignKey,
  setCounter,
};
