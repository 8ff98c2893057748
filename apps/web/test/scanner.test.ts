import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkView, launchBrowser, openPage, startProxy, type TestProxy, waitForStatus } from './harness.js';

/**
 * The tool scanner's findings in the dashboard (issue 15), against a real mcpproxy and a real upstream
 * (test/fixtures/poisoned-server.mjs): `add` is poisoned and its description carries HTML, `note` hides zero-width
 * characters (soft), `multiply` turns poisoned on its second start. The tests share one server and run in order.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/poisoned-server.mjs', import.meta.url));
let proxy: TestProxy;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const state = join(process.env.TMPDIR ?? '/tmp', `poison-${process.pid}-${Date.now()}`);
  const math = {
    name: 'math',
    protocol: 'stdio',
    command: process.execPath,
    args: [FIXTURE],
    env: { POISON_STATE: state },
  };
  [proxy, browser] = await Promise.all([startProxy({ mcpServers: [math] }), launchBrowser()]);
  ({ page } = await openPage(browser, `${proxy.url}/ui/#/quarantine`));
  await waitForStatus(page, 'live');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
});

/**
 * Intercepts `POST /api/v1/servers/math/scan` and holds each one until the test continues or fulfils it: `next()`
 * resolves with the next held request, `count()` says how many were sent.
 */
async function holdScans() {
  const queue: Route[] = [];
  const waiting: ((r: Route) => void)[] = [];
  let count = 0;
  const handler = (route: Route) => {
    count++;
    const w = waiting.shift();
    if (w) w(route);
    else queue.push(route);
  };
  const url = (u: URL) => u.pathname === '/api/v1/servers/math/scan';
  await page.route(url, handler);
  return {
    next: () =>
      new Promise<Route>((resolve, reject) => {
        const r = queue.shift();
        if (r) return resolve(r);
        const timer = setTimeout(() => reject(new Error('no scan request within 20 s')), 20_000);
        waiting.push((route) => {
          clearTimeout(timer);
          resolve(route);
        });
      }),
    count: () => count,
    stop: () => page.unroute(url, handler),
  };
}

/** Nothing of the attacker's HTML became an element, and its handler never ran. */
const noInjectedHtml = () =>
  page.evaluate(
    () => document.getElementById('pwned') === null && document.querySelector('img') === null && !('pwned' in window),
  );

