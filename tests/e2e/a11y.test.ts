/// <reference lib="dom" />
/**
 * Every screen of the app, in the light and the dark theme, audited by
 * axe-core against the WCAG 2 A and AA rules (contrast included), in real
 * Chromium against `dbferry ui` with the bundled demo loaded and run once.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SCREENS: Array<[string, string]> = [
  ['Connections', 'Alt+1'],
  ['Jobs', 'Alt+2'],
  ['Runs', 'Alt+3'],
  ['Dead letters', 'Alt+4'],
  ['Backups', 'Alt+5'],
  ['Schedules', 'Alt+6'],
];

let app: BrowserMode;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-a11y-'));
  app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir });
  if (!chromiumAvailable()) return;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** axe-core's violations on the page as it is: rule, impact, and the first few elements. */
async function violations(): Promise<string[]> {
  // Evaluated over DevTools, which the page's CSP (script-src 'self') does not govern, unlike a script tag.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(o: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[]; failureSummary: string }> }> }> } }).axe;
    const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ')}`).join(' | ')}`);
  });
  return found;
}

describe.skipIf(!chromiumAvailable())('accessibility (axe-core, WCAG 2 A/AA) in Chromium', () => {
  it('the demo is loaded and run, so every screen has content', { timeout: 90_000 }, async () => {
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Load the demo' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Jobs' }).click();
    await page.getByRole('row').filter({ hasText: 'demo: shop to a local copy' }).getByRole('button', { name: 'Plan & run' }).click();
    await expect.poll(() => page.getByText(/Ready: 4 tables/).isVisible(), { timeout: 30_000 }).toBe(true);
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => page.locator('#run-title [data-status]').getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`every screen passes in the ${theme} theme`, { timeout: 60_000 }, async () => {
      const current = await page.evaluate(() => document.documentElement.dataset.theme);
      if (current !== theme) await page.getByRole('button', { name: `Switch to ${theme} theme` }).click();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
      const found: string[] = [];
      for (const [screen, key] of SCREENS) {
        await page.keyboard.press(key);
        await expect.poll(() => page.getByRole('heading', { name: screen, exact: true }).first().isVisible()).toBe(true);
        found.push(...(await violations()).map((v) => `${screen}: ${v}`));
      }
      // A run, opened from the history with the keyboard.
      await page.keyboard.press('Alt+3');
      await page.getByTestId('run-history').getByRole('grid').focus();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#run-title').isVisible()).toBe(true);
      found.push(...(await violations()).map((v) => `Run: ${v}`));
      // The plan preview of the demo job.
      await page.keyboard.press('Alt+2');
      await page.getByRole('row').filter({ hasText: 'demo: shop to a local copy' }).getByRole('button', { name: 'Plan & run' }).click();
      await expect.poll(() => page.getByText(/Ready: 4 tables/).isVisible(), { timeout: 30_000 }).toBe(true);
      found.push(...(await violations()).map((v) => `Plan preview: ${v}`));
      await page.keyboard.press('Escape');
      expect(found).toEqual([]);
    });
  }
});
