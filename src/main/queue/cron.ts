/**
 * Cron expressions: validated once with a message that names the expression,
 * next runs computed in the local time zone of the machine running dbferry
 * (cron-parser), and a description in words (cronstrue).
 *
 * Accepted: five fields (minute hour day-of-month month day-of-week), six with
 * seconds first, or an alias (@hourly, @daily, @weekly, @monthly, @yearly,
 * @weekdays, @weekends).
 */
import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue';

export class CronError extends Error {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(message);
    this.name = 'CronError';
  }
}

const FORMAT = 'use five fields, minute hour day-of-month month day-of-week (e.g. "0 2 * * *" is 02:00 every day, "*/15 * * * *" every 15 minutes), six with seconds first, or @hourly, @daily, @weekly';
const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely', '@secondly', '@weekdays', '@weekends']);

/** Spaces collapsed, aliases lower-cased: the form the store keeps. */
export function normalizeCron(expression: string): string {
  const e = expression.trim().replace(/\s+/g, ' ');
  return e.startsWith('@') ? e.toLowerCase() : e;
}

function quoted(expression: string): string {
  return JSON.stringify(expression.length > 80 ? `${expression.slice(0, 80)}…` : expression);
}

/** Throws a CronError naming the expression when it is not one dbferry can schedule. */
export function validateCron(expression: string): string {
  const e = normalizeCron(expression);
  if (!e) throw new CronError(expression, `the cron expression is empty: ${FORMAT}`);
  if (e.startsWith('@')) {
    if (!ALIASES.has(e)) throw new CronError(e, `${quoted(e)} is not a cron alias dbferry knows: ${FORMAT}`);
  } else {
    const fields = e.split(' ').length;
    if (fields < 5 || fields > 6) throw new CronError(e, `${quoted(e)} is not a valid cron expression: it has ${fields} field${fields === 1 ? '' : 's'}; ${FORMAT}`);
  }
  try {
    CronExpressionParser.parse(e).next();
  } catch (err) {
    const why = err instanceof Error && err.message ? err.message.replace(/^./, (c) => c.toLowerCase()) : 'it cannot be read';
    throw new CronError(e, `${quoted(e)} is not a valid cron expression: ${why}; ${FORMAT}`);
  }
  return e;
}

/** The first time strictly after `after` the expression matches. */
export function nextRun(expression: string, after: Date): Date {
  return CronExpressionParser.parse(expression, { currentDate: after }).next().toDate();
}

/** The next `count` times after `after`. */
export function nextRuns(expression: string, after: Date, count: number): Date[] {
  const it = CronExpressionParser.parse(expression, { currentDate: after });
  return Array.from({ length: count }, () => it.next().toDate());
}

/** "At 02:00, Monday through Friday"; the expression itself when it cannot be put in words. */
export function describeCron(expression: string): string {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false });
  } catch {
    return expression;
  }
}

/** The zone next runs are computed in ("Europe/Paris"). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}
