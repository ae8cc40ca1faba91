/** Decimal numbers read exactly from their text: digit counts, parsing, comparison. */

// Out-parameters of scanDecimal: module-level, so scanning allocates nothing. Importers read
// them as ESM live bindings, right after the call.
export let scannedIntDigits = 0;
export let scannedFracDigits = 0;

/**
 * Is `s` a decimal number ("-12.50", ".5", "1.5e3")? If so, sets how many
 * significant digits it has before the point and how many after (leading and
 * trailing zeros do not count: "0012.500" needs 2 and 1).
 */
export function scanDecimal(s: string): boolean {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) i++;
  let digits = 0;
  let point = -1;
  let firstNonZero = -1;
  let lastNonZero = -1;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (c !== 48) {
        if (firstNonZero < 0) firstNonZero = digits;
        lastNonZero = digits;
      }
      digits++;
    } else if (c === 46 && point < 0) point = digits;
    else break;
  }
  if (digits === 0) return false;
  if (point < 0) point = digits;
  let exponent = 0;
  if (i < n) {
    if (c !== 101 && c !== 69) return false;
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    if (i >= n) return false;
    for (; i < n; i++) {
      c = s.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      if (exponent < 1e9) exponent = exponent * 10 + (c - 48);
    }
    if (sign === 45) exponent = -exponent;
  }
  if (firstNonZero < 0) {
    scannedIntDigits = 0;
    scannedFracDigits = 0;
    return true;
  }
  const pointAfterFirst = point + exponent - firstNonZero;
  const significant = lastNonZero - firstNonZero + 1;
  scannedIntDigits = pointAfterFirst > 0 ? pointAfterFirst : 0;
  scannedFracDigits = significant - pointAfterFirst > 0 ? significant - pointAfterFirst : 0;
  return true;
}

/** A decimal number exactly: sign, integer digits without leading zeros, fraction digits without trailing zeros. */
export interface Decimal {
  negative: boolean;
  int: string;
  frac: string;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Exact, whatever the size: "1e3", "-0012.50" and "18446744073709551615" all parse without a JS number. */
export function parseDecimal(s: string): Decimal | undefined {
  const m = DECIMAL_TEXT.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  let digits = m[2] + (m[3] ?? '');
  let point = m[2].length + Number(m[4] ?? 0);
  if (Math.abs(point) > 100_000) return undefined;
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return { negative: false, int: '', frac: '' };
  if (point <= 0) return { negative: m[1] === '-', int: '', frac: '0'.repeat(-point) + digits };
  if (point >= digits.length) return { negative: m[1] === '-', int: digits + '0'.repeat(point - digits.length), frac: '' };
  return { negative: m[1] === '-', int: digits.slice(0, point), frac: digits.slice(point) };
}

export function plainText(d: Decimal): string {
  return `${d.negative ? '-' : ''}${d.int || '0'}${d.frac ? '.' + d.frac : ''}`;
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const sign = a.negative ? -1 : 1;
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -sign : sign;
  if (a.int !== b.int) return a.int < b.int ? -sign : sign;
  if (a.frac !== b.frac) return a.frac < b.frac ? -sign : sign;
  return 0;
}

export function plainOrText(s: string): string {
  const d = parseDecimal(s);
  return d ? plainText(d) : s;
}
