/**
 * A real Secret Service for keychain tests: a private D-Bus session bus
 * (dbus-daemon) with GNOME Keyring on it, unlocked with a test password and
 * keeping its files in a temp HOME; secret-tool reaches it through
 * DBUS_SESSION_BUS_ADDRESS. stop() ends both.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Why a Secret Service cannot be started here, if it cannot. */
export const keyringMissing = ['/usr/bin/secret-tool', '/usr/bin/gnome-keyring-daemon', '/usr/bin/dbus-daemon'].some((p) => !existsSync(p))
  ? 'needs secret-tool, gnome-keyring and dbus-daemon: apt-get install -y libsecret-tools gnome-keyring dbus-daemon'
  : undefined;

/** A private session bus with an unlocked GNOME Keyring on it; stop() ends both. */
export function startKeyring(home: string): { address: string; stop(): void } {
  const out = execFileSync('dbus-daemon', ['--session', '--fork', '--nosyslog', '--print-address=1', '--print-pid=1'], { encoding: 'utf8' }).trim().split('\n');
  const address = out[0];
  const busPid = Number(out[1]);
  const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home };
  execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets', '--daemonize'], { input: 'keyring-test\n', env, stdio: ['pipe', 'ignore', 'ignore'] });
  return {
    address,
    stop() {
      // The keyring daemon is a client of this bus only: it exits when the bus goes.
      for (const pid of keyringPids(address)) process.kill(pid, 'SIGTERM');
      process.kill(busPid, 'SIGTERM');
    },
  };
}

/** gnome-keyring-daemon processes started on this bus (by their environment). */
function keyringPids(address: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('gnome-keyring')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`DBUS_SESSION_BUS_ADDRESS=${address}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

