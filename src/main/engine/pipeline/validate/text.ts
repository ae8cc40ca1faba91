/** How values and columns read in a message, and how long text is in characters. */
import type { Column, Value } from '../../types.js';
import { describeType } from '../typeFit.js';

const SHOWN_CHARACTERS = 12;

/** A value as a user would write it: strings quoted and cut short, bytes counted. */
export function show(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') {
    if (v.length <= SHOWN_CHARACTERS + 1) return JSON.stringify(v);
    // 4 units a character is more than enough to find the first ones, whatever their width.
    const chars = Array.from(v.length > 4 * SHOWN_CHARACTERS ? v.slice(0, 4 * SHOWN_CHARACTERS) : v);
    if (chars.length <= SHOWN_CHARACTERS + 1 && v.length <= 4 * SHOWN_CHARACTERS) return JSON.stringify(v);
    return JSON.stringify(chars.slice(0, SHOWN_CHARACTERS).join('') + '…');
  }
  if (v instanceof Uint8Array) return `${v.byteLength} bytes of binary data`;
  return String(v);
}

export function label(col: Column): string {
  return col.nativeType || describeType(col.type);
}

/** Length in characters (code points): an emoji is one character, two UTF-16 units. */
export function characterLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
