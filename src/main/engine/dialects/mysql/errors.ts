/**
 * Driver errors after connecting, as FerryErrors: the kind tells the pipeline
 * what failed, `transient` whether a retry can help. Messages are the
 * server's own (they name the column or key) and never carry a password.
 */
import { FerryError } from '../../errors.js';
import type { ErrorKind } from '../../errors.js';
import { privilegeError } from './connect.js';

interface DriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

const LOST = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'ETIMEDOUT']);
const SCHEMA = new Set([1146, 1054, 1050, 1051, 1072, 1091, 1049]);
const DATA = new Set([1048, 1062, 1264, 1265, 1292, 1366, 1406, 1411, 1452, 1451, 1690, 4025, 3819]);
const TIMEOUT = new Set([1969, 3024, 1205]);
const PRIVILEGE = new Set([1044, 1142, 1143, 1227, 1370]);

export function mysqlError(err: unknown, where: string, user: string): Error {
  if (err instanceof FerryError || !(err instanceof Error)) return err as Error;
  const e = err as DriverError;
  const errno = e.errno ?? 0;
  if (PRIVILEGE.has(errno)) return privilegeError(err, where, user);
  // The server drops the connection after it, but it is the row, not the network: trying again cannot help.
  if (errno === 1153) {
    return new FerryError('data', `MySQL/MariaDB at ${where}: a row is bigger than the server's max_allowed_packet`, {
      hint: 'raise it on the server (SET GLOBAL max_allowed_packet = 1073741824, at most 1 GB), then `dbferry dead-letters retry`',
      cause: err,
    });
  }
  if (LOST.has(e.code ?? '') || e.fatal) {
    return new FerryError('connection', `lost the connection to MySQL/MariaDB at ${where}: ${e.message}`, {
      hint: 'The server closed the connection or the network dropped; the run can be resumed',
      transient: true,
      cause: err,
    });
  }
  const text = e.sqlMessage ?? e.message ?? String(err);
  let kind: ErrorKind | undefined;
  let transient = false;
  if (SCHEMA.has(errno)) kind = 'schema';
  else if (DATA.has(errno)) kind = 'data';
  else if (TIMEOUT.has(errno)) [kind, transient] = ['timeout', errno === 1205];
  else if (errno === 1213) [kind, transient] = ['internal', true]; // deadlock: the transaction was rolled back
  if (!kind) return err;
  return new FerryError(kind, `MySQL/MariaDB at ${where}: ${text}`, { transient, cause: err });
}
