/**
 * Preflight privilege check for SQLite: there are no users or grants, only
 * the file system and the way the file was opened.
 *
 * Source: this process may read the file.
 * Target: the database was not opened read-only (`?mode=ro`), this process
 * may write the file, and may create files in its folder (SQLite writes its
 * rollback journal or WAL next to the database on every write; when the file
 * does not exist yet, the folder is where it will be created).
 *
 * Not checked: what fs.access cannot see (as root every check passes; ACLs,
 * read-only mounts and network file systems may still refuse a write), and
 * locks held by other processes (those are reported when the run begins).
 */
import { constants } from 'node:fs';
import { access as fsAccess } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { PrivilegeRequest } from '../dialect.js';

export interface SqliteFileState {
  /** The resolved path of the database file. */
  path: string;
  /** The connection is read-only (`?mode=ro`, or a source). */
  readonly: boolean;
}

export type AccessCheck = (path: string, mode: number) => Promise<void>;

export async function privilegeProblems(
  file: SqliteFileState,
  request: PrivilegeRequest,
  access: AccessCheck = fsAccess,
  user: string = currentUser(),
): Promise<string[]> {
  const allowed = (path: string, mode: number) => access(path, mode).then(() => true, (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : false));
  const who = `user "${user}"`;
  const folder = dirname(file.path);
  const problems: string[] = [];

  if (request.role === 'source') {
    if ((await allowed(file.path, constants.R_OK)) === false) {
      problems.push(`${who} may not read the SQLite file ${file.path} (make it readable by this user, e.g. chmod a+r, or run dbferry as its owner)`);
    }
    return problems;
  }

  if (file.readonly) {
    problems.push(`the SQLite target ${file.path} is opened read-only (?mode=ro in its URL), so nothing can be written (remove ?mode=ro from the target URL)`);
  }
  const fileWritable = await allowed(file.path, constants.W_OK);
  if (fileWritable === false) {
    problems.push(`${who} may not write the SQLite file ${file.path} (make it writable by this user, e.g. chmod u+w, or run dbferry as its owner)`);
  }
  if ((await allowed(folder, constants.W_OK | constants.X_OK)) === false) {
    const why =
      fileWritable === undefined
        ? `where the database file ${file.path} is to be created`
        : `where SQLite creates the journal of ${file.path} on every write`;
    problems.push(`${who} may not create files in the folder ${folder}, ${why} (make the folder writable by this user)`);
  }
  return problems;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
