/// <reference lib="dom" />
/**
 * First start with an empty store: the Connections screen offers the bundled
 * demo; one click creates the example shop as a SQLite source, a new SQLite
 * file as the target and the demo job (`app/loadDemo`), and that job plans,
 * runs and verifies. In real Chromium against `dbferry ui` (in process).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { shot } from './support/screens.js';

let app: BrowserMode;
let browser: Browser;
let page: Page;
let dir: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-demo-'));
  app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir });
  if (!chromiumAvailable()) return;
  browser = await launchChromium();
  // Reduced motion: screenshots show progress bars where they end, not mid-transition.
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  page.on('pageerror', (err) => pageErrors.push(err.message));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('app/loadDemo', () => {
  it('takes no input but an empty object', async () => {
    const bad = await app.router.handle('app/loadDemo', { force: true });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-input', message: 'app/loadDemo: (input): unknown field "force"' } });
  });
});

describe.skipIf(!chromiumAvailable())('the bundled demo in Chromium', () => {
  it('is offered on the empty Connections screen and loads two connections and the job', async () => {
    await page.goto(app.url);
    await expect.poll(() => page.getByText('No connections yet').isVisible()).toBe(true);
    const button = page.getByRole('button', { name: 'Load the demo' });
    await expect.poll(() => button.isVisible()).toBe(true);
    await shot(page, 'demo-01-connections-empty');

    await button.click();
    const cards = page.getByRole('list', { name: 'Saved connections' }).getByRole('listitem');
    await expect.poll(() => cards.count()).toBe(2);
    const source = page.getByTestId('connection-Demo shop');
    const target = page.getByTestId('connection-Demo shop copy');
    expect(await source.textContent()).toContain(join(dir, 'state', 'demo', 'shop.db'));
    expect(await target.textContent()).toContain(join(dir, 'state', 'demo', 'demo-copy.db'));
    await page.getByRole('button', { name: 'Test Demo shop', exact: true }).click();
    await expect.poll(() => source.getByTestId('test-ok').textContent()).toMatch(/SQLite 3.*4 tables/);
    await expect.poll(() => page.getByText(/Loaded the demo/).isVisible()).toBe(true);
    await shot(page, 'demo-02-connections-loaded');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Jobs' }).click();
    const job = page.getByRole('button', { name: 'demo: shop to a local copy', exact: true });
    await expect.poll(() => job.isVisible()).toBe(true);
    const row = page.getByRole('row').filter({ has: job });
    expect(await row.textContent()).toMatch(/Demo shop.*Demo shop copy.*4 tables · upsert/);
    await shot(page, 'demo-03-jobs');
  });

  it('loading it again adds nothing', async () => {
    const again = await app.router.handle('app/loadDemo', {});
    expect(again.ok).toBe(true);
    const connections = await app.router.handle('connections/list', {});
    const jobs = await app.router.handle('jobs/list', {});
    expect(connections.ok && (connections.value as unknown[]).length).toBe(2);
    expect(jobs.ok && (jobs.value as unknown[]).length).toBe(1);
  });

  it('runs the demo job: four tables copied and verified', { timeout: 90_000 }, async () => {
    await page.getByRole('row').filter({ hasText: 'demo: shop to a local copy' }).getByRole('button', { name: 'Plan & run' }).click();
    await expect.poll(() => page.getByText(/Ready: 4 tables/).isVisible(), { timeout: 30_000 }).toBe(true);
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => page.locator('#run-title [data-status]').getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    expect(await page.getByTestId('run-percent').textContent()).toBe('100%');
    await shot(page, 'demo-04-run');

    const copy = join(dir, 'state', 'demo', 'demo-copy.db');
    expect(existsSync(copy)).toBe(true);
    const db = new Database(copy, { readonly: true });
    try {
      // (Besides dbferry's own tables, SQLite's sqlite_sequence: the copy's keys are AUTOINCREMENT, continuing the source's.)
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as { name: string }[]).map(
        (t) => t.name,
      );
      expect(tables).toEqual(['customers', 'order_items', 'orders', 'products']);
    } finally {
      db.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
