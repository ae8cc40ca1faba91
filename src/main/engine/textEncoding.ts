/**
 * Decoding a source's text bytes on purpose (a table's "encoding" in the job
 * spec), for SQLite sources, whose TEXT holds whatever bytes an application
 * wrote: an old one may have written latin1 or Windows-1252.
 * - "latin1": ISO-8859-1, each byte the code point of the same number
 *   (0x80–0x9F become the C1 control characters U+0080–U+009F);
 * - "windows-1252": the same, except 0x80–0x9F, which are the printable
 *   characters Windows puts there (0x96 "–", 0x80 "€", 0x93 "“"). What most
 *   applications that say "latin1" actually wrote (MySQL's latin1 is this too).
 * Node's TextDecoder('windows-1252') is not used: Node (through 22 at least)
 * decodes it as ISO-8859-1, so 0x96 would come out as U+0096.
 */
export const SOURCE_ENCODINGS = ['latin1', 'windows-1252'] as const;
export type SourceEncoding = (typeof SOURCE_ENCODINGS)[number];

/** Windows-1252's 0x80–0x9F (the five bytes it leaves undefined map to the C1 control of the same number, as WHATWG's table does). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

export function decodeText(bytes: Uint8Array, encoding: SourceEncoding): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (encoding === 'latin1') return latin1;
  return latin1.replace(/[\x80-\x9f]/g, (c) => String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80]));
}
