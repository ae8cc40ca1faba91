/**
 * Incremental tables: `"incremental": {"cursor": "updated_at"}` copies only
 * source rows whose cursor is past the watermark of the last applied run. The
 * watermark lives in the target, in dbferry's own table, and is written inside
 * the apply transaction: it moves exactly when the rows it covers are applied,
 * so a crash or a failed run can neither skip rows nor copy them twice.
 */
import { createHash } from 'node:crypto';
import { parseConnectionUrl } from '../../../shared/connectionUrl.js';
import type { Session, TableDef } from '../dialects/dialect.js';
import { STAGING_PREFIX } from '../naming.js';
import type { Column, LogicalType, TableName, Value } from '../types.js';
import { ensureOwnTable, tableExists } from './ownTable.js';

/** Types whose order the engines and dbferry agree on (canonical dates and timestamps sort as text). */
export function cursorTypeProblem(type: LogicalType): string | undefined {
  if (type.kind === 'integer' || type.kind === 'date' || type.kind === 'timestamp') return undefined;
  return `an incremental cursor must be an integer, date or timestamp column (it is ${type.kind}), so that "newer" means the same in every engine`;
}

export function watermarkTable(schema?: string): TableName {
  return { schema, name: `${STAGING_PREFIX}watermarks` };
}

/**
 * Which rows a watermark is about: the source database, table and cursor, and
 * the target table they go to (never the user or the password, which may change).
 */
export function flowId(sourceUrl: string, sourceTable: string, cursor: string, targetTable: string): string {
  const info = parseConnectionUrl(sourceUrl);
  const where = info.engine === 'sqlite' ? `sqlite:${info.path}` : `${info.engine}://${info.host}:${info.port}/${info.database ?? ''}`;
  return createHash('sha256').update(JSON.stringify([where, sourceTable, cursor, targetTable])).digest('hex').slice(0, 40);
}

/** Is a later than b? Integers compare as numbers (bigint or not); dates and timestamps in canonical text. */
export function isAfter(a: Value, b: Value | undefined): boolean {
  if (a === null) return false;
  if (b === undefined || b === null) return true;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a > b;
  return String(a) > String(b);
}

/** The watermark as stored: text that decodes back to the canonical value of the cursor's type. */
export function encodeWatermark(v: Value): string {
  return typeof v === 'bigint' || typeof v === 'number' ? v.toString() : String(v);
}

export function decodeWatermark(text: string, type: LogicalType): Value {
  if (type.kind !== 'integer') return text;
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

const FLOW = /^[0-9a-f]{40}$/;

function checked(flow: string): string {
  // dbferry's own hash, checked, then written as a literal: the statement reads the same in every placeholder style.
  if (!FLOW.test(flow)) throw new Error(`invalid flow id ${flow}`);
  return flow;
}

export async function readWatermark(target: Session, schema: string | undefined, flow: string): Promise<string | undefined> {
  const table = watermarkTable(schema);
  if (!(await tableExists(target, table))) return undefined;
  const q = (n: string) => target.quoteIdentifier(n);
  const rows = await target.query(`SELECT ${q('cursor_value')} FROM ${target.quoteTable(table)} WHERE ${q('flow')} = '${checked(flow)}'`);
  return rows.rows.length ? String(rows.rows[0][0]) : undefined;
}

const text = (target: Session, n: number): Column => ({
  name: '',
  nativeType: target.mapType({ kind: 'text', maxLength: n }).nativeType,
  type: { kind: 'text', maxLength: n },
  nullable: false,
});

function watermarkColumns(target: Session): Column[] {
  return [
    { ...text(target, 40), name: 'flow' },
    { ...text(target, 255), name: 'target_table' },
    { ...text(target, 64), name: 'cursor_value' },
    { ...text(target, 36), name: 'run_id' },
    { ...text(target, 32), name: 'updated_at' },
  ];
}

export async function ensureWatermarkTable(target: Session, schema?: string): Promise<void> {
  await ensureOwnTable(target, watermarkTableDef(target, schema));
}

/** The watermark table of a schema as ensureWatermarkTable creates it. */
export function watermarkTableDef(target: Session, schema?: string): TableDef {
  return { name: watermarkTable(schema), columns: watermarkColumns(target), primaryKey: ['flow'] };
}

/** Inside the apply transaction: the new watermark replaces the old one (none: the flow starts over). */
export async function writeWatermark(target: Session, schema: string | undefined, runId: string, w: { flow: string; targetTable: string; value?: Value }): Promise<void> {
  const table = watermarkTable(schema);
  await target.execute(`DELETE FROM ${target.quoteTable(table)} WHERE ${target.quoteIdentifier('flow')} = '${checked(w.flow)}'`);
  if (w.value === undefined || w.value === null) return;
  // The target table's name and the cursor value are data: they go through the bulk writer, never into SQL text.
  await target.insertRows(table, watermarkColumns(target), [[checked(w.flow), w.targetTable, encodeWatermark(w.value), runId, new Date().toISOString()]]);
}