describe('scanner findings in the dashboard', () => {
  it('shows in the quarantine review why a tool is held, its evidence as text, and that approving overrides it', async () => {
    const review = page.locator('li.review[data-tool="math:add"]');
    await review.locator('.findings li').first().waitFor();
    expect(await review.locator('h4').textContent()).toContain('scanner: hard');
    const tiers = await review
      .locator('.findings li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-tier')));
    expect(tiers.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tiers)).toEqual(new Set(['hard']));
    const text = await review.locator('.findings').textContent();
    expect(text).toContain('secret access');
    expect(text).toContain('side channel');
    expect(text).toContain('inputSchema.properties.sidenote');
    // The evidence quotes the description's HTML: shown as characters, never parsed.
    const evidence = (await review.locator('.evidence').allTextContents()).join('\n');
    expect(evidence).toContain('<b id="pwned">');
    expect(evidence).toContain('<img src=x onerror="window.pwned=1">');
    expect(await noInjectedHtml()).toBe(true);
    // The approve button says it overrides the scanner, and is described by the note that says what it overrides.
    const button = page.locator('button[aria-label="Approve add of math"]');
    expect(await button.textContent()).toBe('Approve add');
    expect(await review.locator('button + strong').textContent()).toBe(' (overrides the tool scanner)');
    const note = await button.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${note}"]`).textContent()).toContain(
      'Approving it overrides these findings: the tool becomes callable despite them.',
    );
    expect(await page.locator('.card .scan').first().textContent()).toContain('1 of them held by the tool scanner');
    // The summary across servers: the held tool, and the soft one that stays callable but is marked.
    const summary = page.locator('section.security');
    await summary.locator('[data-finding="math:note"]').waitFor();
    expect(await summary.locator('[data-finding="math:add"] summary').textContent()).toContain('block, pending');
    expect(await summary.locator('[data-finding="math:note"] summary').textContent()).toContain('review, approved');
    await summary.locator('[data-finding="math:note"] summary').click();
    expect(await summary.locator('[data-finding="math:note"] .findings li').getAttribute('data-tier')).toBe('soft');
    expect(await checkView(page, 'quarantine-scanner')).toEqual([]);
  });

  it('badges each tool with findings on the server detail, lists them on expand, and scans again on request', async () => {
    await page.goto(`${proxy.url}/ui/#/servers/math`);
    const add = page.locator('.tool-list li[data-tool="add"]');
    await add.locator('> .badge-hard').waitFor();
    expect(await add.locator('> .badge-hard').textContent()).toBe('scanner: hard');
    expect(await page.locator('.tool-list li[data-tool="note"] > .badge-soft').textContent()).toBe('scanner: soft');
    expect(await page.locator('.tool-list li[data-tool="multiply"]').locator('.badge-hard, .badge-soft').count()).toBe(
      0,
    );
    expect(await page.locator('.tool-list li[data-tool="multiply"] details').count()).toBe(0);
    // Collapsed until asked for, then every finding with its evidence as text.
    expect(await add.locator('.findings').isVisible()).toBe(false);
    await add.locator('summary').click();
    await add.locator('.findings').waitFor({ state: 'visible' });
    expect((await add.locator('.evidence').allTextContents()).join('\n')).toContain('<b id="pwned">');
    expect(await noInjectedHtml()).toBe(true);
    expect(await checkView(page, 'detail-scanner')).toEqual([]);

    // "Scan again" posts to the scan endpoint and says what the server answered. The test holds the request open:
    // while it is pending the button is disabled and says a scan is running, so a second scan cannot start.
    const button = page.locator('button.scan-again');
    const held = await holdScans();
    await button.click();
    const first = await held.next();
    expect(first.request().method()).toBe('POST');
    expect(await button.isDisabled()).toBe(true);
    expect(await button.textContent()).toBe('Scanning…');
    expect(await button.getAttribute('aria-busy')).toBe('true');
    await button.click({ force: true }); // a click on the disabled button does nothing
    await first.continue();
    await page
      .getByRole('status')
      .filter({ hasText: 'Scanned 3 tools of math: 1 blocked, 1 to review, 1 clean.' })
      .waitFor();
    expect(await button.isEnabled()).toBe(true);
    expect(await button.textContent()).toBe('Scan again');
    expect(held.count()).toBe(1);

    // A failed scan is said in words, and the button comes back.
    await button.click();
    const failing = await held.next();
    expect(await button.isDisabled()).toBe(true);
    await failing.fulfill({
      status: 500,
      contentType: 'application/problem+json',
      body: JSON.stringify({ title: 'Internal Server Error', status: 500, code: 'INTERNAL', detail: 'scanner broke' }),
    });
    await page.getByRole('alert').filter({ hasText: 'Scan of math failed: scanner broke' }).waitFor();
    expect(await button.isEnabled()).toBe(true);
    expect(held.count()).toBe(2);
    await held.stop();
  });

  it('shows a tool the scanner holds later, live, and the override once a person approves', async () => {
    await page.evaluate(() => Object.assign(window, { marker: 1 }));
    // The fixture poisons `multiply` from its second start: the relisting is scanned and the tool held.
    expect((await proxy.api('/api/v1/servers/math/restart', { method: 'POST' })).status).toBe(200);
    const multiply = page.locator('.tool-list li[data-tool="multiply"]');
    await multiply.locator('> .badge-hard').waitFor();
    expect(await multiply.locator('.badge-changed').textContent()).toBe('changed');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);

    await page.click('nav a:has-text("Quarantine")');
    await page.locator('li.review[data-tool="math:multiply"] .findings li').first().waitFor();
    await page.click('button[aria-label="Approve add of math"]');
    await page.getByRole('status').filter({ hasText: 'Approved add on math.' }).waitFor();
    await page.locator('li.review[data-tool="math:add"]').waitFor({ state: 'detached' });
    await page
      .locator('[data-finding="math:add"] summary')
      .filter({ hasText: 'approved by a person over its findings' })
      .waitFor();
    const tools = (await proxy.api('/api/v1/servers/math/tools')).body as {
      tools: { name: string; approval: string; overridden?: boolean }[];
    };
    expect(tools.tools.find((t) => t.name === 'add')).toMatchObject({ approval: 'approved', overridden: true });
    expect(tools.tools.find((t) => t.name === 'multiply')?.approval).toBe('changed');
  });
});
