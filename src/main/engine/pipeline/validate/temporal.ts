/** Checks of dates, times and timestamps: shape, calendar, time of day, fractional seconds. */
import type { Column, Value } from '../../types.js';
import type { TypeCheckContext, ValueCheck } from './check.js';
import { label, show } from './text.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Two digits at i as a number, or -1 when they are not digits. */
function twoDigits(s: string, i: number): number {
  return isDigit(s, i) && isDigit(s, i + 1) ? (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48) : -1;
}

/**
 * The canonical shapes, and the other spellings engines print: years beyond
 * 9999, "T" between date and time, an offset, and PostgreSQL's " BC".
 */
const TEMPORAL = /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:Z|[+-]\d\d(?::?\d\d)?)?)?( BC)?$/;
const OFFSET = /^(?:Z|[+-]\d\d(?::?\d\d)?)$/;
const TIME = /^(-)?(\d{2,3}):(\d\d):(\d\d)(?:\.(\d+))?$/;

/** The fields of the last text parseTemporal read (module-level, so parsing allocates nothing). */
const parts = { year: 0, month: 0, day: 0, hour: -1, minute: 0, second: 0, fraction: 0 };

/** Fill `parts` from a date or timestamp text (hour -1: no time of day); false when it is neither. */
function parseTemporal(s: string): boolean {
  const n = s.length;
  // The canonical shapes take no regex: the hot path.
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return slowParse(s);
  const century = twoDigits(s, 0);
  const year = twoDigits(s, 2);
  parts.month = twoDigits(s, 5);
  parts.day = twoDigits(s, 8);
  if (century < 0 || year < 0 || parts.month < 0 || parts.day < 0) return false;
  parts.year = century * 100 + year;
  parts.hour = -1;
  parts.fraction = 0;
  if (n === 10) return true;
  const sep = s.charCodeAt(10);
  if (n < 19 || (sep !== 32 && sep !== 84) || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return slowParse(s);
  parts.hour = twoDigits(s, 11);
  parts.minute = twoDigits(s, 14);
  parts.second = twoDigits(s, 17);
  if (parts.hour < 0 || parts.minute < 0 || parts.second < 0) return false;
  let i = 19;
  if (i < n && s.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n && isDigit(s, i)) i++;
    parts.fraction = i - start;
    if (parts.fraction === 0) return false;
  }
  return i === n || OFFSET.test(s.slice(i)) || slowParse(s);
}

function slowParse(s: string): boolean {
  const m = TEMPORAL.exec(s);
  if (!m) return false;
  parts.year = Number(m[1]);
  parts.month = Number(m[2]);
  parts.day = Number(m[3]);
  parts.hour = m[4] === undefined ? -1 : Number(m[4]);
  parts.minute = Number(m[5] ?? 0);
  parts.second = Number(m[6] ?? 0);
  parts.fraction = m[7]?.length ?? 0;
  return true;
}

/** What is wrong with the date in `parts`, said after the value; undefined for a real calendar date. */
function calendarProblem(allowZero: boolean, column: string): string | undefined {
  const { year, month, day } = parts;
  if (month > 12) return `is not a real date (there is no month ${month}); ${column} takes real calendar dates`;
  if (year === 0 || month === 0 || day === 0) {
    if (!allowZero) {
      if (year === 0 && month === 0 && day === 0) return `is MySQL's zero date, which ${column} cannot hold`;
      return `${month === 0 || day === 0 ? 'has a zero month or day' : 'is in year 0'}, which ${column} cannot hold`;
    }
    if (month === 0 || day === 0) return undefined;
  }
  const days = daysInMonth(year, month);
  if (day > days) return `is not a real date (${MONTHS[month - 1]} ${year} has ${days} days); ${column} takes real calendar dates`;
  return undefined;
}

type TemporalType = { kind: 'date' } | { kind: 'time'; precision?: number } | { kind: 'timestamp'; withTimeZone: boolean; precision?: number };

export function temporalCheck(target: Column, t: TemporalType, ctx: TypeCheckContext): ValueCheck {
  const what = label(target);
  const shape = t.kind === 'date' ? 'YYYY-MM-DD' : t.kind === 'time' ? 'HH:MM:SS[.ffffff]' : `YYYY-MM-DD HH:MM:SS[.ffffff]${t.withTimeZone ? '+00:00' : ''}`;
  const malformed = (v: Value) => `${target.name}: ${show(v)} is not a ${t.kind === 'timestamp' ? 'timestamp' : t.kind}; the target column ${what} takes ${shape}`;
  const precision = t.kind === 'date' ? 0 : t.precision ?? 6;
  const tooPrecise = (v: Value) =>
    `${target.name}: ${show(v)} has more than ${precision} digits of fractional seconds; the target column ${what} would round it`;
  const timeOfDay = (v: Value, hour: number, minute: number, second: number): string | undefined => {
    if (hour <= 23 && minute <= 59 && second <= 59) return undefined;
    return `${target.name}: ${show(v)} is not a valid time of day (hours 00-23, minutes and seconds 00-59)`;
  };
  const calendar = (v: Value): string | undefined => {
    const problem = calendarProblem(ctx.allowZeroDates, `the target column ${what}`);
    return problem === undefined ? undefined : `${target.name}: ${show(v)} ${problem}`;
  };

  if (t.kind === 'time') {
    return (v) => {
      if (typeof v !== 'string') return malformed(v);
      const m = TIME.exec(v);
      if (!m) return malformed(v);
      const [hour, minute, second] = [Number(m[2]), Number(m[3]), Number(m[4])];
      if (minute > 59 || second > 59) return `${target.name}: ${show(v)} is not a valid time (minutes and seconds 00-59)`;
      if ((m[5]?.length ?? 0) > precision && !ctx.lossAccepted) return tooPrecise(v);
      if (ctx.timeIsDuration) {
        if (hour > 838) return `${target.name}: ${show(v)} is out of range; the target column ${what} holds -838:59:59 to 838:59:59`;
        return undefined;
      }
      if (m[1] === undefined && (hour <= 23 || (hour === 24 && minute === 0 && second === 0 && !/[1-9]/.test(m[5] ?? '')))) return undefined;
      return `${target.name}: ${show(v)} is not a valid time of day; the target column ${what} holds 00:00:00 to 24:00:00`;
    };
  }
  const infinite = (v: Value) => ctx.infiniteDates && (v === 'infinity' || v === '-infinity');
  if (t.kind === 'date') {
    return (v) => {
      if (infinite(v)) return undefined;
      if (typeof v !== 'string' || !parseTemporal(v)) return malformed(v);
      if (parts.hour >= 0 && !ctx.lossAccepted) {
        return `${target.name}: ${show(v)} has a time of day; the target column ${what} holds a date only`;
      }
      return calendar(v) ?? (parts.hour >= 0 ? timeOfDay(v, parts.hour, parts.minute, parts.second) : undefined);
    };
  }
  return (v) => {
    if (infinite(v)) return undefined;
    if (typeof v !== 'string' || !parseTemporal(v)) return malformed(v);
    const problem = calendar(v);
    if (problem !== undefined) return problem;
    if (parts.hour < 0) return undefined;
    if (parts.fraction > precision && !ctx.lossAccepted) return tooPrecise(v);
    // A zero timestamp ("0000-00-00 00:00:00") passes when zero dates are allowed.
    return timeOfDay(v, parts.hour, parts.minute, parts.second);
  };
}
