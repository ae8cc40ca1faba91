/**
 * A PostgreSQL server of a test's own (initdb into a temporary directory,
 * started on a free port of 127.0.0.1, stopped and removed after): for tests
 * whose result depends on the whole cluster's transactions, which test files
 * running at once on the shared server would disturb (transaction ids are
 * shared by every database of a server). Needs the server binaries
 * (pg_config --bindir, or /usr/lib/postgresql/N/bin); as root, runs them as
 * the postgres user, as initdb refuses root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PrivatePg {
  /** A URL of database `db` on it (user postgres, trust). */
  url(db: string): string;
  exec(db: string, sql: string): Promise<void>;
  stop(): void;
}

function binDir(): string | undefined {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dirs = [fromConfig.status === 0 ? fromConfig.stdout.trim() : '', ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort().reverse().map((v) => `/usr/lib/postgresql/${v}/bin`) : [])];
  return dirs.find((d) => d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
}

/** Why a private server cannot be started here (undefined: it can). */
export function privatePgMissing(): string | undefined {
  if (!binDir()) return 'PostgreSQL server binaries (initdb, pg_ctl) not found';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root without a postgres user for initdb';
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPrivatePg(settings: string[] = []): Promise<PrivatePg> {
  const bin = binDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-pg-'));
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (cmd: string, args: string[]) => (root ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe' }) : execFileSync(join(bin, cmd), args, { stdio: 'pipe' }));
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const options = [`-p ${port}`, '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${dir}`, '-c fsync=off', ...settings.map((s) => `-c ${s}`)].join(' ');
  run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    url,
    async exec(db, sql) {
      const c = new pg.Client({ connectionString: url(db) });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
