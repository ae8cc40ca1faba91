/**
 * PostgreSQL and socket errors as FerryErrors that say what happened, where,
 * and what to do. Messages never contain the password.
 */
import { FerryError } from '../../errors.js';

/** The fields of pg's DatabaseError and Node's socket errors that we read. */
interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  where?: string;
  table?: string;
  column?: string;
}

export interface ServerLabel {
  host: string;
  port: number;
  database: string;
  user: string;
  /** The local end of an SSH tunnel the connection goes through. */
  via?: { host: string; port: number };
}

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

function fields(err: unknown): PgErrorLike {
  return typeof err === 'object' && err !== null ? (err as PgErrorLike) : { message: String(err) };
}

/** An error while opening the connection. */
export function connectError(err: unknown, s: ServerLabel): FerryError {
  const e = fields(err);
  const at = `PostgreSQL at ${s.host}:${s.port}`;
  const msg = e.message ?? '';
  if (e.code === 'ECONNREFUSED') {
    return new FerryError('connection', `cannot connect to ${at}: connection refused`, {
      hint: 'check that the server is running and listening on that host and port (listen_addresses, port, firewall)',
      transient: true,
      cause: err,
    });
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return new FerryError('connection', `cannot connect to ${at}: host "${s.host}" not found`, {
      hint: 'check the host name in the connection URL',
      transient: e.code === 'EAI_AGAIN',
      cause: err,
    });
  }
  if ((e.code && NETWORK.has(e.code)) || /timeout|terminated/i.test(msg)) {
    return new FerryError('connection', `cannot connect to ${at}: ${msg || e.code}`, {
      hint: 'check that the host is reachable from this machine (VPN, firewall, connect_timeout)',
      transient: true,
      cause: err,
    });
  }
  if (e.code === '28P01' || e.code === '28000') {
    return new FerryError('connection', `${at} refused login as "${s.user}" to database "${s.database}": ${msg}`, {
      hint: 'check the user name and password (passwordEnv), and that pg_hba.conf allows this client',
      cause: err,
    });
  }
  if (e.code === '3D000') {
    return new FerryError('connection', `database "${s.database}" does not exist on ${at}`, {
      hint: 'check the database name in the connection URL, or create it first',
      cause: err,
    });
  }
  if (e.code === '53300' || e.code === '57P03') {
    return new FerryError('connection', `${at} is not accepting connections now: ${msg}`, { transient: true, cause: err });
  }
  if (/SSL|certificate/i.test(msg)) {
    return new FerryError('connection', `SSL negotiation with ${at} failed: ${msg}`, {
      hint: 'check sslmode (disable, require, verify-ca, verify-full) and sslrootcert in the connection URL',
      cause: err,
    });
  }
  return new FerryError('connection', `cannot connect to ${at}, database "${s.database}": ${msg}`, { cause: err });
}

/** An error from a statement; `what` says what we were doing, e.g. 'reading "public"."orders"'. */
export function queryError(err: unknown, what: string, s: ServerLabel): Error {
  if (err instanceof FerryError) return err;
  const e = fields(err);
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  const detail = [e.detail, e.where].filter(Boolean).join('; ');
  const full = `${what}: ${msg}${detail ? ` (${detail})` : ''}`;
  if (code === '42501') {
    return new FerryError('schema', `permission denied ${what} as "${s.user}": ${msg}`, {
      hint: 'grant the privilege to this role (e.g. GRANT SELECT / INSERT / CREATE), or connect as another user',
      cause: err,
    });
  }
  if (code === '57014') {
    return new FerryError('timeout', full, {
      hint: 'raise options.timeouts.statementMs, or read smaller chunks',
      transient: true,
      cause: err,
    });
  }
  if (code === '40001' || code === '40P01') {
    return new FerryError('internal', `${full}: serialization failure or deadlock; retrying helps`, { transient: true, cause: err });
  }
  if (code.startsWith('08') || code.startsWith('57P') || NETWORK.has(code) || /Connection terminated|not queryable/i.test(msg)) {
    return new FerryError('connection', `lost the connection to PostgreSQL at ${s.host}:${s.port} while ${full}`, {
      transient: true,
      cause: err,
    });
  }
  if (code.startsWith('42')) return new FerryError('schema', full, { cause: err });
  if (code.startsWith('22') || code.startsWith('23')) return new FerryError('data', full, { cause: err });
  return new FerryError('internal', code ? `${full} [SQLSTATE ${code}]` : full, { cause: err });
}
