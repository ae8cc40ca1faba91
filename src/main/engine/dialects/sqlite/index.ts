import { sqliteSchema } from './schema.js';
import type { Dialect } from '../dialect.js';
import { FerryError } from '../../errors.js';
import { SqliteSession } from './session.js';

export const sqliteDialect: Dialect = {
  engine: 'sqlite',
  schema: sqliteSchema,
  capabilities: {
    transactionalDdl: true,
    schemas: false,
    maxIdentifierLength: 1024,
    concurrentWriters: false,
    // A new target is staged with its key and renamed in the apply transaction: no second copy of its rows.
    promoteStaging: true,
    stagingInFinalShape: true,
  },
  async open(info, options) {
    if (info.engine !== 'sqlite') throw new FerryError('internal', `the SQLite dialect cannot open a ${info.engine} connection`);
    return new SqliteSession(sqliteDialect, info, options);
  },
};
