import { describe, expect, it } from 'vitest';
import { parseConnectionUrl, redactUrl } from '../../src/shared/connectionUrl.js';
import { parseJobSpec } from '../../src/shared/jobSpec.js';

const minimal = { source: { url: 'sqlite:a.db' }, target: { url: 'sqlite:b.db' }, tables: [{ source: 'orders' }] };

describe('job spec', () => {
  it('fills in the documented defaults', () => {
    const r = parseJobSpec(minimal);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.spec.tables).toEqual([{ source: 'orders', mode: 'upsert' }]);
    expect(r.spec.options).toMatchObject({
      createTables: true,
      onInvalidRow: 'dead-letter',
      maxInvalidRows: '1%',
      batch: { maxRows: 50000, maxBytes: 8000000 },
      isolation: { source: 'repeatable-read', target: 'serializable' },
      retries: { max: 5, baseDelayMs: 250 },
      verify: 'checksum',
    });
  });

  it('lists every problem with its path, in words', () => {
    const r = parseJobSpec({
      source: { url: 'sqlite:a.db' },
      target: { url: 'oracle://x' },
      tables: [{ source: 'a', mode: 'merge' }, { source: 'b', colums: ['x'] }],
      options: { verify: 'maybe' },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      { path: 'target.url', message: 'must start with postgres://, mysql://, mariadb:// or sqlite:' },
      { path: 'tables[0].mode', message: 'expected one of "replace", "append", "upsert", "mirror"' },
      { path: 'tables[1]', message: 'unknown field "colums"' },
      { path: 'options.verify', message: 'expected one of "none", "count", "checksum"' },
    ]);
  });

  it('catches mistakes that span fields', () => {
    const r = parseJobSpec({
      ...minimal,
      tables: [
        { source: 'a', target: 'x', key: ['id'], columns: ['name'] },
        { source: 'b', target: 'X', mode: 'replace', incremental: { cursor: 'updated_at' } },
      ],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path)).toEqual(['tables[0].key', 'tables[1].target', 'tables[1].incremental']);
  });

  it('requires the source, target and tables', () => {
    const r = parseJobSpec({});
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      { path: 'source', message: 'is required' },
      { path: 'target', message: 'is required' },
      { path: 'tables', message: 'is required' },
    ]);
  });
});

describe('connection URLs', () => {
  it('parses the three engines', () => {
    expect(parseConnectionUrl('postgres://app:s3cret@db.local:6543/shop?sslmode=require')).toEqual({
      engine: 'postgres', host: 'db.local', port: 6543, user: 'app', password: 's3cret', passwordEnv: undefined, database: 'shop', params: { sslmode: 'require' },
    });
    expect(parseConnectionUrl('mariadb://root@127.0.0.1/reporting?passwordEnv=MYPASS')).toMatchObject({ engine: 'mysql', port: 3306, passwordEnv: 'MYPASS', params: {} });
    expect(parseConnectionUrl('sqlite:data/shop.db')).toEqual({ engine: 'sqlite', path: 'data/shop.db', readonly: false });
    expect(parseConnectionUrl('sqlite:///abs/shop.db')).toMatchObject({ path: '/abs/shop.db' });
  });

  it('never shows a password', () => {
    expect(redactUrl('postgres://app:s3cret@db/shop')).toBe('postgres://app:••••@db/shop');
    expect(redactUrl('sqlite:x.db')).toBe('sqlite:x.db');
  });
});
