/// <reference lib="dom" />
/**
 * The app on a queue (issue 17), in real Chromium against `dbferry ui --queue`
 * (in process): "Run now" on a saved job puts the run on BullMQ, a `dbferry
 * worker` process runs it, and the app shows it reaching "succeeded", in its
 * history, with the job log it ingested from the queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppQueuedRuns } from '../../src/main/queue/appRuns.js';
import { parseQueueUrl } from '../../src/main/queue/redisUrl.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { redisAnswers, startWorker, stopWorkers, testQueue, type TestQueue, type TestWorker } from '../helpers/queue.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { createPgDatabase, dropPgDatabase, makeShopSqlite, pgQuery, pgUrl } from './support/databases.js';
import { shot } from './support/screens.js';

const PG_DB = `dbferry_e2e_queue_${process.pid}`;
const redis = await redisAnswers();

let app: BrowserMode;
let browser: Browser;
let page: Page;
let dir: string;
let queue: TestQueue;
let worker: TestWorker;

describe.skipIf(!chromiumAvailable() || !redis)('the app on a queue, in Chromium (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-e2e-queue-'));
    makeShopSqlite(join(dir, 'shop.db'));
    await createPgDatabase(PG_DB);
    queue = testQueue();
    const location = parseQueueUrl(queue.url);
    app = await startBrowserMode({ stateDir: join(dir, 'state'), baseDir: dir, queued: (store) => new AppQueuedRuns(location, store) });
    worker = startWorker(queue.url, dir, 'e2e-worker');
    await worker.ready;
    for (const c of [
      { name: 'shop (sqlite)', url: `sqlite:${join(dir, 'shop.db')}` },
      { name: 'reporting (postgres)', url: pgUrl(PG_DB).toString() },
    ]) {
      const r = await app.router.handle('connections/save', c);
      if (!r.ok) throw new Error(r.error.message);
    }
    const saved = await app.router.handle('jobs/save', {
      spec: { name: 'shop to reporting', source: { url: `sqlite:${join(dir, 'shop.db')}` }, target: { url: pgUrl(PG_DB).toString() }, tables: [{ source: 'customers' }, { source: 'orders' }], options: { createTables: true } },
    });
    if (!saved.ok) throw new Error(saved.error.message);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (worker) await stopWorkers([worker]);
    await queue?.drop();
    await dropPgDatabase(PG_DB);
    rmSync(dir, { recursive: true, force: true });
  });

  const nav = (label: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: label }).click();

  it('Run now goes to the queue; a worker runs it; the app shows it succeed, in history, with its job log', async () => {
    await page.goto(app.url);
    await nav('Jobs');
    await page.getByRole('button', { name: 'shop to reporting', exact: true }).click();
    await page.getByRole('button', { name: 'Preview plan' }).click();
    await expect.poll(() => page.getByText(/Ready: 2 tables/).isVisible(), { timeout: 30_000 }).toBe(true);
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => page.locator('#run-title [data-status]').getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    await shot(page, 'queue-01-run-monitor');
    const counts = await pgQuery<{ c: string; o: string }>(PG_DB, 'SELECT (SELECT count(*) FROM customers) AS c, (SELECT count(*) FROM orders) AS o');
    expect(counts[0]).toEqual({ c: '200', o: '1500' });
    // The worker ran it, not the app.
    expect(worker.log()).toMatch(/starting run .* \(shop to reporting\)/);

    await nav('Runs');
    const history = page.getByTestId('run-history');
    await expect.poll(() => history.textContent()).toContain('shop to reporting');
    await history.getByText('shop to reporting').click();
    await page.getByRole('tab', { name: /Job log/ }).click();
    const log = page.getByTestId('job-log');
    await expect.poll(() => log.textContent()).toContain('run-started');
    expect(await log.textContent()).toMatch(/queued on redis:\/\/127\.0\.0\.1:6379/);
    expect(await log.textContent()).toMatch(/summary/);
    await shot(page, 'queue-02-job-log');
  }, 90_000);
});
