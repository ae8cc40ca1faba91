/// <reference lib="dom" />
/**
 * The plan preview's row comparison (plan --diff), as a user sees it in real
 * Chromium against `dbferry ui`: a saved mirror job between two PostgreSQL
 * databases whose tables differ by a few rows; "Compare rows" shows what a run
 * would insert, update and delete, with keys and the columns that differ, and
 * writes nothing. Screenshot: test-results/screenshots/06-plan-diff.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { createPgDatabase, dropPgDatabase, pgQuery, pgUrl } from './support/databases.js';
import { shot } from './support/screens.js';

const SOURCE = `dbferry_e2e_diff_src_${process.pid}`;
const TARGET = `dbferry_e2e_diff_tgt_${process.pid}`;

let app: BrowserMode;
let browser: Browser;
let page: Page;
let dir: string;

const TABLE = 'CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), note text)';
const ROWS = "INSERT INTO items SELECT g, 'item ' || g, g * 1.5, CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g END FROM generate_series(1, 500) g";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-diff-'));
  await createPgDatabase(SOURCE);
  await createPgDatabase(TARGET);
  for (const db of [SOURCE, TARGET]) {
    await pgQuery(db, TABLE);
    await pgQuery(db, ROWS);
  }
  await pgQuery(SOURCE, "UPDATE items SET name = 'Item 12' WHERE id = 12");
  await pgQuery(SOURCE, 'UPDATE items SET note = NULL, price = 99 WHERE id = 240');
  await pgQuery(SOURCE, "INSERT INTO items VALUES (501, 'new', 1, NULL)");
  await pgQuery(SOURCE, 'DELETE FROM items WHERE id = 300');
  app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir });
  const saved = await app.router.handle('jobs/save', {
    spec: { name: 'items mirror', source: { url: pgUrl(SOURCE).href }, target: { url: pgUrl(TARGET).href }, tables: [{ source: 'items', mode: 'mirror' }] },
  });
  if (!saved.ok) throw new Error(saved.error.message);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await dropPgDatabase(SOURCE);
  await dropPgDatabase(TARGET);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!chromiumAvailable())('the plan preview compares rows', () => {
  it('shows what a mirror would insert, update and delete, and writes nothing', async () => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Jobs' }).click();
    await page.getByRole('button', { name: 'Plan & run' }).click();
    await expect.poll(() => page.getByText(/Ready: 1 table/).isVisible(), { timeout: 30_000 }).toBe(true);
    const plan = page.getByRole('article', { name: 'Plan for public.items' });
    // The path: compared before copying.
    expect(await plan.textContent()).toContain('delta');

    await page.getByRole('button', { name: 'Compare rows' }).click();
    const rows = page.getByRole('group', { name: 'Rows for public.items' });
    await expect.poll(() => rows.isVisible(), { timeout: 30_000 }).toBe(true);
    const text = await rows.textContent();
    expect(text).toContain('1 to insert');
    expect(text).toContain('2 to update');
    expect(text).toContain('1 to delete');
    expect(text).toContain('497 unchanged');
    expect(text).toContain('key 501');
    expect(text).toContain('key 12 (name)');
    expect(text).toContain('key 240 (price, note)');
    expect(text).toContain('key 300');
    await rows.scrollIntoViewIfNeeded();
    await shot(page, '06-plan-diff');

    // Nothing was written.
    expect(await pgQuery<{ n: string; name: string }>(TARGET, "SELECT count(*)::text AS n, (SELECT name FROM items WHERE id = 12) AS name FROM items")).toEqual([{ n: '500', name: 'item 12' }]);
  });
});
