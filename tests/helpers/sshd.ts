/**
 * A real OpenSSH server for tunnel tests: Debian's sshd on a loopback port,
 * with its own host key, an authorized client key and its own config, all in a
 * temp folder; stop() kills it and the connections it forked.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { tempDir } from './cli.js';

export const SSHD = '/usr/sbin/sshd';

/** Why the tunnel tests cannot run here, if they cannot. */
export const sshdMissing: string | undefined = !existsSync(SSHD)
  ? 'needs openssh-server (/usr/sbin/sshd): apt-get install -y openssh-server'
  : process.getuid?.() !== 0
    ? 'needs root (sshd logs users in; the password test creates a local user)'
    : undefined;

/** A local user with a password, for password authentication. */
export const PASSWORD_USER = 'dbferry_ssh_test';
export const PASSWORD = 'tunnel-Pw-4711';

export interface TestSshd {
  port: number;
  dir: string;
  /** An authorized private key (ed25519, no passphrase). */
  clientKey: string;
  /** A known_hosts file holding this server's host key. */
  knownHosts: string;
  /** The host key's fingerprint, as ssh-keygen -l prints it. */
  fingerprint: string;
  /** What sshd logged (-e: to stderr). */
  log(): string;
  /** Kill sshd and every connection it forked, as a crash or a reboot of the bastion would. */
  kill(): void;
  /** Start it again, same port, same keys. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

export function keygen(path: string, opts: { passphrase?: string; type?: string } = {}): void {
  execFileSync('ssh-keygen', ['-q', '-t', opts.type ?? 'ed25519', '-N', opts.passphrase ?? '', '-C', 'dbferry-test', '-f', path]);
}

/** Processes whose parent is `pid`, from /proc. */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function killTree(pid: number): void {
  for (const child of children(pid)) killTree(child);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function ensurePasswordUser(): void {
  try {
    execFileSync('id', [PASSWORD_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', PASSWORD_USER]);
  }
  execFileSync('chpasswd', { input: `${PASSWORD_USER}:${PASSWORD}\n` });
}

export async function startSshd(): Promise<TestSshd> {
  const dir = tempDir('dbferry-sshd-');
  const port = await freePort();
  keygen(join(dir, 'host_ed25519'));
  const clientKey = join(dir, 'client_ed25519');
  keygen(clientKey);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const hostPub = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'AllowTcpForwarding yes',
      'LogLevel DEBUG1',
      '',
    ].join('\n'),
  );
  // sshd's privilege separation directory (made by the service unit, which does not run here).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (log += d));
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('data', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (up) return;
      if (child.exitCode !== null) throw new Error(`sshd exited: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not start: ${log}`);
  };
  const kill = () => {
    if (child?.pid) killTree(child.pid);
    child = undefined;
  };
  await start();
  return {
    port,
    dir,
    clientKey,
    knownHosts,
    fingerprint,
    log: () => log,
    kill,
    start,
    async stop() {
      kill();
    },
  };
}
