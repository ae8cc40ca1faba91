/// <reference lib="dom" />
/**
 * The desktop app itself, under Electron, driven by Playwright's `_electron`:
 * the window opens on the Connections screen, the page has `window.dbferry`
 * and no Node (`require`, `process`), the API answers over IPC, the bundled
 * demo loads from the empty Connections screen, and new windows and
 * navigation away from the app are refused.
 *
 * Runs only where an Electron binary exists. The binary is looked up the way
 * the `electron` package does (node_modules/electron/path.txt and dist/), but
 * without `require('electron')`, which would try to download it. Where there
 * is none (the build machines cannot download it), or better-sqlite3 is built
 * for Node rather than for Electron, the suite is skipped and says why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ElectronApplication, type Page, _electron } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbferryBridge } from '../../src/shared/api.js';
import { shot } from './support/screens.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'out', 'main', 'index.js');

/** The Electron executable, if it has been downloaded; never triggers a download. */
function electronBinary(): string | undefined {
  if (process.env.DBFERRY_ELECTRON) return existsSync(process.env.DBFERRY_ELECTRON) ? process.env.DBFERRY_ELECTRON : undefined;
  const pkg = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkg, 'dist');
  const exe = join(dist, readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : undefined;
}

/** Why the suite cannot run here, or undefined when it can. */
function skipReason(binary: string | undefined): string | undefined {
  if (!binary) return 'no Electron binary on this machine (npm start downloads it)';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return 'no display for Electron (run the tests under xvfb-run)';
  }
  if (!existsSync(MAIN)) return 'out/main/index.js is missing (npm run build first)';
  // The native module must be built for Electron's ABI, which Node then cannot load (see the README).
  const probe = spawnSync(binary, ['-e', "require('better-sqlite3')(':memory:').close()"], {
    cwd: ROOT,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (probe.status !== 0) return 'better-sqlite3 is built for Node, not Electron (npx @electron/rebuild -f -w better-sqlite3)';
  return undefined;
}

const binary = electronBinary();
const reason = skipReason(binary);

let app: ElectronApplication;
let page: Page;
let home: string;
const pageErrors: string[] = [];

describe.skipIf(reason !== undefined)(`the desktop app under Electron${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'dbferry-electron-'));
    app = await _electron.launch({
      executablePath: binary!,
      args: [MAIN],
      cwd: ROOT,
      // A store and profile of its own: the user's app, if open, is left alone.
      env: { ...process.env, DBFERRY_HOME: home, ELECTRON_ENABLE_LOGGING: '1' },
      timeout: 60_000,
    });
    page = await app.firstWindow();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.waitForLoadState('domcontentloaded');
  }, 90_000);

  afterAll(async () => {
    await app?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it.skipIf(!binary)('opens the window on the Connections screen', async () => {
    await expect.poll(() => page.getByRole('heading', { name: 'Connections', level: 1 }).isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => page.getByText('No connections yet').isVisible()).toBe(true);
    expect(page.url()).toMatch(/^file:\/\/.*\/out\/renderer\/index\.html/);
    expect(await page.title()).toBe('dbferry');
    await shot(page, 'electron-connections');
    expect(pageErrors).toEqual([]);
  });

  it.skipIf(!binary)('isolates the page: window.dbferry and nothing of Node', async () => {
    const seen = await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      return {
        dbferry: typeof w.dbferry,
        bridge: Object.keys((w.dbferry as object | undefined) ?? {}).sort(),
        require: typeof w.require,
        process: typeof w.process,
        module: typeof w.module,
        Buffer: typeof w.Buffer,
      };
    });
    expect(seen).toEqual({ dbferry: 'object', bridge: ['invoke', 'on'], require: 'undefined', process: 'undefined', module: 'undefined', Buffer: 'undefined' });
  });

  it.skipIf(!binary)('keeps one window, loaded from the app files', async () => {
    const seen = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.webContents.getURL()));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^file:\/\//);
  });

  it.skipIf(!binary)('answers the API over IPC and rejects bad input', async () => {
    const info = await page.evaluate(() => (window as unknown as { dbferry: DbferryBridge }).dbferry.invoke('app/info', {}));
    expect(info).toMatchObject({ ok: true, value: { mode: 'desktop', stateDir: home } });
    const bad = await page.evaluate(() => (window as unknown as { dbferry: DbferryBridge }).dbferry.invoke('connections/save', { name: '', url: 'ftp://x' }));
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });

  it.skipIf(!binary)('loads the bundled demo from the empty Connections screen', async () => {
    await page.getByRole('button', { name: 'Load the demo' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Saved connections' }).getByRole('listitem').count()).toBe(2);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Jobs' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'demo: shop to a local copy', exact: true }).isVisible()).toBe(true);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Connections' }).click();
  });

  it.skipIf(!binary)('refuses new windows and navigation away from the app', async () => {
    const appUrl = page.url();
    const opened = await page.evaluate(() => window.open('https://example.com/') === null);
    expect(opened).toBe(true);
    await page.evaluate(() => {
      location.href = 'https://example.com/';
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(app.windows()).toHaveLength(1);
    expect(page.url()).toBe(appUrl);
  });
});
