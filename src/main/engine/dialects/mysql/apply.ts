/**
 * Apply SQL for MySQL/MariaDB. Only the update differs from the standard
 * form: MySQL has no UPDATE ... FROM, it joins instead. The other statements
 * (INSERT ... SELECT ... WHERE NOT EXISTS on the target, DELETE ... WHERE NOT
 * EXISTS on the staging table) are valid MySQL as they are.
 */
import type { TableName } from '../../types.js';
import { quoteBacktick, StandardApplySql } from '../base.js';

export class MysqlApplySql extends StandardApplySql {
  constructor() {
    super(quoteBacktick);
  }

  override updateFromStaging(target: TableName, staging: TableName, columns: string[], key: string[], filter?: string): string {
    const set = columns.filter((c) => !key.includes(c));
    if (set.length === 0) return '';
    const assignments = set.map((c) => `t.${this.quote(c)} = s.${this.quote(c)}`).join(', ');
    return `UPDATE ${this.table(target)} AS t JOIN ${this.table(staging)} AS s ON ${this.keyMatch(key, 't', 's')} SET ${assignments}${filter ? ` WHERE ${filter}` : ''}`;
  }
}
