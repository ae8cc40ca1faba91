/**
 * Errors the engine raises on purpose. Each says what happened, to what, and
 * what the user can do; `transient` tells retry logic whether trying again helps.
 */
export type ErrorKind =
  | 'spec' // the job spec or arguments are wrong (exit 2)
  | 'connection' // cannot reach or log in to a server / open a file
  | 'schema' // unknown table or column, incompatible target
  | 'type-mapping' // a lossy mapping the spec did not accept
  | 'data' // rows rejected beyond the limit
  | 'verify' // source and target differ after the run
  | 'cancelled'
  | 'timeout'
  | 'internal';

export class FerryError extends Error {
  readonly kind: ErrorKind;
  readonly transient: boolean;
  readonly hint?: string;

  constructor(kind: ErrorKind, message: string, opts: { hint?: string; transient?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FerryError';
    this.kind = kind;
    this.transient = opts.transient ?? false;
    this.hint = opts.hint;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof FerryError) return err.hint ? `${err.message.replace(/\.$/, '')}. ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Errors worth retrying: the connection dropped, the server restarted, a
 * serialization failure, a deadlock, a lock timeout. Codes of all three
 * engines are listed here as data; everything else is permanent.
 */
const TRANSIENT_CODES = new Set([
  // node / sockets
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  // PostgreSQL SQLSTATEs
  '40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004',
  // MySQL / MariaDB
  'PROTOCOL_CONNECTION_LOST', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR',
  'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED', 'ER_CLIENT_INTERACTION_TIMEOUT',
  // SQLite
  'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED',
]);

const TRANSIENT_MESSAGES = /Connection terminated|connection is closed|Client has encountered a connection error|terminating connection due to administrator command|Can't add new command when connection is in closed state|server has gone away|Lost connection/i;

export function isTransient(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof FerryError) {
      // A statement past options.timeouts.statementMs is a stuck batch: abandon it and try again.
      if (e.transient || e.kind === 'timeout') return true;
      if (e.kind !== 'connection' && e.kind !== 'internal') return false;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const errno = (e as { errno?: unknown }).errno;
    if (errno === 1213 || errno === 1205 || errno === 2013 || errno === 2006 || errno === 1927) return true;
    if (e instanceof Error && TRANSIENT_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/**
 * Errors that are about the rows, not the connection or the schema: a
 * constraint, a value the column refuses, a trigger that raised. Such a
 * failure is narrowed down to the rows that cause it, which are dead-lettered.
 */
const ROW_ERRNOS = new Set([1048, 1062, 1264, 1292, 1366, 1406, 1451, 1452, 1644, 3819, 4025, 1265, 1690]);

export function isRowRejection(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof FerryError) {
      if (e.kind === 'data') return true;
      if (e.kind !== 'internal') return false;
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (/^(22|23)[0-9A-Z]{3}$/.test(code) || code === 'P0001') return true;
      if (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') return true;
      if (code === '45000') return true;
    }
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'number' && ROW_ERRNOS.has(errno)) return true;
    if ((e as { sqlState?: unknown }).sqlState === '45000') return true;
  }
  return false;
}
