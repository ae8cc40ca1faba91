/**
 * Databases behind an SSH host: a real sshd (Debian's openssh-server) on a
 * loopback port with its own host key, forwarding to the local PostgreSQL and
 * MariaDB, driven through the built CLI as a user runs it.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbferry, dbferryUntil, tempDir, writeJob } from '../helpers/cli.js';
import { createMysqlDatabase, type MysqlTestDatabase } from '../helpers/mysql.js';
import { createPgDatabase, type PgTestDatabase } from '../helpers/postgres.js';
import { PASSWORD, PASSWORD_USER, ensurePasswordUser, keygen, sshdMissing, startSshd, type TestSshd } from '../helpers/sshd.js';

const ROWS = 3000;

/** About three seconds of staging in small batches: time to pull the SSH host away mid-run. */
const slow = { rateLimit: { rowsPerSecond: 1000 }, batch: { maxRows: 250 } };
const midStaging = (e: { type: string; phase?: unknown; rowsRead?: unknown }) => e.type === 'progress' && e.phase === 'staging' && Number(e.rowsRead) >= 750 && Number(e.rowsRead) < ROWS;

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function fillPg(db: PgTestDatabase): Promise<void> {
  await pgQuery(
    db.url,
    `CREATE TABLE orders (id bigint PRIMARY KEY, sku varchar(32) NOT NULL, qty int, price numeric(12,2), note text, created_at timestamp);
     INSERT INTO orders SELECT g, 'SKU-' || g, g % 7, g * 1.25, CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g || ' é' END,
       timestamp '2024-01-01' + g * interval '1 minute' FROM generate_series(1, ${ROWS}) g;
     ANALYZE orders`,
  );
}

