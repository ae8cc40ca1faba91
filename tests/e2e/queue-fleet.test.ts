/// <reference lib="dom" />
/**
 * Fifty queued runs across three workers (issue 17), in real Chromium against
 * `dbferry ui --queue` (in process) and three `dbferry worker` processes: each
 * run succeeds exactly once, and the app's Runs screen shows them all, with
 * the job log ingested from the queue, and a run's dead letters, though the
 * workers ran them in their own stores.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/events.js';
import { AppQueuedRuns } from '../../src/main/queue/appRuns.js';
import { parseQueueUrl } from '../../src/main/queue/redisUrl.js';
import { type BrowserMode, startBrowserMode } from '../../src/main/server/browserMode.js';
import { tempDir } from '../helpers/cli.js';
import { redisAnswers, startWorker, stopWorkers, testQueue, type TestQueue, type TestWorker } from '../helpers/queue.js';
import { chromiumAvailable, launchChromium } from './support/browser.js';
import { shot } from './support/screens.js';

const redis = await redisAnswers();
const RUNS = 50;

let app: BrowserMode;
let browser: Browser;
let page: Page;
let dir: string;
let queue: TestQueue;
let workers: TestWorker[] = [];

describe.skipIf(!chromiumAvailable() || !redis)('fifty queued runs across three workers, in the app in Chromium (needs redis-server on 127.0.0.1:6379)', () => {
  beforeAll(async () => {
    dir = tempDir('dbferry-e2e-fleet-');
    const db = new Database(join(dir, 'source.db'));
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO items VALUES (1, 'bolt'), (2, 'nut'), (3, 'washer'), (4, 'screw'), (5, 'rivet')");
    db.exec("CREATE TABLE stock (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL); INSERT INTO stock VALUES (1, 10), (2, -12), (3, 7)");
    db.close();
    queue = testQueue();
    workers = ['w1', 'w2', 'w3'].map((n) => startWorker(queue.url, dir, n));
    const location = parseQueueUrl(queue.url);
    app = await startBrowserMode({ stateDir: join(dir, 'app'), baseDir: dir, queued: (store) => new AppQueuedRuns(location, store) });
    await Promise.all(workers.map((w) => w.ready));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await stopWorkers(workers);
    await queue?.drop();
  });

  const nav = (label: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: label }).click();

  it('each run succeeds exactly once, on one of the workers; the app lists them with their job logs and a run\'s dead letters', async () => {
    const summaries = new Map<string, RunSummary>();
    app.router.subscribe((event, payload) => {
      if (event === 'run/finished') summaries.set((payload as RunSummary).runId, payload as RunSummary);
    });
    const start = async (spec: unknown) => {
      const r = await app.router.handle('runs/start', { spec });
      if (!r.ok) throw new Error(r.error.message);
      return (r.value as { runId: string }).runId;
    };
    const source = { url: `sqlite:${join(dir, 'source.db')}` };
    const ids: string[] = [];
    for (let i = 1; i <= RUNS; i++) ids.push(await start({ name: `fleet ${String(i).padStart(2, '0')}`, source, target: { url: `sqlite:${join(dir, `target-${i}.db`)}` }, tables: [{ source: 'items' }], options: { createTables: true } }));
    const refusing = await start({ name: 'stock with a refused row', source, target: { url: `sqlite:${join(dir, 'stock.db')}` }, tables: [{ source: 'stock', rules: { qty: { min: 0 } } }], options: { createTables: true, maxInvalidRows: 5 } });
    await expect.poll(() => summaries.size, { timeout: 60_000, interval: 250 }).toBe(RUNS + 1);

    for (const id of ids) expect(summaries.get(id), summaries.get(id)?.error).toMatchObject({ status: 'succeeded', rowsWritten: 5, rowsDeadLettered: 0 });
    expect(summaries.get(refusing)).toMatchObject({ status: 'dead-lettered', rowsWritten: 2, rowsDeadLettered: 1 });
    for (let i = 1; i <= RUNS; i++) {
      const t = new Database(join(dir, `target-${i}.db`), { readonly: true });
      expect(t.prepare('SELECT count(*) AS n, group_concat(name) AS names FROM (SELECT * FROM items ORDER BY id)').get()).toEqual({ n: 5, names: 'bolt,nut,washer,screw,rivet' });
      t.close();
    }
    // Exactly once: each run started by one worker, none taken over.
    const logs = workers.map((w) => w.log());
    for (const id of [...ids, refusing]) {
      expect(logs.reduce((n, log) => n + log.split(`starting run ${id}`).length - 1, 0), id).toBe(1);
      for (const log of logs) expect(log).not.toContain(`continuing run ${id}`);
    }
    const shares = logs.map((log) => log.split('starting run ').length - 1);
    expect(shares.reduce((a, b) => a + b)).toBe(RUNS + 1);
    expect(shares.filter((n) => n > 0).length, `runs per worker: ${shares.join(', ')}`).toBeGreaterThanOrEqual(2);

    await page.goto(app.url);
    await nav('Runs');
    const history = page.getByTestId('run-history');
    await expect.poll(() => page.getByText(`${RUNS + 1} runs`).isVisible()).toBe(true);
    await page.getByRole('combobox', { name: 'Status' }).selectOption('succeeded');
    await expect.poll(() => page.getByText(`${RUNS} runs`).isVisible()).toBe(true);
    await page.getByRole('combobox', { name: 'Status' }).selectOption('');
    await shot(page, 'queue-03-fleet-history');

    // A long list renders the rows in view: search for the one to open.
    await page.getByRole('searchbox', { name: 'Search runs' }).fill('fleet 07');
    await history.getByText('fleet 07').click();
    await page.getByRole('tab', { name: /Job log/ }).click();
    const log = page.getByTestId('job-log');
    await expect.poll(() => log.textContent()).toMatch(/queued on redis:\/\/127\.0\.0\.1:6379/);
    expect(await log.textContent()).toContain('run-started');
    expect(await log.textContent()).toMatch(/summary/);

    await nav('Runs');
    await history.getByText('stock with a refused row').click();
    await page.getByRole('button', { name: /^Dead letters \(/ }).click();
    const rows = page.getByRole('grid', { name: 'Dead-lettered rows' });
    await expect.poll(() => rows.textContent()).toContain('-12');
    await shot(page, 'queue-04-fleet-dead-letters');
  }, 120_000);
});
