/// <reference lib="dom" />
/**
 * "Remember passphrase" in the connection form's SSH section, in real Chromium
 * against `dbferry ui` (in process) with a real Secret Service (GNOME Keyring
 * on a private D-Bus bus) and a real sshd: the passphrase of an encrypted key
 * typed once is kept in the keychain, never on the page or in the store, and
 * the form shows it remembered when the connection is opened again.
 */
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionDto } from '../../src/shared/api.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { keyringMissing, startKeyring } from '../helpers/keyring.js';
import { keygen, sshdMissing, startSshd, type TestSshd } from '../helpers/sshd.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { shot } from './support/screens.js';

const PASSPHRASE = 'remember-Me 8812';
const skip = !chromiumAvailable() ? 'needs Chromium' : (sshdMissing ?? keyringMissing);

describe.skipIf(skip)(`"Remember passphrase" in the SSH section${skip ? ` (${skip})` : ''}`, () => {
  let dir: string;
  let keyring: { address: string; stop(): void };
  let sshd: TestSshd;
  let app: BrowserMode;
  let browser: Browser;
  let page: Page;
  let locked: string;
  const wire: string[] = [];
  const busBefore = process.env.DBUS_SESSION_BUS_ADDRESS;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-remember-'));
    keyring = startKeyring(join(dir, 'home'));
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
    sshd = await startSshd();
    locked = join(dir, 'locked_key');
    keygen(locked, { passphrase: PASSPHRASE });
    appendFileSync(join(sshd.dir, 'authorized_keys'), readFileSync(`${locked}.pub`));
    app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    page.on('response', async (res) => {
      if (res.url().includes('/api/')) wire.push(await res.text().catch(() => ''));
    });
    page.on('request', (req) => wire.push(req.postData() ?? ''));
    page.on('pageerror', (err) => wire.push(`PAGEERROR ${err.message}`));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await sshd?.stop();
    keyring?.stop();
    if (busBefore === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = busBefore;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('typed once and remembered: kept in the keychain, shown remembered when the form opens again, never on the page or in the store', async () => {
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Add your first connection' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Name', { exact: true }).fill('warehouse (encrypted key)');
    await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await form.getByLabel('Database', { exact: true }).fill('postgres');
    await form.getByLabel('User', { exact: true }).fill('postgres');
    await form.getByText('None / trust').click();
    await form.getByLabel('Connect through an SSH host (bastion)').check();
    await form.getByLabel('SSH host', { exact: true }).fill('127.0.0.1');
    await form.getByLabel('SSH port', { exact: true }).fill(String(sshd.port));
    await form.getByLabel('SSH user', { exact: true }).fill('root');
    await form.getByLabel('Private key file').fill(locked);
    await form.getByLabel('SSH passphrase source').selectOption('typed');
    await form.getByLabel('SSH passphrase', { exact: true }).fill(PASSPHRASE);
    await form.getByLabel('known_hosts file').fill(sshd.knownHosts);
    const remember = form.getByLabel('Remember passphrase (in the Secret Service keychain)');
    await remember.check();
    await form.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => form.getByTestId('test-ok').isVisible(), { timeout: 20_000 }).toBe(true);
    await shot(page, 'connection-ssh-remember');
    await form.getByRole('button', { name: 'Save connection' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    const listed = await app.router.handle('connections/list', {});
    const saved = (listed.ok ? (listed.value as ConnectionDto[]) : []).find((c) => c.name === 'warehouse (encrypted key)')!;
    expect(saved.sshPassphraseRemembered).toBe(true);
    const lookup = spawnSync('secret-tool', ['lookup', 'service', 'dbferry', 'account', `ssh-passphrase:${saved.id}`], { encoding: 'utf8' });
    expect(lookup.stdout).toBe(PASSPHRASE);

    // Opened again: the passphrase is known, remembered, and not sent back.
    await page.getByRole('button', { name: 'Edit warehouse (encrypted key)' }).click();
    const again = page.getByRole('dialog');
    await expect.poll(() => again.getByLabel('Remember passphrase (in the Secret Service keychain)').isChecked()).toBe(true);
    expect(await again.getByLabel('SSH passphrase', { exact: true }).inputValue()).toBe('');
    expect(await again.getByLabel('SSH passphrase', { exact: true }).getAttribute('placeholder')).toBe('•••• unchanged');

    // The page sent it once (the save and the test); no answer carried it back, and the store never held it.
    expect(wire.filter((w) => w.includes(PASSPHRASE)).every((w) => w.includes('"sshPassphrase"'))).toBe(true);
    const state = join(dir, 'state');
    expect(readdirSync(state).map((f) => readFileSync(join(state, f)).toString('latin1')).join('')).not.toContain(PASSPHRASE);
    expect(wire.filter((w) => w.startsWith('PAGEERROR'))).toEqual([]);
  }, 90_000);
});