async function fillMysql(db: MysqlTestDatabase): Promise<void> {
  await db.admin.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, sku varchar(32) NOT NULL, qty int, price decimal(12,2), note text, created_at datetime(6));
     SET SESSION max_recursive_iterations = 100000;
     INSERT INTO orders WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${ROWS})
       SELECT n, CONCAT('SKU-', n), n % 7, n * 1.25, IF(n % 10 = 0, NULL, CONCAT('note ', n, ' é')), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL n MINUTE FROM g`,
  );
}

describe.skipIf(sshdMissing)(`SSH tunnels${sshdMissing ? ` (${sshdMissing})` : ''}`, () => {
  let sshd: TestSshd;
  const dir = tempDir('dbferry-ssh-');
  const cleanups: (() => Promise<unknown>)[] = [];
  let pgSource: PgTestDatabase;
  let mysqlSource: MysqlTestDatabase;

  const keyAuth = () => ({ host: '127.0.0.1', port: sshd.port, user: 'root', privateKey: sshd.clientKey, knownHosts: sshd.knownHosts });
  const accepted = (log: string) => (log.match(/Accepted (publickey|password) for/g) ?? []).length;

  beforeAll(async () => {
    sshd = await startSshd();
    cleanups.push(() => sshd.stop());
    pgSource = await createPgDatabase();
    cleanups.push(() => pgSource.drop());
    mysqlSource = await createMysqlDatabase();
    cleanups.push(() => mysqlSource.drop());
    await Promise.all([fillPg(pgSource), fillMysql(mysqlSource)]);
  });

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('PostgreSQL → MariaDB through tunnels on both sides (key auth): one SSH login per side, every lane through it, verified by checksum', async () => {
    const target = await createMysqlDatabase();
    cleanups.push(() => target.drop());
    // An existing target: staged in chunks by several lanes (worker threads), each connecting through the tunnels.
    await target.admin.query('CREATE TABLE orders (id bigint PRIMARY KEY, sku varchar(32) NOT NULL, qty int, price decimal(12,2), note longtext, created_at datetime(6))');
    const before = accepted(sshd.log());
    const job = writeJob(dir, {
      name: 'pg to mariadb over ssh',
      source: { url: pgSource.url, ssh: keyAuth() },
      target: { url: target.url, ssh: keyAuth() },
      tables: [{ source: 'public.orders', target: 'orders', mode: 'upsert' }],
      options: { parallel: 3, chunkRows: 700, verify: 'checksum' },
    }, 'pg-mysql.json');
    const r = await dbferry(['run', job, '--json', '--state', join(dir, 'state1')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.at(-1)).toMatchObject({ type: 'summary', status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS, rowsDeadLettered: 0 });
    const [rows] = await target.admin.query('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(price) AS s FROM orders');
    expect((rows as { n: number; d: number; s: string }[])[0]).toMatchObject({ n: ROWS, d: ROWS, s: String((ROWS * (ROWS + 1) / 2) * 1.25) + '.00' });
    // Three lanes in worker threads, all through the two tunnels the run opened.
    expect((r.events.at(-1) as { metrics?: unknown }).metrics).toMatchObject({ lanes: 3, workers: true });
    // One SSH connection per side for the whole run, and the database traffic really went through it.
    expect(accepted(sshd.log()) - before).toBe(2);
    expect(sshd.log()).toMatch(/direct-tcpip.*5432|port 5432/);
    expect(sshd.log()).toMatch(/direct-tcpip.*3306|port 3306/);

    // `dbferry verify` goes through the same tunnels.
    const verified = await dbferry(['verify', job, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('MariaDB → PostgreSQL, the source logged in by password (from passwordEnv), the target by key, verified by checksum', async () => {
    ensurePasswordUser();
    const target = await createPgDatabase();
    cleanups.push(() => target.drop());
    const job = writeJob(dir, {
      name: 'mariadb to pg over ssh',
      source: { url: mysqlSource.url, ssh: { host: '127.0.0.1', port: sshd.port, user: PASSWORD_USER, passwordEnv: 'BASTION_PW', knownHosts: sshd.knownHosts } },
      target: { url: target.url, ssh: keyAuth() },
      tables: [{ source: 'orders', target: 'orders', mode: 'replace' }],
      options: { parallel: 2, chunkRows: 1000, verify: 'checksum' },
    }, 'mysql-pg.json');
    const r = await dbferry(['run', job, '--json', '--state', join(dir, 'state2')], { env: { BASTION_PW: PASSWORD } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS });
    expect(sshd.log()).toContain(`Accepted password for ${PASSWORD_USER}`);
    const [row] = await pgQuery<{ n: string; d: string }>(target.url, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM orders');
    expect(row).toEqual({ n: String(ROWS), d: String(ROWS) });
    // The password never reaches the output or the history.
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);

    const wrong = await dbferry(['plan', job], { env: { BASTION_PW: 'not-the-password' } });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`SSH ${PASSWORD_USER}@127.0.0.1:${sshd.port} refused the login (tried: password)`);
    expect(wrong.stderr).not.toContain('not-the-password');
  });

  it('an unknown or changed host key is refused, with its fingerprint and how to add it; the target is untouched', async () => {
    const target = await createMysqlDatabase();
    cleanups.push(() => target.drop());
    const empty = join(dir, 'known_hosts_empty');
    writeFileSync(empty, '');
    const job = (knownHosts: string, name: string) =>
      writeJob(dir, {
        source: { url: pgSource.url, ssh: { ...keyAuth(), knownHosts } },
        target: { url: target.url },
        tables: [{ source: 'public.orders', target: 'orders' }],
      }, name);

    const unknown = await dbferry(['run', job(empty, 'unknown.json'), '--state', join(dir, 'state3')]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`the SSH host 127.0.0.1:${sshd.port} is not known: its ED25519 key ${sshd.fingerprint} is not in ${empty}`);
    expect(unknown.stderr).toContain(`ssh-keyscan -p ${sshd.port} -t ed25519 127.0.0.1 >> ${empty}`);

    // Another host's key under this host's name: what a man in the middle looks like.
    const other = join(dir, 'other_host');
    keygen(other);
    const [type, key] = readFileSync(`${other}.pub`, 'utf8').split(/\s+/);
    const changed = join(dir, 'known_hosts_changed');
    writeFileSync(changed, `# a comment\n[127.0.0.1]:${sshd.port} ${type} ${key}\n`);
    const r = await dbferry(['run', job(changed, 'changed.json'), '--state', join(dir, 'state3')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the SSH host key of 127.0.0.1:${sshd.port} has CHANGED: it now presents the ED25519 key ${sshd.fingerprint}, which does not match line 2 of ${changed}`);
    expect(r.stderr).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${changed}`);
    const [tables] = await target.admin.query('SHOW TABLES');
    expect(tables).toEqual([]);
  });

  it('a key the host does not accept, and an encrypted key without its passphrase, are refused with clear messages', async () => {
    const stranger = join(dir, 'stranger_key');
    keygen(stranger);
    const locked = join(dir, 'locked_key');
    keygen(locked, { passphrase: 'open sesame' });
    // Authorized, but only usable with its passphrase.
    appendFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${locked}.pub`));
    const job = (ssh: Record<string, unknown>, name: string) =>
      writeJob(dir, { source: { url: pgSource.url, ssh: { ...keyAuth(), ...ssh } }, target: { url: 'sqlite:plan-only.db' }, tables: [{ source: 'public.orders' }] }, name);

    const wrong = await dbferry(['plan', job({ privateKey: stranger }, 'stranger.json')]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain(`SSH root@127.0.0.1:${sshd.port} refused the login (tried: key ${stranger})`);
    expect(wrong.stderr).toContain(`check the user name, and that the public key of ${stranger} is in ~root/.ssh/authorized_keys on 127.0.0.1`);

    const noPassphrase = await dbferry(['plan', job({ privateKey: locked }, 'locked.json')]);
    expect(noPassphrase.code).not.toBe(0);
    expect(noPassphrase.stderr).toContain(`the SSH private key "${locked}" is encrypted and no passphrase was given`);

    const withPassphrase = await dbferry(['plan', job({ privateKey: locked, passphraseEnv: 'KEY_PASS' }, 'unlocked.json'), '--json'], { env: { KEY_PASS: 'open sesame' } });
    expect(withPassphrase.code, withPassphrase.stderr).toBe(0);
  });

  it('sshd killed mid-run and back within the retries: the tunnel is reopened and the run completes, every row once', async () => {
    const target = await createPgDatabase();
    cleanups.push(() => target.drop());
    const job = writeJob(dir, {
      source: { url: mysqlSource.url, ssh: keyAuth() },
      target: { url: target.url },
      tables: [{ source: 'orders', target: 'orders', mode: 'upsert' }],
      options: { ...slow, retries: { max: 6, baseDelayMs: 300 } },
    }, 'drop.json');
    const logins = accepted(sshd.log());
    const r = await dbferryUntil(['run', job, '--state', join(dir, 'state4')], midStaging, async () => {
      sshd.kill();
      await new Promise((res) => setTimeout(res, 700));
      await sshd.start();
    });
    expect(r.triggered).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    // The dropped source connection was noticed, and read on through a new SSH login.
    expect(r.events.some((e) => e.type === 'retry' || (e.type === 'warning' && /lost the source connection/.test(String(e.message))))).toBe(true);
    expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS });
    expect(accepted(sshd.log())).toBeGreaterThan(logins + 1);
    const [row] = await pgQuery<{ n: string; d: string }>(target.url, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM orders');
    expect(row).toEqual({ n: String(ROWS), d: String(ROWS) });
  });

  it('sshd killed between apply and verification (MariaDB source): verification reads again through a new SSH login', async () => {
    const target = await createPgDatabase();
    cleanups.push(() => target.drop());
    const job = writeJob(dir, {
      source: { url: mysqlSource.url, ssh: keyAuth() },
      target: { url: target.url },
      tables: [{ source: 'orders', target: 'orders', mode: 'upsert' }],
      options: { retries: { max: 6, baseDelayMs: 300 } },
    }, 'verify-drop.json');
    // Before the fix, the read on the dropped source connection never ended: the run hung here.
    const r = await dbferryUntil(['run', job, '--state', join(dir, 'state7')], (e) => e.type === 'apply-started', async (child) => {
      setTimeout(() => child.kill('SIGKILL'), 40_000).unref();
      sshd.kill();
      await new Promise((res) => setTimeout(res, 700));
      await sshd.start();
    });
    expect(r.signal, 'the run hung').toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.at(-1)).toMatchObject({ status: 'succeeded', rowsRead: ROWS, rowsWritten: ROWS });
    expect(r.events.find((e) => e.type === 'verify')).toMatchObject({ ok: true, sourceRows: ROWS, targetRows: ROWS });
  });

  it('sshd killed mid-run and not back: the run fails after its retries, naming the SSH host, and the target is as it was', async () => {
    const target = await createPgDatabase();
    cleanups.push(() => target.drop());
    await pgQuery(target.url, 'CREATE TABLE orders (id bigint PRIMARY KEY, sku varchar(32) NOT NULL, qty int, price numeric(12,2), note text, created_at timestamp)');
    const job = writeJob(dir, {
      source: { url: pgSource.url },
      target: { url: target.url, ssh: keyAuth() },
      tables: [{ source: 'public.orders', target: 'orders', mode: 'append' }],
      options: { ...slow, retries: { max: 2, baseDelayMs: 200 } },
    }, 'gone.json');
    try {
      const r = await dbferryUntil(['run', job, '--state', join(dir, 'state6')], midStaging, (child) => {
        sshd.kill();
        setTimeout(() => child.kill('SIGKILL'), 40_000).unref();
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.events.at(-1)).toMatchObject({ type: 'summary', status: 'failed' });
      expect(String((r.events.at(-1) as { error?: string }).error)).toMatch(new RegExp(`SSH root@127\\.0\\.0\\.1:${sshd.port}`));
      const [row] = await pgQuery<{ n: string }>(target.url, 'SELECT COUNT(*) AS n FROM orders');
      expect(row.n).toBe('0');
    } finally {
      await sshd.start();
    }
  });

  it('sshd killed mid-run, the run killed while the tunnel is down, sshd restarted: dbferry resume completes with every row once', async () => {
    const target = await createPgDatabase();
    cleanups.push(() => target.drop());
    const state = join(dir, 'state5');
    const job = writeJob(dir, {
      source: { url: pgSource.url },
      target: { url: target.url, ssh: keyAuth() },
      tables: [{ source: 'public.orders', target: 'orders', mode: 'append' }],
      options: { ...slow, retries: { max: 8, baseDelayMs: 300 } },
    }, 'resume.json');
    const r = await dbferryUntil(['run', job, '--state', state], midStaging, async (child) => {
      sshd.kill();
      // The run notices and retries; then it dies too, as on a crash.
      await new Promise((res) => setTimeout(res, 1500));
      child.kill('SIGKILL');
    });
    expect(r.signal).toBe('SIGKILL');
    const runId = r.events[0].runId as string;
    await sshd.start();
    const resumed = await dbferry(['resume', runId, '--json', '--state', state]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.events.at(-1)).toMatchObject({ type: 'summary', status: 'succeeded', rowsWritten: ROWS });
    const [row] = await pgQuery<{ n: string; d: string }>(target.url, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM orders');
    expect(row).toEqual({ n: String(ROWS), d: String(ROWS) });
  });
});
