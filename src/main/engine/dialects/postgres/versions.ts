/**
 * PostgreSQL's row versions (RowVersions in dialect.ts): every row an INSERT
 * or UPDATE writes is a new tuple whose xmin is the id of the transaction
 * that wrote it (a subtransaction's id is above its parent's). A row written
 * after a snapshot was taken therefore has an xmin at least that snapshot's
 * xmin, the oldest transaction still running then. xmin is 32 bits and wraps:
 * it is compared by its age (the distance back from now, age(xid)), which
 * orders ids correctly within 2^31 of now; ../../pipeline/syncState.ts only
 * trusts a mark less than 2^30 transactions old. A tuple frozen long ago keeps
 * its old xmin, whose age may wrap: it is then taken for a changed row, which
 * costs a row staged and compared, never a change missed. A table with
 * inheritance children gets no mark: a child attached with old rows would
 * bring rows into its scans that no new version announces.
 */
import pg from 'pg';
import type { TableName } from '../../types.js';
import type { KeySet, RowVersions, VersionMark } from '../dialect.js';
import { quoteAnsi as q } from '../base.js';
import type { ReadContext } from './read.js';

const DIGITS = /^\d+$/;

/** The low 32 bits of a full transaction id, as the xid literal age() takes; undefined for ids PostgreSQL never gives a row. */
export function xidOf(full: string): string | undefined {
  if (!DIGITS.test(full)) return undefined;
  const low = BigInt(full) & 0xffffffffn;
  // 0-2 are the invalid, bootstrap and frozen ids: age() calls them infinitely old.
  return low >= 3n ? low.toString() : undefined;
}

const whereOf = (where?: string) => (where ? ` AND (${where})` : '');

export class PgRowVersions implements RowVersions {
  constructor(private readonly ctx: ReadContext) {}

  async marks(tables: TableName[]): Promise<Array<VersionMark | undefined>> {
    if (!tables.length) return [];
    const names = tables.map((t) => pg.escapeLiteral(this.ctx.quoteTable(t))).join(', ');
    const sql =
      "SELECT n.ord::int AS ord, (SELECT system_identifier::text FROM pg_control_system()) || '/' || (SELECT timeline_id::text FROM pg_control_checkpoint()) AS server, " +
      "d.oid::text || '/' || c.oid::text || '/' || pg_relation_filenode(c.oid)::text AS tbl, " +
      'pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, pg_snapshot_xmax(pg_current_snapshot())::text AS next, ' +
      "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::text AS lsn " +
      `FROM unnest(ARRAY[${names}]::text[]) WITH ORDINALITY AS n(name, ord) JOIN pg_class c ON c.oid = to_regclass(n.name) AND c.relkind = 'r' AND NOT c.relhassubclass ` +
      'JOIN pg_database d ON d.datname = current_database()';
    // In the run's snapshot (the source), a failure (a server that refuses pg_control_system to the user) must not end it.
    const inTx = this.ctx.inTransaction();
    let rows: Array<Record<string, string | number | null>>;
    try {
      const results = (await this.ctx.client.query(inTx ? `SAVEPOINT dbferry_mark; ${sql}; RELEASE SAVEPOINT dbferry_mark` : sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      rows = (Array.isArray(results) ? results[1] : results).rows as Array<Record<string, string | number | null>>;
    } catch {
      if (inTx) await this.ctx.client.query('ROLLBACK TO SAVEPOINT dbferry_mark; RELEASE SAVEPOINT dbferry_mark');
      return tables.map(() => undefined);
    }
    const out: Array<VersionMark | undefined> = tables.map(() => undefined);
    for (const r of rows) {
      const [server, table, xmin, next, lsn] = [r.server, r.tbl, r.xmin, r.next, r.lsn].map((x) => (x === null ? undefined : String(x)));
      if (server && table && xmin && next && lsn) out[Number(r.ord) - 1] = { server, table, xmin, next, lsn: lsn.replace(/\..*$/, '') };
    }
    return out;
  }

  async changedKeys(req: { table: TableName; key: string; where?: string; since: string; except?: string[]; max: number }): Promise<KeySet & { changed?: bigint[]; changedRows: number }> {
    const since = xidOf(req.since);
    if (since === undefined) throw new Error(`invalid transaction id ${req.since}`);
    const except = req.except ?? [];
    if (!except.every((x) => DIGITS.test(x))) throw new Error(`invalid transaction ids ${except.join(',')}`);
    const k = q(req.key);
    const written = `age(xmin) <= age('${since}'::xid)${except.length ? ` AND xmin <> ALL ('{${except.join(',')}}'::xid[])` : ''}`;
    // One scan: the key set of every row, and the keys of those written since (their count, and the keys when few).
    const sql =
      "SELECT count(*)::text AS n, coalesce(bit_xor(hashint8extended(r.k::int8, 0)), 0)::text AS h, count(*) FILTER (WHERE r.f)::text AS c, " +
      `CASE WHEN count(*) FILTER (WHERE r.f) <= ${Math.max(0, Math.floor(req.max))} THEN coalesce(string_agg(r.k::text, ',') FILTER (WHERE r.f), '') END AS keys ` +
      `FROM (SELECT ${k} AS k, ${written} AS f FROM ${this.ctx.quoteTable(req.table)} WHERE true${whereOf(req.where)}) AS r`;
    try {
      const { rows } = await this.ctx.client.query<{ n: string; h: string; c: string; keys: string | null }>(sql);
      const r = rows[0];
      return { rows: Number(r.n), hash: BigInt(r.h), changedRows: Number(r.c), changed: r.keys === null ? undefined : r.keys ? r.keys.split(',').map(BigInt) : [] };
    } catch (err) {
      throw this.ctx.fail(err, `looking for rows of ${this.ctx.quoteTable(req.table)} written since the last sync`);
    }
  }

  writtenBySql(req: { table: TableName; key: string; from: TableName; max: number }): string {
    const k = q(req.key);
    const n = Math.max(1, Math.floor(req.max));
    const versions = `SELECT DISTINCT t.xmin::text AS x FROM ${this.ctx.quoteTable(req.table)} AS t WHERE t.${k} IN (SELECT d.${k} FROM ${this.ctx.quoteTable(req.from)} AS d)`;
    return `(SELECT CASE WHEN count(*) <= ${n} THEN '[' || coalesce(string_agg('"' || w.x || '"', ','), '') || ']' ELSE '[]' END FROM (${versions}) AS w)`;
  }

  async keySetOf(req: { table: TableName; key: string; where?: string; keys: bigint[] }): Promise<KeySet> {
    if (!req.keys.length) return { rows: 0, hash: 0n };
    const k = q(req.key);
    const sql = `SELECT count(*)::text AS n, coalesce(bit_xor(hashint8extended(${k}::int8, 0)), 0)::text AS h FROM ${this.ctx.quoteTable(req.table)} WHERE ${k} = ANY ($1::int8[])${whereOf(req.where)}`;
    try {
      const { rows } = await this.ctx.client.query<{ n: string; h: string }>(sql, [`{${req.keys.join(',')}}`]);
      return { rows: Number(rows[0].n), hash: BigInt(rows[0].h) };
    } catch (err) {
      throw this.ctx.fail(err, `summing up keys of ${this.ctx.quoteTable(req.table)}`);
    }
  }
}
