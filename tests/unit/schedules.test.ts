/**
 * Schedules without a database: which cron expressions are accepted and what
 * the refusal says, next-run computation, the description in words, and when
 * the scheduler retries a failed run.
 */
import { describe, expect, it } from 'vitest';
import { CronError, describeCron, nextRun, nextRuns, normalizeCron, validateCron } from '../../src/main/queue/cron.js';
import { isLoginRefused, isTransientFailure, retryDelayMs } from '../../src/main/queue/retryPolicy.js';

/** A local wall-clock time (cron reads expressions in the local zone). */
const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => new Date(y, mo - 1, d, h, mi, s, ms);

function refusal(expression: string): string {
  try {
    validateCron(expression);
  } catch (err) {
    expect(err).toBeInstanceOf(CronError);
    return (err as Error).message;
  }
  throw new Error(`${expression} was accepted`);
}

describe('cron validation', () => {
  it('accepts five fields, six with seconds, and the aliases', () => {
    expect(validateCron('0 2 * * *')).toBe('0 2 * * *');
    expect(validateCron('  */15   *  * * 1-5 ')).toBe('*/15 * * * 1-5');
    expect(validateCron('*/5 * * * * *')).toBe('*/5 * * * * *');
    expect(validateCron('@Daily')).toBe('@daily');
    expect(normalizeCron(' 0  2 * * * ')).toBe('0 2 * * *');
  });

  it('refuses a bad expression with a message that names it and says what would do', () => {
    const outOfRange = refusal('61 * * * *');
    expect(outOfRange).toContain('"61 * * * *" is not a valid cron expression');
    expect(outOfRange).toMatch(/61.*0-59/);
    expect(outOfRange).toContain('"0 2 * * *" is 02:00 every day');

    expect(refusal('0 2 * *')).toContain('"0 2 * *" is not a valid cron expression: it has 4 fields');
    expect(refusal('0 0 2 * * * 2027')).toContain('it has 7 fields');
    expect(refusal('every night')).toContain('"every night" is not a valid cron expression: it has 2 fields');
    expect(refusal('a b c d e')).toContain('"a b c d e" is not a valid cron expression');
    expect(refusal('0 2 31 2 *')).toContain('"0 2 31 2 *"');
    expect(refusal('@sometimes')).toContain('"@sometimes" is not a cron alias');
    expect(refusal('   ')).toContain('the cron expression is empty');
  });
});

describe('next run', () => {
  it('is the first matching time strictly after the given one, in local time', () => {
    expect(nextRun('0 2 * * *', at(2026, 12, 1, 10, 0))).toEqual(at(2026, 12, 2, 2, 0));
    expect(nextRun('0 2 * * *', at(2026, 12, 1, 1, 59, 59))).toEqual(at(2026, 12, 1, 2, 0));
    // At the slot itself: the next one, so a slot never runs twice.
    expect(nextRun('0 2 * * *', at(2026, 12, 1, 2, 0))).toEqual(at(2026, 12, 2, 2, 0));
    expect(nextRun('*/15 * * * *', at(2026, 12, 1, 10, 7, 30))).toEqual(at(2026, 12, 1, 10, 15));
    expect(nextRun('* * * * * *', at(2026, 12, 1, 10, 0, 0, 500))).toEqual(at(2026, 12, 1, 10, 0, 1));
  });

  it('skips weekends for weekdays, and lists several', () => {
    // 2026-12-04 is a Friday.
    expect(nextRuns('30 6 * * 1-5', at(2026, 12, 4, 7, 0), 2)).toEqual([at(2026, 12, 7, 6, 30), at(2026, 12, 8, 6, 30)]);
    expect(nextRun('@weekly', at(2026, 12, 1))).toEqual(at(2026, 12, 6));
  });
});

describe('description', () => {
  it('puts the expression in words, 24-hour clock', () => {
    expect(describeCron('0 2 * * *')).toBe('At 02:00');
    expect(describeCron('*/15 * * * *')).toBe('Every 15 minutes');
    expect(describeCron('30 6 * * 1-5')).toBe('At 06:30, Monday through Friday');
    expect(describeCron('* * * * * *')).toBe('Every second');
  });
});

describe('scheduler retries', () => {
  it('retries a server that could not be reached or a timeout, not a refused login, a missing variable or bad rows', () => {
    expect(isTransientFailure({ status: 'failed', errorKind: 'connection', error: 'cannot connect to PostgreSQL at 127.0.0.1:1: connect ECONNREFUSED' })).toBe(true);
    expect(isTransientFailure({ status: 'failed', errorKind: 'timeout', error: 'statement timeout' })).toBe(true);
    const login = { status: 'failed' as const, errorKind: 'connection', error: 'MySQL/MariaDB at 127.0.0.1:3306 refused the login of user "app" (access denied)' };
    expect(isTransientFailure(login)).toBe(false);
    expect(isLoginRefused(login)).toBe(true);
    expect(isTransientFailure({ status: 'failed', errorKind: 'connection', error: 'the environment variable PGPASS, which is not set' })).toBe(false);
    expect(isTransientFailure({ status: 'failed', errorKind: 'connection', error: 'database "shop" does not exist on 127.0.0.1:5432' })).toBe(false);
    expect(isTransientFailure({ status: 'failed', errorKind: 'data', error: 'more than 1% of the rows were refused' })).toBe(false);
    expect(isTransientFailure({ status: 'failed', errorKind: 'spec', error: 'unknown table' })).toBe(false);
    expect(isTransientFailure({ status: 'cancelled', errorKind: 'connection' })).toBe(false);
  });

  it('backs off: base, twice, four times, capped', () => {
    const policy = { max: 5, baseDelayMs: 60_000, maxDelayMs: 180_000 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, policy))).toEqual([60_000, 120_000, 180_000, 180_000]);
  });
});
