/**
 * Tests kill the process at a named point of a run (DBFERRY_TEST_KILL_AT) to
 * check that `resume` recovers from a crash exactly there, where an event
 * would come too late to kill it in time. Unset, nothing happens.
 */
export function killPoint(name: string): void {
  if (process.env.DBFERRY_TEST_KILL_AT === name) process.kill(process.pid, 'SIGKILL');
}

/**
 * Tests hold a run at a named point (DBFERRY_TEST_PAUSE_AT) so that a kill
 * lands there whatever the machine's speed, after what came before it has
 * been handed over. Unset, nothing happens.
 */
export async function pausePoint(name: string): Promise<void> {
  if (process.env.DBFERRY_TEST_PAUSE_AT === name) await new Promise<never>(() => undefined);
}
