/**
 * When a recorded state of both tables' row versions (pipeline/syncState.ts)
 * may be trusted, and the xid literal age() compares with. Every doubt must
 * give a reason, never a mark: a trusted mark that should not be is a change
 * missed.
 */
import { describe, expect, it } from 'vitest';
import { trustedSince, writeSyncStateSql, type SyncState } from '../../src/main/engine/pipeline/syncState.js';
import { unownedSequence } from '../../src/main/engine/dialects/postgres/schema.js';
import { xidOf } from '../../src/main/engine/dialects/postgres/versions.js';
import type { Session, VersionMark } from '../../src/main/engine/dialects/dialect.js';

const mark = (over: Partial<VersionMark> = {}): VersionMark => ({ server: '7716757017059346583/1', table: '16610/16612/16612', xmin: '1000', next: '1005', lsn: '770903936', ...over });
const state = (over: Partial<SyncState> = {}): SyncState => ({ v: 1, fp: 'f'.repeat(40), source: mark(), target: mark({ table: '16611/16619/16624', own: ['1003'] }), ...over });
const now = { source: mark({ xmin: '2000', next: '2001', lsn: '800000000' }), target: mark({ table: '16611/16619/16624', xmin: '2000', next: '2001', lsn: '800000000' }) };

describe('trustedSince', () => {
  it('trusts a record whose marks still hold, and looks from its xmins, past the run\'s own writes', () => {
    expect(trustedSince(state(), 'f'.repeat(40), now)).toEqual({ source: '1000', target: '1000', targetOwn: ['1003'] });
  });

  it.each([
    ['no record', undefined, now, 'no earlier run'],
    ['another spec', state({ fp: 'a'.repeat(40) }), now, 'table spec or its columns changed'],
    ['no mark now', state(), { source: now.source }, 'did not say'],
    ['another server or timeline', state(), { ...now, source: mark({ server: '7716757017059346583/2', next: '2001', lsn: '800000000' }) }, 'source server is another one'],
    ['a rewritten target', state(), { ...now, target: mark({ table: '16611/16619/99999', next: '2001', lsn: '800000000' }) }, 'target table was truncated'],
    ['transaction ids gone back', state(), { ...now, source: mark({ next: '900', lsn: '800000000' }) }, 'went back in time'],
    ['the WAL gone back', state(), { ...now, target: mark({ table: '16611/16619/16624', next: '2001', lsn: '1000' }) }, 'went back in time'],
    ['2^30 transactions since', state(), { ...now, source: mark({ next: String(1000 + 2 ** 30), lsn: '800000000' }) }, 'more than 2^30'],
  ])('does not trust %s', (_name, recorded, current, reason) => {
    const r = trustedSince(recorded, 'f'.repeat(40), current);
    expect('reason' in r ? r.reason : r).toContain(reason);
  });
});

describe('row version literals', () => {
  it('takes the low 32 bits of a full transaction id, and never a special one', () => {
    expect(xidOf('1000')).toBe('1000');
    expect(xidOf(String(2n ** 32n + 5n))).toBe('5');
    expect(xidOf(String(2n ** 32n + 2n))).toBeUndefined();
    expect(xidOf('12; DROP TABLE x')).toBeUndefined();
  });

  it('writes a state only of digits, hex and JSON punctuation', () => {
    const session = { quoteTable: (t: { name: string }) => `"${t.name}"`, quoteIdentifier: (n: string) => `"${n}"` } as unknown as Session;
    const good = writeSyncStateSql(session, undefined, '00000000-0000-0000-0000-000000000000', 'a'.repeat(40), state());
    expect(good).toHaveLength(2);
    expect(() => writeSyncStateSql(session, undefined, '00000000-0000-0000-0000-000000000000', 'a'.repeat(40), state({ source: mark({ server: "x'); DROP TABLE t; --" }) }))).toThrow(/invalid sync state/);
    expect(() => writeSyncStateSql(session, undefined, '00000000-0000-0000-0000-000000000000', "a'", state())).toThrow(/invalid flow/);
  });

  it('names the sequence of a nextval default, owned or not', () => {
    expect(unownedSequence("nextval('actor_actor_id_seq'::regclass)")).toBe('actor_actor_id_seq');
    expect(unownedSequence(`nextval('"My Seq"''s'::regclass)`)).toBe(`"My Seq"'s`);
    expect(unownedSequence("'now'::text")).toBeNull();
    expect(unownedSequence(null)).toBeNull();
  });
});
