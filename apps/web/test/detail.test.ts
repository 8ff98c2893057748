import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  everything,
  launchBrowser,
  openPage,
  seriousViolations,
  startProxy,
  type TestProxy,
  waitForStatus,
} from './harness.js';

/**
 * The server detail page is per server: going from one server's page to another's starts from the new server's own
 * state, and nothing of the page left behind (its data, its running scan, that scan's late answer) lands on it.
 * Against a real mcpproxy with two upstreams whose tools differ: `alpha` (server-everything: echo, get-sum, …) and
 * `beta` (test/fixtures/poisoned-server.mjs: add, note, multiply). The test holds requests open with route
 * interception to make the in-between moments last; it never sleeps.
 */
const MARK = `detail-${process.pid}`;
const FIXTURE = fileURLToPath(new URL('./fixtures/poisoned-server.mjs', import.meta.url));
let proxy: TestProxy;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const beta = {
    name: 'beta',
    protocol: 'stdio',
    command: process.execPath,
    args: [FIXTURE],
    env: { POISON_STATE: join(process.env.TMPDIR ?? '/tmp', `poison-${MARK}-${Date.now()}`) },
  };
  [proxy, browser] = await Promise.all([
    startProxy({ mcpServers: [everything('alpha', MARK), beta] }),
    launchBrowser(),
  ]);
  ({ page } = await openPage(browser, `${proxy.url}/ui/#/servers`));
  await waitForStatus(page, 'live');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
});

/** Holds every request whose path is `path` (and method `method`) until the test answers it; `next()` waits for one. */
async function hold(method: string, path: string) {
  const queue: Route[] = [];
  const waiting: ((r: Route) => void)[] = [];
  const matches = (u: URL) => u.pathname === path;
  const handler = (route: Route) => {
    if (route.request().method() !== method) return void route.fallback();
    const w = waiting.shift();
    if (w) w(route);
    else queue.push(route);
  };
  await page.route(matches, handler);
  return {
    next: () =>
      new Promise<Route>((resolve, reject) => {
        const r = queue.shift();
        if (r) return resolve(r);
        const timer = setTimeout(() => reject(new Error(`no ${method} ${path} within 20 s`)), 20_000);
        waiting.push((route) => {
          clearTimeout(timer);
          resolve(route);
        });
      }),
    stop: () => page.unroute(matches, handler),
  };
}

/** Resolves when `request` is over, whether it was answered or the page gave up on it. */
function settled(request: Request): Promise<void> {
  return new Promise((resolve) => {
    const done = (r: Request) => {
      if (r !== request) return;
      page.off('requestfinished', done);
      page.off('requestfailed', done);
      resolve();
    };
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    if (request.failure()) done(request);
  });
}

const section = () => page.locator('section[aria-labelledby="view-title"]');
const tools = () => page.locator('.tool-list > li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-tool')));

describe('the server detail page', () => {
  it("starts from each server's own state: no data, scan or late scan answer of the server left behind", async () => {
    await page.evaluate(() => {
      location.hash = '#/servers/alpha';
    });
    await page.locator('.tool-list li[data-tool="echo"]').waitFor();
    expect(await page.textContent('#view-title')).toBe('Server alpha');
    // Every text the feedback regions ever show from here on, so an announcement that comes and goes is caught too.
    await page.evaluate(() => {
      const log: string[] = [];
      Object.assign(window, { noticeLog: log });
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('.notice-slot [role="status"], .notice-slot [role="alert"]'))
          if (el.textContent) log.push(el.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    // A scan of alpha, held open: alpha's button is busy meanwhile.
    const alphaScans = await hold('POST', '/api/v1/servers/alpha/scan');
    await page.click('button.scan-again');
    const alphaScan = await alphaScans.next();
    const alphaScanOver = settled(alphaScan.request());
    expect(await page.textContent('button.scan-again')).toBe('Scanning…');

    // To beta's page, with beta's details held: what shows meanwhile is beta's heading and a loading state, nothing
    // of alpha (no tool rows, no config, no busy scan button, not its name).
    const betaDetails = await hold('GET', '/api/v1/servers/beta');
    await page.evaluate(() => {
      location.hash = '#/servers/beta';
    });
    const betaDetail = await betaDetails.next();
    expect(await page.textContent('#view-title')).toBe('Server beta');
    // (The page asks for beta's details after it rendered beta's page, so what is checked here is what it shows.)
    expect(await tools()).toEqual([]);
    expect(await page.locator('button.scan-again').count()).toBe(0);
    expect(await page.locator('[aria-label^="Config of"]').count()).toBe(0);
    expect(await section().textContent()).not.toContain('alpha');
    expect(await section().locator('.loading').textContent()).toBe('Loading the details of beta…');
    expect(await seriousViolations(page)).toEqual([]); // the loading state is accessible too

    // Beta's details answer: its own tools, and its own scan button, idle although alpha's scan is still open.
    await betaDetail.continue();
    await betaDetails.stop();
    await page.locator('.tool-list li[data-tool="add"]').waitFor();
    expect((await tools()).sort()).toEqual(['add', 'multiply', 'note']);
    expect(await section().locator('.loading').count()).toBe(0);
    const button = page.locator('button.scan-again');
    expect(await button.isEnabled()).toBe(true);
    expect(await button.textContent()).toBe('Scan again');
    expect(await button.getAttribute('aria-busy')).toBe('false');

    // Alpha's scan answers late (or was given up when its page went): nothing of it lands on beta's page.
    // (Fulfilling a request the page already aborted is a no-op.)
    await alphaScan.fulfill({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ scanner: true, block_on: 'hard', counts: { block: 0, review: 0, clean: 0 }, results: [] }),
    });
    await alphaScanOver;
    await alphaScans.stop();
    // Beta's own scan, answered after alpha's: its announcement is the proof alpha's answer had its chance to land.
    await button.click();
    await page.getByRole('status').filter({ hasText: 'Scanned 3 tools of beta' }).waitFor();
    expect(await button.isEnabled()).toBe(true);
    const log = await page.evaluate(() => (window as unknown as { noticeLog: string[] }).noticeLog);
    expect(log.some((t) => t.includes('of beta'))).toBe(true);
    expect(log.filter((t) => t.includes('alpha'))).toEqual([]);
    expect(await section().textContent()).not.toContain('alpha');
    expect((await tools()).sort()).toEqual(['add', 'multiply', 'note']);
  });
});
