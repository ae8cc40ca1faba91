/// <reference lib="dom" />
/**
 * Browser mode: once the user turns "Notify when a run finishes" on (Chromium
 * grants the permission to this test's context), a run that finishes while
 * the page is not in front shows a notification, one that finishes while it is
 * in front does not, and clicking the notification opens the run. The page's
 * Notification is Chromium's own, watched through a subclass.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoDto, RunDto } from '../../src/shared/api.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';

declare global {
  interface Window {
    shown: { title: string; body?: string; notification: Notification }[];
  }
}

let app: BrowserMode;
let browser: Browser;
let page: Page;
let dir: string;
let demo: DemoDto;

async function runDemoJob(): Promise<string> {
  const started = await app.router.handle('runs/start', { spec: demo.job.spec, jobId: demo.job.id });
  if (!started.ok) throw new Error(started.error.message);
  const runId = (started.value as { runId: string }).runId;
  await expect
    .poll(async () => {
      const r = await app.router.handle('runs/get', { runId });
      return r.ok ? (r.value as { run: RunDto }).run.status : 'unknown';
    }, { timeout: 30_000 })
    .toBe('succeeded');
  return runId;
}

describe.skipIf(!chromiumAvailable())('run notifications in browser mode', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-notify-'));
    app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir });
    const loaded = await app.router.handle('app/loadDemo', {});
    if (!loaded.ok) throw new Error(loaded.error.message);
    demo = loaded.value as DemoDto;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['notifications'] });
    await context.addInitScript(() => {
      window.shown = [];
      const Chromium = window.Notification;
      window.Notification = class extends Chromium {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          window.shown.push({ title, body: options?.body, notification: this });
        }
      };
    });
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows one when a run finishes while the page is not in front, and opens the run on click', { timeout: 90_000 }, async () => {
    await page.goto(app.url);
    const toggle = page.getByLabel('Notify when a run finishes');
    await expect.poll(() => toggle.isVisible()).toBe(true);
    expect(await toggle.isChecked()).toBe(false);
    // The box turns on once the permission is granted (asynchronously): click, then wait for it.
    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(true);

    // In front: the toast is enough.
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await runDemoJob();
    await new Promise((r) => setTimeout(r, 500));
    expect(await page.evaluate(() => window.shown.length)).toBe(0);

    // Another window in front.
    await page.evaluate(() => window.dispatchEvent(new Event('blur')));
    const runId = await runDemoJob();
    // The second run into the demo's tables, nothing changed in between: it writes no row, and says so.
    await expect.poll(() => page.evaluate(() => window.shown.map((n) => ({ title: n.title, body: n.body })))).toEqual([
      { title: 'dbferry: run succeeded', body: 'Verified: 0 written, 8,672 unchanged' },
    ]);

    await page.evaluate(() => window.shown[0].notification.onclick?.(new Event('click')));
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/runs/${runId}`);
    await expect.poll(() => page.locator('#run-title [data-status]').getAttribute('data-status')).toBe('succeeded');

    // Turned off, no more.
    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(false);
    await page.evaluate(() => window.dispatchEvent(new Event('blur')));
    await runDemoJob();
    await new Promise((r) => setTimeout(r, 500));
    expect(await page.evaluate(() => window.shown.length)).toBe(1);
  });
});
