/**
 * The queue over TLS and with a password (issue 17): a redis-server of the
 * test's own, on free ports, with a throwaway CA and server certificate made
 * by openssl, `requirepass`, a plain port and a TLS port. One queued run
 * through each, a `dbferry worker` process and `dbferry run --queue`; a wrong
 * password and an untrusted certificate are clear errors.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, tempDir, writeJob } from '../helpers/cli.js';
import { startWorker, stopWorkers, waitFor, type TestWorker } from '../helpers/queue.js';

const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
/** Debian's redis-server links OpenSSL when it is built with TLS. */
const tlsBuilt = version.status === 0 && /libssl/.test(spawnSync('ldd', [spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()], { encoding: 'utf8' }).stdout);
const skipReason =
  version.status !== 0 ? 'redis-server is not installed' : openssl.status !== 0 ? 'openssl is not installed' : !tlsBuilt ? `${version.stdout.trim()} is built without TLS` : '';

const PASSWORD = 'tls test pw';
let dir: string;
let server: ChildProcess;
let plainPort: number;
let tlsPort: number;
const workers: TestWorker[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function targetRows(file: string): number {
  const db = new Database(join(dir, file), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe.skipIf(Boolean(skipReason))(`the queue over TLS and with a password${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-queue-tls-');
    // A throwaway CA, and a certificate it signs for 127.0.0.1.
    sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=dbferry test CA']);
    sh('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    sh('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext']);
    [plainPort, tlsPort] = [await freePort(), await freePort()];
    server = spawn('redis-server', [
      '--bind', '127.0.0.1', '--port', String(plainPort), '--tls-port', String(tlsPort),
      '--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no',
      '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout!.on('data', (d) => (log += d));
    await waitFor('redis-server to accept connections', async () => (/Ready to accept connections/.test(log) ? true : undefined), 10_000);
    const db = new Database(join(dir, 'source.db'));
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    db.close();
  }, 30_000);
  afterAll(async () => {
    await stopWorkers(workers);
    server?.kill('SIGTERM');
  });

  const pw = encodeURIComponent(PASSWORD);
  const urls = () => ({
    plain: `redis://:${pw}@127.0.0.1:${plainPort}/0?prefix=plain`,
    tls: `rediss://:${pw}@127.0.0.1:${tlsPort}/0?prefix=tls&ca=${encodeURIComponent(join(dir, 'ca.crt'))}`,
  });

  for (const kind of ['plain', 'tls'] as const) {
    it(`a run queued on ${kind === 'tls' ? 'rediss:// (TLS, a private CA given by ?ca=)' : 'redis:// with a password'} is run by a worker`, async () => {
      const url = urls()[kind];
      const w = startWorker(url, dir, `worker-${kind}`);
      workers.push(w);
      await Promise.race([w.ready, w.exited.then(() => { throw new Error(`the worker exited: ${w.log()}`); })]);
      expect(w.log()).not.toContain(PASSWORD);
      const job = writeJob(dir, { name: `over ${kind}`, source: { url: `sqlite:${join(dir, 'source.db')}` }, target: { url: `sqlite:${join(dir, `${kind}.db`)}` }, tables: [{ source: 'items' }], options: { createTables: true } }, `${kind}.json`);
      const r = await dbferry(['run', job, '--queue', url]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain(PASSWORD);
      expect(targetRows(`${kind}.db`)).toBe(3);
      expect(w.log()).toMatch(/starting run .* \(over /);
    }, 60_000);
  }

  it('a wrong password, and a TLS certificate from a CA dbferry was not given, are clear errors', async () => {
    const wrong = await dbferry(['runs', '--queue', `redis://:nope@127.0.0.1:${plainPort}/0`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Redis refused the login/);
    const untrusted = await dbferry(['runs', '--queue', `rediss://:${pw}@127.0.0.1:${tlsPort}/0`]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/cannot reach Redis at rediss:\/\/:••••@127\.0\.0\.1:\d+\/0: .*certificate/);
    const missing = await dbferry(['runs', '--queue', `rediss://127.0.0.1:${tlsPort}/0?ca=${join(dir, 'nope.crt')}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the CA certificate ".*nope\.crt" given by \?ca=/);
  }, 30_000);
});
