/**
 * A target whose key compares text under a case- or accent-insensitive
 * collation (MySQL/MariaDB's utf8mb4_general_ci and kin) holds keys that
 * differ only in case or accents as one: 'a' and 'A', distinct in a source
 * that compares by code point, would merge there. The fold below spells a key
 * as such a collation compares it, so validation can dead-letter the second
 * key with that reason instead of the target merging or refusing it at apply.
 *
 * It follows the collation's name, not its tables: language collations
 * (latin1_swedish_ci, where 'ä' is a letter of its own) fold case only, the
 * others (general, unicode, uca1400_ai, 0900_ai) case and accents; PAD SPACE
 * collations ignore trailing blanks. Where it errs, the target's unique
 * index still has the last word at apply.
 */
import type { Column } from '../../types.js';

export type KeyFold = (text: string) => string;

const LANGUAGE = /_(swedish|german\d?|danish|icelandic|latvian|romanian|slovenian|polish|estonian|spanish2?|turkish|czech|lithuanian|slovak|hungarian|croatian|vietnamese|persian|esperanto|sinhala)_/i;

/** How `target`'s collation compares a key text that `source` keeps apart; undefined: the same way (no merge possible). */
export function keyFold(target: Column, source: Column | undefined): KeyFold | undefined {
  if (target.type.kind !== 'text' || !insensitive(target.collation)) return undefined;
  // A source that already compares this way cannot hold two keys the target would merge.
  if (source?.collation && source.collation.toLowerCase() === target.collation!.toLowerCase()) return undefined;
  const collation = target.collation!.toLowerCase();
  const accents = !/_as_/.test(collation) && !LANGUAGE.test(collation);
  const padded = !/nopad|_0900_/.test(collation);
  return (text) => {
    let s = padded ? text.replace(/ +$/, '') : text;
    if (accents) s = s.normalize('NFD').replace(/\p{M}/gu, '');
    return s.toLowerCase();
  };
}

function insensitive(collation: string | undefined): boolean {
  return collation !== undefined && /_ci$|_ai_ci$/i.test(collation);
}

/** What the plan says of such a key column. */
export function mergeWarning(table: string, target: Column): string {
  return (
    `${table}: the target's key column "${target.name}" has the collation ${target.collation}, under which keys that differ only in case or accents are one key; ` +
    `distinct source keys such as 'a' and 'A' would merge there, so the second of each is dead-lettered with that reason (give the column a _bin collation to keep them apart)`
  );
}

export function mergedKeyReason(names: string[], values: unknown[], collation: string): string {
  const shown = values.map((v) => JSON.stringify(v)).join(', ');
  return `key ${names.length === 1 ? names[0] : `(${names.join(', ')})`} = ${shown} equals a key already copied under the target's collation ${collation} (case or accents do not count there), so the target would merge the two rows`;
}
