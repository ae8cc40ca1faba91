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
  capabilities: { transactionalDdl: true, schemas: true, maxIdentifierLength: 63, truncatesIdentifiers: true, promoteStaging: true, promoteReshapes: true, stagingInFinalShape: true, keyAfterLoad: true, concurrentWriters: true },
  async open(info, options) {
    if (info.engine !== 'postgres') {
      throw new FerryError('internal', `the PostgreSQL dialect cannot open a ${info.engine} connection`);
    }
    const conn = await connect(info, options);
    return new PostgresSession(postgresDialect, conn, options.schema ?? 'public');
  },
};
