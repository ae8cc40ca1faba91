/// <reference lib="dom" />
/**
 * The app as a user drives it, in real Chromium against `dbferry ui` (in
 * process), with a real SQLite source and a real PostgreSQL target: add and
 * test both connections, build a job for three tables, preview the plan, run
 * it, watch it reach 100%, open it from history and read its job log; find
 * the rows a rule dead-lettered, fix the rule and retry them; schedule the job.
 * Screenshots of every screen land in test-results/screenshots/.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduleDto } from '../../src/shared/api.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { createPgDatabase, dropPgDatabase, makeShopSqlite, pgQuery } from './support/databases.js';
import { shot } from './support/screens.js';

const PASSWORD = 'E2e-Ferry-Pa55word';
const PG_DB = `dbferry_e2e_app_${process.pid}`;

let app: BrowserMode;
let browser: Browser;
let page: Page;
let dir: string;
/** Everything the server sent the page: API bodies and WebSocket frames. */
const wire: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-app-'));
  makeShopSqlite(join(dir, 'shop.db'));
  await createPgDatabase(PG_DB);
  app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  page.on('response', async (res) => {
    if (res.url().includes('/api/')) wire.push(await res.text().catch(() => ''));
  });
  page.on('websocket', (ws) => ws.on('framereceived', (f) => wire.push(String(f.payload))));
  page.on('pageerror', (err) => wire.push(`PAGEERROR ${err.message}`));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await dropPgDatabase(PG_DB);
  rmSync(dir, { recursive: true, force: true });
});

async function listSchedules(): Promise<ScheduleDto[]> {
  const r = await app.router.handle('schedules/list', {});
  if (!r.ok) throw new Error(r.error.message);
  return r.value as ScheduleDto[];
}

/** A grid's rows of data: rows of cells, not its header row. */
function dataRows(grid: Locator): Locator {
  return grid.getByRole('row').filter({ has: page.getByRole('gridcell') });
}

async function nav(label: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: label }).click();
}

