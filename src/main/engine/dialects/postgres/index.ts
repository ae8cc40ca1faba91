/** The PostgreSQL dialect: capabilities as data, sessions from connect.ts. */
import { FerryError } from '../../errors.js';
import { postgresSchema } from './schema.js';
import type { Dialect } from '../dialect.js';
import { connect } from './connect.js';
import { PostgresSession } from './session.js';

export { exportSnapshot, joinSnapshot } from './snapshot.js';

export const postgresDialect: Dialect = {
  engine: 'postgres',
  schema: postgresSchema,
  capabilities: {
    transactionalDdl: true,
    schemas: true,
    maxIdentifierLength: 63,
    truncatesIdentifiers: true,
    promoteStaging: true,
    promoteReshapes: true,
    stagingInFinalShape: true,
    keyAfterLoad: true,
    concurrentWriters: true,
    // The planner runs the grouped hash statement in one process (no parallel plan: it guesses 200 groups);
    // two halves at once on a loaded 2-core machine took 2.0-2.9 s where one statement took 2.4-4.0 s.
    splitHashes: true,
  },
  async open(info, options) {
    if (info.engine !== 'postgres') {
      throw new FerryError('internal', `the PostgreSQL dialect cannot open a ${info.engine} connection`);
    }
    const conn = await connect(info, options);
    return new PostgresSession(postgresDialect, conn, options.schema ?? 'public');
  },
};
