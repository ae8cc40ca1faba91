/**
 * An SSH key's passphrase from the OS keychain: a real Secret Service (GNOME
 * Keyring on a private D-Bus session bus, unlocked with a test password), read
 * with libsecret's secret-tool, and a real sshd forwarding to PostgreSQL.
 * - the CLI: "passphraseKeychain": {service, account} in the job spec;
 * - the browser mode: "Remember passphrase" keeps it in the keychain, and a
 *   restarted app uses it; the store never holds it.
 * The desktop app's safeStorage store (EncryptedStoreVault) needs Electron and
 * is not exercised here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionDto, RunDetailDto } from '../../src/shared/api.js';
import { sshSessionSecrets } from '../../src/main/api/connections/sshSecrets.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { createPgDatabase, type PgTestDatabase } from '../helpers/postgres.js';
import { keygen, sshdMissing, startSshd, type TestSshd } from '../helpers/sshd.js';
import { keyringMissing, startKeyring } from '../helpers/keyring.js';
import { redisAnswers, testQueue } from '../helpers/queue.js';
import { AppQueuedRuns } from '../../src/main/queue/appRuns.js';
import { parseQueueUrl } from '../../src/main/queue/redisUrl.js';

const PASSPHRASE = 'keychain Sesame 0451';

const skip = sshdMissing ?? keyringMissing;

function secretTool(args: string[], input?: string) {
  return spawnSync('secret-tool', args, { input, encoding: 'utf8' });
}

describe.skipIf(skip)(`SSH key passphrase from the OS keychain${skip ? ` (${skip})` : ''}`, () => {
  const dir = tempDir('dbferry-keychain-');
  let sshd: TestSshd;
  let keyring: { address: string; stop(): void };
  let source: PgTestDatabase;
  let locked: string;
  const busBefore = process.env.DBUS_SESSION_BUS_ADDRESS;

  beforeAll(async () => {
    keyring = startKeyring(join(dir, 'home'));
    // This process (the browser mode in it) and the CLI it starts reach the keychain on this bus.
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
    sshd = await startSshd();
    locked = join(dir, 'locked_key');
    keygen(locked, { passphrase: PASSPHRASE });
    appendFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${locked}.pub`));
    source = await createPgDatabase();
    const c = new pg.Client({ connectionString: source.url });
    await c.connect();
    await c.query("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g");
    await c.end();
  }, 60_000);

  afterAll(async () => {
    if (busBefore === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = busBefore;
    await source?.drop().catch(() => undefined);
    await sshd?.stop();
    keyring?.stop();
  });

  const ssh = (extra: Record<string, unknown>) => ({ host: '127.0.0.1', port: sshd.port, user: 'root', privateKey: locked, knownHosts: sshd.knownHosts, ...extra });

  it('CLI: "passphraseKeychain" reads the passphrase from the Secret Service; the run copies through the tunnel and never prints it', async () => {
    const stored = secretTool(['store', '--label=dbferry test key', 'service', 'dbferry-test', 'account', 'bastion-key'], PASSPHRASE);
    expect(stored.status, stored.stderr).toBe(0);
    const job = writeJob(dir, {
      source: { url: source.url, ssh: ssh({ passphraseKeychain: { service: 'dbferry-test', account: 'bastion-key' } }) },
      target: { url: `sqlite:${join(dir, 'cli.db')}` },
      tables: [{ source: 'public.items', target: 'items', mode: 'replace' }],
      options: { verify: 'checksum' },
    }, 'keychain.json');
    const r = await dbferry(['run', job, '--json', '--state', join(dir, 'state-cli')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"rowsWritten":500');
    expect(r.stdout + r.stderr).not.toContain(PASSPHRASE);
    const rows = execFileSync('sqlite3', [join(dir, 'cli.db'), 'SELECT count(*), sum(id) FROM items'], { encoding: 'utf8' }).trim();
    expect(rows).toBe('500|125250');
  }, 60_000);

  it('CLI: a keychain entry that does not exist is refused before any row moves, naming it and how to store it', async () => {
    const job = writeJob(dir, {
      source: { url: source.url, ssh: ssh({ passphraseKeychain: { service: 'dbferry-test', account: 'nobody' } }) },
      target: { url: `sqlite:${join(dir, 'none.db')}` },
      tables: [{ source: 'public.items', target: 'items' }],
    }, 'missing.json');
    const r = await dbferry(['plan', job]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`the passphrase of the SSH private key "${locked}" for root@127.0.0.1:${sshd.port} is not in the OS keychain (service "dbferry-test", account "nobody")`);
    expect(r.stderr).toContain("secret-tool store --label='dbferry SSH key passphrase' service 'dbferry-test' account 'nobody'");
  }, 60_000);

  it('browser mode: "Remember passphrase" keeps it in the keychain, a restarted app uses it, the store never holds it; deleting the connection forgets it', async () => {
    const stateDir = join(dir, 'state-app');
    let app: BrowserMode = await startBrowserMode({ stateDir, baseDir: dir });
    let remembered: ConnectionDto;
    let forgotten: ConnectionDto;
    try {
      const info = await app.router.handle('app/info', {});
      expect(info.ok && (info.value as { sshPassphraseStore: string | null }).sshPassphraseStore).toBe('the Secret Service keychain');
      const save = async (name: string, remember: boolean) => {
        const r = await app.router.handle('connections/save', { name, url: source.url, ssh: ssh({}), sshPassphrase: PASSPHRASE, sshRememberPassphrase: remember });
        expect(r.ok, JSON.stringify(r)).toBe(true);
        return (r as { value: ConnectionDto }).value;
      };
      remembered = await save('behind bastion (remembered)', true);
      forgotten = await save('behind bastion (session only)', false);
      expect(remembered.sshPassphraseRemembered).toBe(true);
      expect(forgotten.sshPassphraseRemembered).toBeUndefined();
    } finally {
      await app.close();
    }
    // The store file holds neither the passphrase nor anything decodable to it.
    const storeBytes = readdirSync(stateDir).map((f) => readFileSync(join(stateDir, f)).toString('latin1')).join('');
    expect(storeBytes).not.toContain(PASSPHRASE);

    // A restart: what was typed for the session is gone, the keychain is not.
    sshSessionSecrets.delete(remembered.id);
    sshSessionSecrets.delete(forgotten.id);
    app = await startBrowserMode({ stateDir, baseDir: dir });
    try {
      const tables = await app.router.handle('connections/tables', { id: remembered.id });
      expect(tables.ok, JSON.stringify(tables)).toBe(true);
      expect(JSON.stringify(tables)).toContain('items');
      const test = await app.router.handle('connections/test', { id: remembered.id });
      expect(test.ok && (test.value as { ok: boolean }).ok, JSON.stringify(test)).toBe(true);
      // A run of a job naming the connection gets the remembered passphrase too (through a variable of this process).
      for (const k of Object.keys(process.env)) if (k.startsWith('DBFERRY_SSH_PASSPHRASE_')) delete process.env[k];
      const started = await app.router.handle('runs/start', {
        spec: { name: 'items over ssh', source: { url: remembered.url }, target: { url: `sqlite:${join(dir, 'app.db')}` }, tables: [{ source: 'public.items', target: 'items' }] },
      });
      if (!started.ok) throw new Error(JSON.stringify(started));
      const runId = (started.value as { runId: string }).runId;
      let detail: RunDetailDto | undefined;
      await expect
        .poll(async () => {
          const got = await app.router.handle('runs/get', { runId });
          detail = got.ok ? (got.value as RunDetailDto) : undefined;
          return detail?.run.status;
        }, { timeout: 30_000 })
        .toBe('succeeded');
      expect(detail!.run.rowsWritten).toBe(500);
      expect(JSON.stringify(detail)).not.toContain(PASSPHRASE);

      // A run cancelled, then resumed once the process has lost the variable (as after a restart): the passphrase comes from the keychain again.
      const slow = await app.router.handle('runs/start', {
        spec: {
          name: 'items over ssh, slowly',
          source: { url: remembered.url },
          target: { url: `sqlite:${join(dir, 'resumed.db')}` },
          tables: [{ source: 'public.items', target: 'items' }],
          options: { rateLimit: { rowsPerSecond: 100 }, batch: { maxRows: 50 } },
        },
      });
      if (!slow.ok) throw new Error(JSON.stringify(slow));
      const slowId = (slow.value as { runId: string }).runId;
      const status = async () => {
        const got = await app.router.handle('runs/get', { runId: slowId });
        return got.ok ? (got.value as RunDetailDto).run : undefined;
      };
      // Staging 500 rows at 100 a second takes five: cancel it a second and a half in.
      await new Promise((r) => setTimeout(r, 1500));
      const cancel = await app.router.handle('runs/cancel', { runId: slowId });
      expect(cancel.ok, JSON.stringify(cancel)).toBe(true);
      await expect.poll(async () => (await status())?.status, { timeout: 20_000 }).toBe('cancelled');
      for (const k of Object.keys(process.env)) if (k.startsWith('DBFERRY_SSH_PASSPHRASE_')) delete process.env[k];
      const resumed = await app.router.handle('runs/resume', { runId: slowId });
      if (!resumed.ok) throw new Error(JSON.stringify(resumed));
      const resumedId = (resumed.value as { runId: string }).runId;
      let after: RunDetailDto | undefined;
      await expect
        .poll(async () => {
          const got = await app.router.handle('runs/get', { runId: resumedId });
          after = got.ok ? (got.value as RunDetailDto) : undefined;
          return after?.run.status;
        }, { timeout: 30_000 })
        .toBe('succeeded');
      expect(after!.run.error ?? '').not.toContain('DBFERRY_SSH_PASSPHRASE_');
      expect(execFileSync('sqlite3', [join(dir, 'resumed.db'), 'SELECT count(*), sum(id) FROM items'], { encoding: 'utf8' }).trim()).toBe('500|125250');
      const asked = await app.router.handle('connections/tables', { id: forgotten.id });
      expect(asked.ok).toBe(false);
      expect(JSON.stringify(asked)).toContain('is encrypted and no passphrase was given');

      expect(secretTool(['lookup', 'service', 'dbferry', 'account', `ssh-passphrase:${remembered.id}`]).stdout).toBe(PASSPHRASE);
      expect((await app.router.handle('connections/delete', { id: remembered.id })).ok).toBe(true);
      expect(secretTool(['lookup', 'service', 'dbferry', 'account', `ssh-passphrase:${remembered.id}`]).status).not.toBe(0);
    } finally {
      await app.close();
    }
  }, 90_000);

  it('a queued run (dbferry ui --queue) of a connection whose passphrase only the app remembers is refused, saying how workers get it; nothing reaches Redis', async () => {
    if (!(await redisAnswers())) return; // the queue tests say why; Redis is not this test's subject
    const queue = testQueue();
    const stateDir = join(dir, 'state-queue');
    const app = await startBrowserMode({ stateDir, baseDir: dir, queued: (store) => new AppQueuedRuns(parseQueueUrl(queue.url), store) });
    try {
      const saved = await app.router.handle('connections/save', { name: 'queued bastion', url: source.url, ssh: ssh({}), sshPassphrase: PASSPHRASE, sshRememberPassphrase: true });
      expect(saved.ok, JSON.stringify(saved)).toBe(true);
      const url = (saved as { value: ConnectionDto }).value.url;
      const spec = { name: 'queued', source: { url }, target: { url: `sqlite:${join(dir, 'queued.db')}` }, tables: [{ source: 'public.items', target: 'items' }] };
      const refused = await app.router.handle('runs/start', { spec });
      expect(refused.ok).toBe(false);
      expect(JSON.stringify(refused)).toContain(`the source's SSH key passphrase (connection \\"queued bastion\\") is kept only by this app; queued runs get secrets on the worker`);
      expect(JSON.stringify(refused)).not.toContain(PASSPHRASE);
      expect(await queue.dataset()).not.toContain(PASSPHRASE);
      // Named in the job (a keychain entry every worker can read), it goes.
      const named = await app.router.handle('runs/start', {
        spec: { ...spec, source: { url, ssh: ssh({ passphraseKeychain: { service: 'dbferry-test', account: 'bastion-key' } }) } },
      });
      expect(named.ok, JSON.stringify(named)).toBe(true);
      expect(await queue.dataset()).not.toContain(PASSPHRASE);
    } finally {
      await app.close();
      await queue.drop();
    }
  }, 60_000);
});
