/**
 * LOAD DATA LOCAL INFILE from a stream of tab-separated lines built from the
 * rows. Text fields escape backslash, tab, newline, CR and NUL; NULL is \N;
 * binary columns travel as hex and are decoded with UNHEX(), so no byte
 * passes through a character set conversion.
 */
import { Readable } from 'node:stream';
import type { Connection } from 'mysql2/promise';
import { FerryError } from '../../errors.js';
import type { Column, Row } from '../../types.js';
import { quoteBacktick } from '../base.js';
import { escapeBytes, slices } from '../escapeBytes.js';
import { TSV_ESCAPES } from '../tsv.js';
import { throwOnWarnings } from './warnings.js';
import { toMysqlText } from './values.js';

/** The server or client does not allow LOAD DATA LOCAL: use INSERTs. */
export class LoadDataRefused extends Error {}

/** 1148 not allowed, 4166 client capability off (MariaDB), 3948 disabled on the server, 2068 rejected by the client. */
const REFUSED = new Set([1148, 3948, 2068, 4166]);

const CHUNK_BYTES = 256 * 1024;

type Encoding = 'text' | 'hex' | 'bit';

export async function loadData(conn: Connection, quotedTable: string, label: string, columns: Column[], rows: Row[]): Promise<void> {
  const encodings = columns.map(encodingOf);
  const targets: string[] = [];
  const sets: string[] = [];
  columns.forEach((c, i) => {
    const q = quoteBacktick(c.name);
    if (encodings[i] === 'text') return targets.push(q);
    targets.push(`@v${i}`);
    sets.push(encodings[i] === 'hex' ? `${q} = UNHEX(@v${i})` : `${q} = CAST(@v${i} AS UNSIGNED)`);
  });
  const sql = loadDataSql(quotedTable, targets, sets);
  let result: { affectedRows?: number; warningStatus?: number };
  try {
    const socket = socketOf(conn);
    const [r] = await conn.query({ sql, infileStreamFactory: () => Readable.from(paced(lines(columns, encodings, rows), socket)) });
    result = r as typeof result;
  } catch (err) {
    if (REFUSED.has((err as { errno?: number }).errno ?? 0)) throw new LoadDataRefused((err as Error).message);
    throw err;
  }
  if ((result.warningStatus ?? 0) > 0) await throwOnWarnings(conn, label, `LOAD DATA of ${rows.length} rows`);
  if (result.affectedRows !== rows.length) {
    throw new FerryError('data', `LOAD DATA into "${label}" stored ${result.affectedRows} of ${rows.length} rows`);
  }
}

/**
 * Rows already in 'tsv' (a source's pass-through, e.g. PostgreSQL's COPY
 * text) into `columns`, as they come. The server's warnings and its count of
 * rows stored against the lines sent say whether every row went in exactly.
 */
export async function loadRaw(conn: Connection, quotedTable: string, label: string, columns: string[], chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const sql = loadDataSql(quotedTable, columns.map(quoteBacktick), []);
  let lines = 0;
  const counted = async function* () {
    for await (const chunk of chunks) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = bytes.indexOf(NEWLINE); at >= 0; at = bytes.indexOf(NEWLINE, at + 1)) lines++;
      yield bytes;
    }
  };
  let result: { affectedRows?: number; warningStatus?: number };
  try {
    const [r] = await conn.query({ sql, infileStreamFactory: () => Readable.from(paced(counted(), socketOf(conn))) });
    result = r as typeof result;
  } catch (err) {
    if (REFUSED.has((err as { errno?: number }).errno ?? 0)) throw new LoadDataRefused((err as Error).message);
    throw err;
  }
  if ((result.warningStatus ?? 0) > 0) await throwOnWarnings(conn, label, `LOAD DATA of ${lines} rows`);
  if (result.affectedRows !== lines) throw new FerryError('data', `LOAD DATA into "${label}" stored ${result.affectedRows} of ${lines} rows`);
  return lines;
}

const NEWLINE = 0x0a;

/** LOAD DATA of tab-separated lines, backslash escapes, into `targets` (columns or @variables) and then `sets`. */
function loadDataSql(quotedTable: string, targets: string[], sets: string[]): string {
  return (
    `LOAD DATA LOCAL INFILE 'dbferry-rows' INTO TABLE ${quotedTable} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '')
  );
}

function encodingOf(c: Column): Encoding {
  const numeric = c.type.kind === 'integer' || c.type.kind === 'boolean';
  if (numeric && /^\s*bit\b/i.test(c.nativeType)) return 'bit';
  return c.type.kind === 'binary' || c.type.kind === 'any' ? 'hex' : 'text';
}

/** Bytes queued on the socket before the rows wait for it to drain. */
const QUEUED_BYTES = 1024 * 1024;

type Socket = { writableLength: number; once(event: 'drain' | 'close', listener: () => void): unknown; removeListener(event: 'drain' | 'close', listener: () => void): unknown };

function socketOf(conn: Connection): Socket | undefined {
  const stream = (conn as unknown as { connection?: { stream?: Partial<Socket> } }).connection?.stream;
  return stream && typeof stream.writableLength === 'number' && typeof stream.once === 'function' ? (stream as Socket) : undefined;
}

/**
 * mysql2 writes every piece of the file to the socket as it comes, without
 * waiting for the server to take it: a batch of 10 MB values would sit in
 * memory twice over. The pieces wait here while the socket holds more than
 * QUEUED_BYTES.
 */
async function* paced(pieces: Iterable<Buffer> | AsyncIterable<Buffer>, socket: Socket | undefined): AsyncGenerator<Buffer> {
  for await (const piece of pieces) {
    if (socket && socket.writableLength > QUEUED_BYTES) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.removeListener('drain', done);
          socket.removeListener('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
    yield piece;
  }
}

function* lines(columns: Column[], encodings: Encoding[], rows: Row[]): Generator<Buffer> {
  const width = columns.length;
  let chunk = '';
  for (const row of rows) {
    for (let i = 0; i < width; i++) {
      if (i) chunk += '\t';
      const value = row[i];
      if (typeof value === 'string' && value.length >= CHUNK_BYTES && encodings[i] === 'text') {
        // A big text value is encoded and escaped as bytes, outside the JavaScript heap, and goes
        // out in pieces of its own: as a string it would be copied whole twice more.
        const text = toMysqlText(value, columns[i]) as string;
        if (chunk) yield Buffer.from(chunk, 'utf8');
        chunk = '';
        yield* slices(escapeBytes(Buffer.from(text, 'utf8'), TSV_ESCAPES), CHUNK_BYTES);
        continue;
      }
      chunk += field(value, columns[i], encodings[i]);
    }
    chunk += '\n';
    if (chunk.length >= CHUNK_BYTES) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  if (chunk) yield Buffer.from(chunk, 'utf8');
}


const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };

function field(value: Row[number], column: Column, encoding: Encoding): string {
  const text = toMysqlText(value, column);
  if (text === null) return '\\N';
  if (encoding === 'hex') return (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('hex');
  if (typeof text !== 'string') {
    const decoded = text.toString('utf8');
    if (!Buffer.from(decoded, 'utf8').equals(text)) {
      throw new FerryError('data', `column "${column.name}": binary value is not valid UTF-8 text for a ${column.nativeType} column`);
    }
    return escapeField(decoded);
  }
  return escapeField(text);
}

function escapeField(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\t\n\r\0]/g, (ch) => ESCAPES[ch]) : s;
}
