import type { Engine } from '../../../shared/connectionUrl.js';
import type { Dialect } from './dialect.js';

/** Dialects load lazily so that a SQLite-only run never loads pg or mysql2. */
export async function dialectFor(engine: Engine): Promise<Dialect> {
  switch (engine) {
    case 'sqlite':
      return (await import('./sqlite/index.js')).sqliteDialect;
    case 'postgres':
      return (await import('./postgres/index.js')).postgresDialect;
    case 'mysql':
      return (await import('./mysql/index.js')).mysqlDialect;
  }
}