describe.skipIf(!chromiumAvailable())('the app in Chromium', () => {
  it('adds and tests a SQLite and a PostgreSQL connection', async () => {
    await page.goto(app.url);
    await expect.poll(() => page.getByText('No connections yet').isVisible()).toBe(true);
    await shot(page, '01-connections-empty');

    // SQLite source
    await page.getByRole('button', { name: 'Add your first connection' }).click();
    const form = page.getByRole('dialog');
    await form.getByText('SQLite', { exact: true }).click();
    await form.getByLabel('Name', { exact: true }).fill('shop (sqlite)');
    await form.getByLabel('Database file').fill(join(dir, 'shop.db'));
    await form.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => form.getByTestId('test-ok').textContent()).toMatch(/SQLite 3\.\d+.*4 tables/);
    await shot(page, '02-connection-form-sqlite');
    await form.getByRole('button', { name: 'Save connection' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    // PostgreSQL target, with a password typed for the session
    await page.getByRole('button', { name: 'Add connection' }).click();
    await form.getByLabel('Name', { exact: true }).fill('reporting (postgres)');
    await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await form.getByLabel('Port').fill('5432');
    await form.getByLabel('Database', { exact: true }).fill(PG_DB);
    await form.getByLabel('User').fill('postgres');
    await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await form.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => form.getByTestId('test-ok').textContent()).toMatch(/PostgreSQL \d+/);
    await shot(page, '03-connection-form-postgres');
    await form.getByRole('button', { name: 'Save connection' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    // Test both from their cards
    await page.getByRole('button', { name: 'Test shop (sqlite)' }).click();
    await page.getByRole('button', { name: 'Test reporting (postgres)' }).click();
    const pgCard = page.getByTestId('connection-reporting (postgres)');
    const sqliteCard = page.getByTestId('connection-shop (sqlite)');
    await expect.poll(() => pgCard.getByTestId('test-ok').textContent()).toMatch(/PostgreSQL \d+.* ms round trip/);
    await expect.poll(() => sqliteCard.getByTestId('test-ok').textContent()).toMatch(/SQLite 3/);
    expect(await pgCard.textContent()).toContain('password kept for this session');
    await shot(page, '04-connections');
  });

  it('builds a job for three tables and previews its plan', async () => {
    await nav('Jobs');
    await expect.poll(() => page.getByText('No saved jobs').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Build a job' }).click();
    await page.getByLabel('Job name').fill('shop to reporting');
    await page.getByLabel('Source', { exact: true }).selectOption({ label: 'shop (sqlite) · SQLite' });
    await page.getByLabel('Target', { exact: true }).selectOption({ label: 'reporting (postgres) · PostgreSQL' });
    for (const t of ['customers', 'products', 'orders']) await page.getByRole('checkbox', { name: `Copy ${t}` }).check();
    await expect.poll(() => page.getByRole('list', { name: 'Tables in this job' }).getByRole('listitem').count()).toBe(3);
    // Estimates and keys arrive from introspection
    await expect.poll(() => page.getByTestId('table-list').textContent()).toContain('sku');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByText('Saved job “shop to reporting”').isVisible()).toBe(true);
    await shot(page, '05-job-builder');

    await page.getByRole('button', { name: 'Preview plan' }).click();
    await expect.poll(() => page.getByText(/Ready: 3 tables/).isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => page.getByRole('article', { name: 'Plan for orders' }).isVisible()).toBe(true);
    await shot(page, '06-plan-preview');
    // The schema the new tables get: orders' generated key and its foreign key to customers.
    const schema = page.getByRole('article', { name: 'Plan for orders' }).getByRole('group', { name: 'Schema for orders' });
    await schema.locator('summary').click();
    await expect.poll(() => schema.textContent()).toMatch(/foreign key.*\(customer_id\) → customers \(id\).*carried/);
    await schema.scrollIntoViewIfNeeded();
    await shot(page, '06-plan-schema');
  });

  it('runs the job and watches it reach 100%', async () => {
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => page.locator('#run-title').isVisible()).toBe(true);
    await expect.poll(() => page.locator('#run-title [data-status]').getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    expect(await page.getByTestId('run-percent').textContent()).toBe('100%');
    await expect.poll(() => page.getByText(/Succeeded\. 3 tables/).isVisible()).toBe(true);
    await shot(page, '07-run-monitor');

    const counts = await pgQuery<{ c: string; p: string; o: string }>(
      PG_DB,
      'SELECT (SELECT count(*) FROM customers) AS c, (SELECT count(*) FROM products) AS p, (SELECT count(*) FROM orders) AS o',
    );
    expect(counts[0]).toEqual({ c: '200', p: '40', o: '1500' });
  });

  it('opens the run from history and reads its job log', async () => {
    await nav('Runs');
    const history = page.getByTestId('run-history');
    await expect.poll(() => history.getByRole('row').count()).toBeGreaterThan(1);
    expect(await history.textContent()).toContain('shop to reporting');
    await shot(page, '08-run-history');

    await history.getByText('shop to reporting').click();
    await page.getByRole('tab', { name: /Job log/ }).click();
    const log = page.getByTestId('job-log');
    await expect.poll(() => log.textContent()).toContain('run-started');
    expect(await log.textContent()).toMatch(/summary/);
    await shot(page, '09-job-log');
    await page.getByLabel('Which events').selectOption('all');
    await expect.poll(() => log.textContent()).toContain('table-started');
  });

  it('runs again with a rule: finds the dead-lettered rows grouped by reason', { timeout: 120_000 }, async () => {
    // The source changes between runs: the second run overwrites a target row; three new orders came in
    // with text in the integer quantity (SQLite's dynamic typing), which PostgreSQL's bigint cannot take,
    // and two big ones, of a dozen items, which the rule below will refuse.
    const src = new Database(join(dir, 'shop.db'));
    src.prepare("UPDATE customers SET name = 'Renamed Customer' WHERE id = 7").run();
    for (const id of [1501, 1502, 1503]) src.prepare("INSERT INTO orders VALUES (?, 3, 'SKU-0001', 'a dozen', '2024-10-01 09:00:00')").run(id);
    for (const id of [1504, 1505]) src.prepare("INSERT INTO orders VALUES (?, 4, 'SKU-0002', 12, '2024-10-02 09:00:00')").run(id);
    src.close();

    await nav('Jobs');
    await page.getByRole('button', { name: 'shop to reporting', exact: true }).click();
    await page.getByRole('list', { name: 'Tables in this job' }).getByRole('button', { name: /^orders/ }).click();
    await page.getByLabel('Column to add a rule for').selectOption('qty');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByLabel('qty maximum').fill('10');
    // With the rule, 2 rows in 12 break it: more than the default 1% would fail the run.
    await page.locator('summary', { hasText: 'Options' }).click();
    await page.getByLabel('Fail beyond (rows or %)').fill('25%');
    await page.getByRole('button', { name: 'Save' }).click();
    await shot(page, '10-job-builder-rule');
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await expect.poll(() => page.getByText(/Ready: 3 tables/).isVisible(), { timeout: 30_000 }).toBe(true);
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => page.locator('#run-title [data-status]').getAttribute('data-status'), { timeout: 30_000 }).not.toBe('running');
    expect(await page.locator('#run-title [data-status]').getAttribute('data-status'), await page.locator('.banner').first().textContent() ?? '').toBe('dead-lettered');
    await expect.poll(() => page.getByText('Done, with dead letters.').isVisible()).toBe(true);
    await shot(page, '11-run-dead-lettered');

    await page.getByRole('button', { name: /^Dead letters \(/ }).click();
    const reasons = page.getByRole('complementary', { name: 'Reasons' });
    await expect.poll(() => reasons.textContent()).toMatch(/qty|a dozen/);
    // qty cycles 1..12: rows with 11 and 12 break "max 10", as do the two new orders of 12
    expect(await reasons.getByRole('button', { name: /qty: 12 is above the maximum 10/ }).textContent()).toMatch(/127$/);
    const rows = page.getByRole('grid', { name: 'Dead-lettered rows' });
    expect(await page.getByRole('heading', { name: /Dead letters/ }).textContent()).toContain('run');
    await dataRows(rows).first().click();
    await expect.poll(() => page.locator('pre.code').textContent()).toContain('"qty"');
    await shot(page, '12-dead-letters');
  });

  it('fixes the rule in the job and retries: the rows it refused are applied, the text in qty is still refused, then discarded', { timeout: 120_000 }, async () => {
    // Orders of a dozen items are real: the maximum was wrong.
    await nav('Jobs');
    await page.getByRole('button', { name: 'shop to reporting', exact: true }).click();
    await page.getByRole('list', { name: 'Tables in this job' }).getByRole('button', { name: /^orders/ }).click();
    await page.getByLabel('qty maximum').fill('12');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByText('Saved job “shop to reporting”').isVisible()).toBe(true);

    await nav('Dead letters');
    const rows = page.getByRole('grid', { name: 'Dead-lettered rows' });
    await expect.poll(() => dataRows(rows).count()).toBeGreaterThan(0);
    await dataRows(rows).first().click();
    const retry = page.getByRole('button', { name: /^Retry run / });
    expect(await retry.getAttribute('title')).toContain("with the job's rules as saved now");
    await retry.click();
    await expect.poll(() => page.locator('#run-title').textContent()).toContain('dead-letter retry');
    await expect.poll(() => page.locator('#run-title [data-status]').getAttribute('data-status'), { timeout: 30_000 }).not.toBe('running');
    // The three with text in qty are refused again; the 252 the old maximum refused are applied.
    expect(await page.locator('#run-title [data-status]').getAttribute('data-status')).toBe('dead-lettered');
    await shot(page, '13-dead-letter-retry');
    // The retry is a run of the same saved job, in that job's history.
    const runs = await page.evaluate(async () => {
      const token = new URLSearchParams(location.search).get('token') ?? '';
      const res = await fetch('/api/runs/list', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Dbferry-Token': token }, body: '{}' });
      return ((await res.json()) as { ok: boolean; value: { jobName: string; jobId: string | null }[] }).value;
    });
    const retried = runs.find((r) => r.jobName.includes('dead-letter retry'));
    expect(retried?.jobId).toBeTruthy();
    expect(retried?.jobId).toBe(runs.find((r) => !r.jobName.includes('dead-letter retry') && r.jobName.startsWith('shop to reporting'))?.jobId);

    const big = await pgQuery<{ id: string; qty: string }>(PG_DB, 'SELECT id, qty FROM orders WHERE id > 1500 ORDER BY id');
    expect(big).toEqual([
      { id: '1504', qty: '12' },
      { id: '1505', qty: '12' },
    ]);
    const [{ n }] = await pgQuery<{ n: string }>(PG_DB, 'SELECT count(*) AS n FROM orders');
    expect(n).toBe('1502');

    // The queue no longer lists the rows the rule refused; the text in qty stays, with its reason.
    await nav('Dead letters');
    const reasons = page.getByRole('complementary', { name: 'Reasons' });
    await expect.poll(() => dataRows(rows).count()).toBe(3);
    const text = (await reasons.textContent()) ?? '';
    expect(text).toContain('qty: "a dozen" is not an integer');
    expect(text).not.toContain('above the maximum');
    expect(await rows.textContent()).not.toMatch(/\[15(04|05)\]/);
    await shot(page, '14-dead-letters-after-retry');

    await page.getByRole('button', { name: 'Discard…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: /^Discard 3 rows/ }).click();
    await expect.poll(() => page.getByText('No dead letters').isVisible()).toBe(true);
  });

  it('schedules the job: creates a schedule, sees its next run, disables it', { timeout: 60_000 }, async () => {
    await nav('Schedules');
    await expect.poll(() => page.getByText('No schedules').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Schedule a job' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Job', { exact: true }).selectOption({ label: 'shop to reporting' });

    // A wrong expression is refused with its own text.
    await form.getByLabel(/^When/).fill('61 6 * * 1-5');
    await expect.poll(() => form.getByTestId('cron-preview').textContent()).toContain('"61 6 * * 1-5" is not a valid cron expression');
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('"61 6 * * 1-5" is not a valid cron expression');

    await form.getByRole('button', { name: 'Weekdays at 06:30' }).click();
    expect(await form.getByLabel(/^When/).inputValue()).toBe('30 6 * * 1-5');
    await expect.poll(() => form.getByTestId('cron-preview').textContent()).toContain('At 06:30, Monday through Friday');
    expect(await form.getByTestId('cron-preview').textContent()).toMatch(/06:30:00 \(in /);
    await shot(page, '20-schedule-form');
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    const row = page.getByTestId('schedule-shop to reporting');
    await expect.poll(() => row.textContent()).toContain('At 06:30, Monday through Friday');
    const [saved] = await listSchedules();
    expect(saved).toMatchObject({ cron: '30 6 * * 1-5', enabled: true });
    const next = new Date(saved!.nextRunAt!);
    expect([next.getHours(), next.getMinutes(), next.getDay() % 6 !== 0]).toEqual([6, 30, true]);
    expect(await row.textContent()).toMatch(/06:30:00in \d/);
    expect(await row.textContent()).toContain('not run yet');
    // The PostgreSQL password was typed in this browser session: scheduled runs after a restart could not log in.
    expect(await page.getByTestId('schedule-note-shop to reporting').textContent()).toContain('its password is kept for this session only');
    const toggle = row.getByRole('switch', { name: 'Run shop to reporting on schedule' });
    expect(await toggle.isChecked()).toBe(true);
    await shot(page, '21-schedules');

    await toggle.press('Space');
    await expect.poll(() => toggle.isChecked()).toBe(false);
    await expect.poll(async () => (await listSchedules())[0]).toMatchObject({ enabled: false, nextRunAt: null });
    await expect.poll(() => row.getByRole('cell').nth(3).textContent()).toBe('off');
    await shot(page, '22-schedules-disabled');
  });

  it('undoes the second run from its backup, after a confirmation saying what will change', async () => {
    const renamed = await pgQuery<{ name: string }>(PG_DB, 'SELECT name FROM customers WHERE id = 7');
    expect(renamed[0]?.name).toBe('Renamed Customer');
    await nav('Backups');
    await expect.poll(() => page.getByText('restorable').first().isVisible()).toBe(true);
    await shot(page, '15-backups');
    // Newest first: the dead-letter retry changed orders after the second run, so it is undone first.
    const groups = page.locator('article.panel');
    expect(await groups.nth(0).locator('h2').textContent()).toContain('dead-letter retry');
    const dialog = page.getByRole('dialog');
    const undo = async (index: number, expected: RegExp) => {
      const runId = (await groups.nth(index).locator('h2 button.link').textContent())!;
      await groups.nth(index).getByRole('button', { name: 'Restore…' }).click();
      await expect.poll(() => dialog.textContent()).toMatch(expected);
      return runId;
    };
    const retryRun = await undo(0, /orders: put back/);
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => page.getByText(`Restored the target as it was before run ${retryRun}`).isVisible(), { timeout: 30_000 }).toBe(true);
    const orders = await pgQuery<{ n: string }>(PG_DB, 'SELECT count(*) AS n FROM orders WHERE id > 1500');
    expect(orders[0]?.n).toBe('0');

    const secondRun = await undo(1, /customers: put back/);
    await shot(page, '16-restore-confirm');
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => page.getByText(`Restored the target as it was before run ${secondRun}`).isVisible(), { timeout: 30_000 }).toBe(true);
    const back = await pgQuery<{ name: string }>(PG_DB, 'SELECT name FROM customers WHERE id = 7');
    expect(back[0]?.name).toBe('Customer 7 Müller');
    await expect.poll(() => page.getByText(/^restored /).first().isVisible()).toBe(true);
    await shot(page, '17-backups-restored');
  });

  it('runs the schedule when it is due and shows that run as its last run', { timeout: 60_000 }, async () => {
    await nav('Schedules');
    const row = page.getByTestId('schedule-shop to reporting');
    await row.getByRole('switch', { name: 'Run shop to reporting on schedule' }).check();
    await expect.poll(() => row.textContent()).toMatch(/06:30:00in \d/);
    // Its slot came while the app was busy elsewhere: the scheduler starts it on its next look.
    const [schedule] = await listSchedules();
    app.store.db.prepare('UPDATE schedules SET next_run_at = ? WHERE id = ?').run(new Date(Date.now() - 1000).toISOString(), schedule!.id);
    const [fired] = app.router.scheduler.tick();
    expect(fired).toMatchObject({ outcome: 'started', jobName: 'shop to reporting' });
    // The three orders with text in qty are still in the source: the run ends with dead letters.
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 30_000 }).toBe('dead-lettered');
    expect(await row.getByRole('button', { name: `Open run ${fired!.runId!.slice(0, 8)}` }).isVisible()).toBe(true);
    await expect.poll(() => row.textContent()).toMatch(/06:30:00in \d/);
    await shot(page, '27-schedules-last-run');
  });

  it('is readable in the dark theme and usable from the keyboard', async () => {
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.keyboard.press('Alt+3');
    await expect.poll(() => page.getByRole('heading', { name: 'Runs' }).isVisible()).toBe(true);
    await page.getByTestId('run-history').getByRole('grid').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#run-title').isVisible()).toBe(true);
    await shot(page, '18-run-dark');
    await page.keyboard.press('Alt+2');
    await page.getByRole('button', { name: 'shop to reporting', exact: true }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Tables in this job' }).getByRole('listitem').count()).toBe(3);
    await shot(page, '19-job-builder-dark');
    await page.keyboard.press('Alt+1');
    await shot(page, '23-connections-dark');
    await page.keyboard.press('Alt+4');
    await expect.poll(() => page.getByRole('heading', { name: 'Dead letters', exact: true }).isVisible()).toBe(true);
    await page.getByLabel('Status').selectOption('discarded');
    await expect.poll(() => dataRows(page.getByRole('grid', { name: 'Dead-lettered rows' })).count()).toBeGreaterThan(0);
    await shot(page, '24-dead-letters-dark');
    await page.keyboard.press('Alt+6');
    await expect.poll(() => page.getByRole('heading', { name: 'Schedules' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Edit the schedule of shop to reporting' }).click();
    await expect.poll(() => page.getByRole('dialog').getByTestId('cron-preview').textContent()).toContain('At 06:30');
    await shot(page, '25-schedule-form-dark');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    await shot(page, '26-schedules-dark');
  });

  it('never lets the password out: not in the store, API answers or events', async () => {
    expect(wire.length).toBeGreaterThan(10);
    expect(wire.filter((w) => w.startsWith('PAGEERROR'))).toEqual([]);
    expect(wire.filter((w) => w.includes(PASSWORD) || w.includes(encodeURIComponent(PASSWORD)))).toEqual([]);
    app.store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of ['dbferry.db', 'dbferry.db-wal', 'dbferry.db-shm']) {
      const path = join(dir, 'state', file);
      if (existsSync(path)) expect(readFileSync(path).includes(PASSWORD), file).toBe(false);
    }
  });
});
