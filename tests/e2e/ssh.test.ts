/// <reference lib="dom" />
/**
 * The connection form's SSH section, in real Chromium against `dbferry ui`
 * (in process) and a real sshd: Test shows an unknown host key's fingerprint
 * and asks; once trusted, it reports the SSH hop and the database hop apart.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionDto, RunDetailDto } from '../../src/shared/api.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { createMysqlDatabase } from '../helpers/mysql.js';
import { PASSWORD, PASSWORD_USER, ensurePasswordUser, sshdMissing, startSshd, type TestSshd } from '../helpers/sshd.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { shot } from './support/screens.js';

const skip = !chromiumAvailable() ? 'needs Chromium' : sshdMissing;

let app: BrowserMode;
let browser: Browser;
let page: Page;
let sshd: TestSshd;
let dir: string;
/** Everything the server sent the page: API bodies and WebSocket frames. */
const wire: string[] = [];

describe.skipIf(skip)(`the connection form's SSH tunnel${skip ? ` (${skip})` : ''}`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-ssh-'));
    sshd = await startSshd();
    app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    page.on('response', async (res) => {
      if (res.url().includes('/api/')) wire.push(await res.text().catch(() => ''));
    });
    page.on('pageerror', (err) => wire.push(`PAGEERROR ${err.message}`));
    page.on('websocket', (ws) => ws.on('framereceived', (f) => wire.push(String(f.payload))));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Test shows an unknown host key and asks; trusted, it reports the SSH hop and the database hop', async () => {
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, '');
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Add your first connection' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Name', { exact: true }).fill('reporting (via bastion)');
    await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await form.getByLabel('Database', { exact: true }).fill('postgres');
    await form.getByLabel('User', { exact: true }).fill('postgres');
    await form.getByText('None / trust').click();
    await form.getByLabel('Connect through an SSH host (bastion)').check();
    await form.getByLabel('SSH host', { exact: true }).fill('127.0.0.1');
    await form.getByLabel('SSH port', { exact: true }).fill(String(sshd.port));
    await form.getByLabel('SSH user', { exact: true }).fill('root');
    await form.getByLabel('Private key file').fill(sshd.clientKey);
    await form.getByLabel('known_hosts file').fill(knownHosts);

    await form.getByRole('button', { name: 'Test' }).click();
    const ask = form.getByTestId('test-ssh-hostkey');
    await expect.poll(() => ask.isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await ask.textContent()).toContain(sshd.fingerprint);
    expect(readFileSync(knownHosts, 'utf8')).toBe('');
    await shot(page, 'connection-ssh-hostkey');

    await ask.getByRole('button', { name: 'Trust this host key' }).click();
    await expect.poll(() => form.getByTestId('test-ok').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await form.getByTestId('test-ssh-ok').textContent()).toContain(`SSH root@127.0.0.1:${sshd.port}: logged in, host key known`);
    expect(await form.getByTestId('test-ok').textContent()).toMatch(/Database: PostgreSQL \d+/);
    expect(readFileSync(knownHosts, 'utf8')).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 \\S+\\n$`));
    await shot(page, 'connection-ssh');

    await form.getByRole('button', { name: 'Save connection' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    const listed = await app.router.handle('connections/list', {});
    const saved = (listed.ok ? (listed.value as ConnectionDto[]) : []).find((c) => c.name === 'reporting (via bastion)');
    expect(saved?.ssh).toEqual({ host: '127.0.0.1', port: sshd.port, user: 'root', privateKey: sshd.clientKey, knownHosts });
    // A saved tunnel is used when the app lists the connection's tables.
    const tables = await app.router.handle('connections/tables', { id: saved!.id });
    expect(tables.ok).toBe(true);
    // The key file's content never reached the page.
    const key = readFileSync(sshd.clientKey, 'utf8').split('\n')[1];
    expect(wire.join('\n')).not.toContain(key);
    expect(wire.filter((w) => w.startsWith('PAGEERROR'))).toEqual([]);
  }, 60_000);

  it('an SSH password typed for the session: tests, lists tables and runs a job through the tunnel, and is stored nowhere', async () => {
    ensurePasswordUser();
    const db = await createMysqlDatabase();
    try {
      await db.admin.query('CREATE TABLE items (id int PRIMARY KEY, name varchar(20)); INSERT INTO items VALUES (1, "one"), (2, "two"), (3, "three")');
      await page.getByRole('button', { name: 'Add connection' }).first().click();
      const form = page.getByRole('dialog');
      await form.getByText('MySQL / MariaDB', { exact: true }).click();
      await form.getByLabel('Name', { exact: true }).fill('items (via bastion, password)');
      await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
      await form.getByLabel('Database', { exact: true }).fill(db.name);
      await form.getByLabel('User', { exact: true }).fill('root');
      await form.getByText('None / trust').click();
      await form.getByLabel('Connect through an SSH host (bastion)').check();
      await form.getByLabel('SSH host', { exact: true }).fill('127.0.0.1');
      await form.getByLabel('SSH port', { exact: true }).fill(String(sshd.port));
      await form.getByLabel('SSH user', { exact: true }).fill(PASSWORD_USER);
      await form.getByRole('radiogroup', { name: 'SSH login' }).getByText('Password', { exact: true }).click();
      await form.getByLabel('SSH password source').selectOption('typed');
      await form.getByLabel('SSH password', { exact: true }).fill(PASSWORD);
      await form.getByLabel('known_hosts file').fill(sshd.knownHosts);
      await form.getByRole('button', { name: 'Test' }).click();
      await expect.poll(() => form.getByTestId('test-ok').isVisible(), { timeout: 20_000 }).toBe(true);
      expect(await form.getByTestId('test-ssh-ok').textContent()).toContain(`SSH ${PASSWORD_USER}@127.0.0.1:${sshd.port}: logged in`);
      expect(await form.getByTestId('test-ok').textContent()).toMatch(/Database: MariaDB .* 1 table/);
      await form.getByRole('button', { name: 'Save connection' }).click();
      await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

      const listed = await app.router.handle('connections/list', {});
      const saved = (listed.ok ? (listed.value as ConnectionDto[]) : []).find((c) => c.name === 'items (via bastion, password)')!;
      expect(saved.ssh).toEqual({ host: '127.0.0.1', port: sshd.port, user: PASSWORD_USER, knownHosts: sshd.knownHosts });
      expect(saved.sshSecretTyped).toBe(true);
      const tables = await app.router.handle('connections/tables', { id: saved.id });
      expect(tables).toMatchObject({ ok: true, value: [{ name: 'items' }] });

      const started = await app.router.handle('runs/start', {
        spec: { name: 'items over ssh', source: { url: saved.url }, target: { url: `sqlite:${join(dir, 'items.db')}` }, tables: [{ source: 'items' }] },
      });
      if (!started.ok) throw new Error(started.error.message);
      const runId = (started.value as { runId: string }).runId;
      let detail: RunDetailDto | undefined;
      await expect
        .poll(async () => {
          const r = await app.router.handle('runs/get', { runId });
          detail = r.ok ? (r.value as RunDetailDto) : undefined;
          return detail?.run.status;
        }, { timeout: 30_000 })
        .toBe('succeeded');
      expect(detail!.run.rowsWritten).toBe(3);
      // The password reached neither the page nor the history store.
      expect(wire.join('\n')).not.toContain(PASSWORD);
      const storeFiles = readdirSync(join(dir, 'state')).filter((f) => f.startsWith('dbferry.db'));
      expect(storeFiles).toContain('dbferry.db');
      for (const f of storeFiles) expect(readFileSync(join(dir, 'state', f)).includes(Buffer.from(PASSWORD)), f).toBe(false);
    } finally {
      await db.drop();
    }
  }, 60_000);
});
