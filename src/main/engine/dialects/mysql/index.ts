/**
 * The MySQL/MariaDB dialect: capabilities as data, sessions from connect.ts.
 */
import type { ConnectionInfo } from '../../../../shared/connectionUrl.js';
import { FerryError } from '../../errors.js';
import { mysqlSchema } from './schema.js';
import type { Dialect, OpenOptions, Session } from '../dialect.js';
import { connect } from './connect.js';
import { MysqlSession } from './session.js';

export const mysqlDialect: Dialect = {
  engine: 'mysql',
  schema: mysqlSchema,
  capabilities: {
    // DDL commits the open transaction implicitly.
    transactionalDdl: false,
    // "db.table" reaches another database on the same server, but tables are not created in schemas.
    schemas: false,
    maxIdentifierLength: 64,
    // A new target is staged in its final shape; dropping dbferry's columns is instant
    // (MariaDB 10.4+, MySQL 8.0.29+) and RENAME TABLE atomic. It runs after the commit.
    promoteStaging: true,
    promoteReshapes: true,
    // Without dbferry's columns either (integer keys): fewer bytes through LOAD DATA, nothing to drop.
    stagingInFinalShape: true,
    concurrentWriters: true,
    // Hashing 1M rows of the bench's orders took 3 s of one core, PostgreSQL's side 0.6 s.
    splitHashes: true,
  },
  async open(info: ConnectionInfo, options: OpenOptions): Promise<Session> {
    if (info.engine !== 'mysql') {
      throw new FerryError('internal', `the MySQL dialect cannot open a ${info.engine} connection`);
    }
    return new MysqlSession(mysqlDialect, await connect(info, options), info);
  },
};

export { MysqlSession } from './session.js';
