import { parseConnectionUrl, redactUrl } from '../../shared/connectionUrl.js';
import { ConnectionUrlError } from '../../shared/connectionUrl.js';
import type { OpenOptions, Session } from './dialects/dialect.js';
import { dialectFor } from './dialects/index.js';
import { FerryError } from './errors.js';

/** Open a session for a job endpoint URL. */
export async function openEndpoint(url: string, options: OpenOptions): Promise<Session> {
  let info;
  try {
    info = parseConnectionUrl(url);
  } catch (err) {
    if (err instanceof ConnectionUrlError) throw new FerryError('spec', `${options.role}.url: ${err.message}`);
    throw err;
  }
  const dialect = await dialectFor(info.engine);
  try {
    return await dialect.open(info, options);
  } catch (err) {
    if (err instanceof FerryError) throw err;
    throw new FerryError('connection', `cannot connect to the ${options.role} ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
}
