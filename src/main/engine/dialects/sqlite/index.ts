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
    // SQLite's ALTER TABLE can neither add a key nor drop a column in place, so only a table
    // staged in its final shape is promoted; text keys are, since every read orders them by code point
    // (COLLATE BINARY here, COLLATE "C" in PostgreSQL, bytes in MySQL).
    promoteStaging: true,
    stagingInFinalShape: true,
    finalShapeKeys: ['integer', 'text', 'uuid'],
  },
  async open(info, options) {
    if (info.engine !== 'sqlite') throw new FerryError('internal', `the SQLite dialect cannot open a ${info.engine} connection`);
    return new SqliteSession(sqliteDialect, info, options);
  },
};
