/**
 * What the pass-through tests (tests/integration/parallel*.test.ts) check of a run
 * that passes a table through, and of the awkward table they copy.
 */
import { expect } from 'vitest';
import { dbferry } from './cli.js';
import type { TestDb } from './targets.js';

/** The plan passes the job's table through (as text, unless said), and the run copies and verifies its rows with no warning. */
export async function passesThrough(state: string, job: string, rows: number, fastPath = /text pass-through/): Promise<void> {
  const plan = await dbferry(['plan', job, '--json']);
  expect((plan.events[0].tables as Array<{ fastPath?: string }>)[0].fastPath).toMatch(fastPath);
  const r = await dbferry(['run', job, '--json', '--state', state]);
  expect(r.code, r.stderr + r.stdout.slice(-800)).toBe(0);
  expect(r.events.filter((e) => e.type === 'warning').map((e) => e.message)).toEqual([]);
  expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: rows, rowsWritten: rows, rowsDeadLettered: 0 });
}

/** Rows 1, 2 and 3000 of the awkward table as the target holds them: text as UTF-8 hex, numbers and times as text. */
export async function expectAwkward(target: TestDb, body: string): Promise<void> {
  const select =
    target.engine === 'postgres'
      ? `SELECT id, label, upper(encode(convert_to(body, 'UTF8'), 'hex')), amount::text, flag::int, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'), day::text, n FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id`
      : 'SELECT id, label, HEX(body), CAST(amount AS CHAR), flag, CAST(at AS CHAR), CAST(day AS CHAR), n FROM awkward WHERE id IN (1, 2, 3000) ORDER BY id';
  const rows = await target.rows(select);
  expect(rows.map((row) => row.map((v) => (v === null ? null : String(v))))).toEqual([
    ['1', 'Zoë 😀', Buffer.from(body, 'utf8').toString('hex').toUpperCase(), '-123.456', '1', '2024-02-29 23:59:59.123456', '2024-01-31', '-2147483648'],
    ['2', null, null, null, null, null, null, '2147483647'],
    ['3000', 'label 3000', '', '375.000', '1', '2020-01-03 02:00:00.000000', '2028-03-19', '3000'],
  ]);
}
