/**
 * Issue 4's guarantees, each against real servers and every target engine:
 * all or nothing, undo, exactly once across crashes, a consistent source.
 * (The other guarantees: safety-undo.test.ts and safety-connections.test.ts.)
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir } from '../helpers/cli.js';
import { ACCOUNTS, LEDGER, isTableStarted, job, makeSource, sourceChecksums, targetChecksums, type Ev } from '../helpers/safety.js';
import { ENGINES, createTestDb, type EngineName } from '../helpers/targets.js';

let dir: string;
let state: string;
let source: string;
let expected: ReturnType<typeof sourceChecksums>;
beforeAll(() => {
  dir = tempDir('dbferry-safety-');
  state = join(dir, 'state');
  source = join(dir, 'source.db');
  makeSource(source);
  expected = sourceChecksums(source);
});

const KILL_POINTS: { name: string; at: (e: Ev) => boolean; delayMs: number }[] = [
  { name: 'right after planning', at: (e) => e.type === 'plan', delayMs: 0 },
  { name: 'staging the first table', at: isTableStarted('accounts'), delayMs: 0 },
  { name: 'early in the second table', at: isTableStarted('ledger'), delayMs: 0 },
  { name: 'mid second table', at: isTableStarted('ledger'), delayMs: 40 },
  { name: 'late in the second table', at: isTableStarted('ledger'), delayMs: 120 },
  { name: 'as apply starts', at: (e) => e.type === 'apply-started', delayMs: 0 },
  { name: 'during apply', at: (e) => e.type === 'apply-started', delayMs: 4 },
  { name: 'after the apply commit', at: (e) => e.type === 'apply-committed', delayMs: 0 },
];

describe.each(ENGINES)('into %s', (engine: EngineName) => {
  it(`SIGKILL at ${KILL_POINTS.length} points, then resume: target equals source, no duplicates`, async () => {
    for (const point of KILL_POINTS) {
      const target = await createTestDb(engine, dir);
      try {
        const killed = await dbferryUntil(['run', job(dir, source, target, { accounts: 'upsert', ledger: 'append' }), '--state', state], point.at, (c) => void c.kill('SIGKILL'), { delayMs: point.delayMs });
        const runId = killed.events[0]?.runId as string;
        expect(runId, point.name).toBeTruthy();
        if (killed.signal === 'SIGKILL') {
          // Untouched until the apply commits, then complete. A commit may land just before the kill
          // without its event reaching us (promoting a new table is a rename: apply takes a millisecond),
          // so a table the events do not say is committed is absent or complete, never partial; and
          // where apply is one transaction (PostgreSQL, SQLite) both tables are one or the other
          // together. MySQL's DDL commits on its own: new tables are renamed into place one by one.
          const now = await targetChecksums(target);
          const committed = killed.events.some((e) => e.type === 'apply-committed');
          const complete = (t: 'accounts' | 'ledger') => JSON.stringify(now[t]) === JSON.stringify(expected[t]);
          for (const t of ['accounts', 'ledger'] as const) {
            if (committed) expect(now[t], `${point.name}: ${t}`).toEqual(expected[t]);
            else expect(now[t] === null || complete(t), `${point.name}: ${t} partly written`).toBe(true);
          }
          if (!committed && engine !== 'mysql') expect(now.accounts === null, `${point.name}: one table applied without the other`).toBe(now.ledger === null);
          const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
          // A fast run (tables passed through) may have finished, and said so in its history, as the kill landed.
          const finished = resumed.code === 2 && /finished \(succeeded\); there is nothing to resume/.test(resumed.stderr);
          if (!finished) {
            expect(resumed.code, `${point.name}: ${resumed.stderr}${resumed.stdout.slice(-500)}`).toBe(0);
            // Every row written once: none refused as a duplicate of a row staged before the kill.
            expect(resumed.events.at(-1), point.name).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: ACCOUNTS + LEDGER, rowsWritten: ACCOUNTS + LEDGER, rowsDeadLettered: 0 });
          }
        } else {
          // It finished before the kill landed: still a valid outcome.
          expect(killed.code, point.name).toBe(0);
        }
        expect(await targetChecksums(target), point.name).toEqual(expected);
        const staging = (await target.tables()).filter((t) => t.startsWith('_dbferry_stg_'));
        expect(staging, point.name).toEqual([]);
      } finally {
        await target.drop();
      }
    }
  }, 240_000);

});
