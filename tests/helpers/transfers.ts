/**
 * Money moved between two tables while a run reads them, one transfer per
 * transaction: a copy made from one point in time keeps the sum of both
 * tables; one that saw some transfers in one table and not the other does not.
 */
export interface Transfers {
  /** Transfers committed so far. */
  readonly count: number;
  stop(): Promise<void>;
}

/** `exec(sql, params)` runs one statement on a connection of the source; placeholders in `mark` style. */
export function startTransfers(exec: (sql: string, params?: unknown[]) => Promise<unknown>, mark: (i: number) => string, rows = 20000): Transfers {
  let moving = true;
  let count = 0;
  const loop = (async () => {
    while (moving) {
      const id = 1 + (count % rows);
      await exec('BEGIN');
      await exec(`UPDATE a SET balance = balance - 7 WHERE id = ${mark(1)}`, [id]);
      await exec(`UPDATE b SET balance = balance + 7 WHERE id = ${mark(1)}`, [rows + 1 - id]);
      await exec('COMMIT');
      count++;
    }
  })();
  return {
    get count() {
      return count;
    },
    async stop() {
      moving = false;
      await loop;
    },
  };
}
