import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/**
 * Where state lives by default: the folder Electron's app.getPath('userData')
 * would give for "dbferry", so the CLI and the desktop app share history.
 * `--state DIR` and DBFERRY_HOME override it.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DBFERRY_HOME) return env.DBFERRY_HOME;
  const home = homedir();
  switch (platform()) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'dbferry');
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'dbferry');
    default:
      return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'dbferry');
  }
}
