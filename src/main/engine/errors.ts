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
  if (err instanceof FerryError) return err.hint ? `${err.message}. ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
