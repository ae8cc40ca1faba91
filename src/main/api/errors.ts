import type { ApiErrorCode } from '../../shared/api.js';

/** An error a handler raises on purpose: its message is shown to the user as is. */
export class HandlerError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HandlerError';
  }
}

export function notFound(what: string, id: string): HandlerError {
  return new HandlerError('not-found', `${what} "${id}" does not exist (it may have been deleted)`);
}
