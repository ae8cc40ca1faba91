/**
 * Names the target cannot keep are found by the plan, before anything is
 * created: two long column names PostgreSQL would cut to the same 63 bytes,
 * a name past MySQL's 64 characters; "rename" gives a column its target name.
 */
import { describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createTestDb } from '../helpers/targets.js';

const STEM = 'measurement_of_the_customer_satisfaction_score_in_the_quarter_'; // 62 characters
const A = `${STEM}ending_march`;
const B = `${STEM}ending_june`;

describe('column names the target cannot keep', () => {
  it('PostgreSQL: two names cut to the same 63 bytes are refused by the plan, both named; "rename" fixes it', async () => {
    const dir = tempDir('dbferry-names-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb('postgres', dir);
    try {
      await source.exec(`CREATE TABLE survey (id INTEGER PRIMARY KEY, "${A}" INTEGER, "${B}" INTEGER); INSERT INTO survey VALUES (1, 7, 8), (2, 9, 10)`);
      const job = (rename?: Record<string, string>) => writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'survey', ...(rename ? { rename } : {}) }] }, `job-${rename ? 1 : 0}.json`);
      const refused = await dbferry(['run', job(), '--state', dir]);
      expect(refused.code).toBe(2);
      expect(refused.stdout).toContain(`columns "${A}" and "${B}" would both be named "${A.slice(0, 63)}" in the target (it keeps 63 bytes of a name)`);
      expect(refused.stdout).toContain(`"rename": {"${B}": "…"}`);
      expect(await target.tables()).toEqual([]);

      const r = await dbferry(['run', job({ [B]: 'score_q2' }), '--json', '--state', dir]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect((r.events[1].warnings as string[]).join('\n')).toContain(`the column is created as "${A.slice(0, 63)}"`);
      expect(await target.rows(`SELECT id, "${A.slice(0, 63)}", score_q2 FROM survey ORDER BY id`)).toEqual([
        ['1', '7', '8'],
        ['2', '9', '10'],
      ]);
      expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true, method: 'checksum' });
    } finally {
      await target.drop();
      await source.drop();
    }
  });

  it('MariaDB: a name past 64 characters is refused by the plan, with how to rename it', async () => {
    const dir = tempDir('dbferry-names-');
    const source = await createTestDb('sqlite', dir);
    const target = await createTestDb('mysql', dir);
    try {
      await source.exec(`CREATE TABLE survey (id INTEGER PRIMARY KEY, "${A}" INTEGER); INSERT INTO survey VALUES (1, 7)`);
      const spec = writeJob(dir, { source: { url: source.url }, target: { url: target.url }, tables: [{ source: 'survey' }] });
      const plan = await dbferry(['plan', spec]);
      expect(plan.code).toBe(2);
      expect(plan.stderr).toContain(`column "${A}": the target allows names of at most 64 characters; give it a shorter one with "rename": {"${A}": "…"}`);
    } finally {
      await target.drop();
      await source.drop();
    }
  });
});
