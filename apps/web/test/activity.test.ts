import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkView, everything, launchBrowser, openPage, startProxy, type TestProxy, waitForState } from './harness.js';

/**
 * The Activity page served by a real mcpproxy with a real upstream (server-everything over stdio), driven by Debian's
 * Chromium: recorded calls are listed, filtered, opened in the drawer, and charted per server.
 */
const MARK = `web-activity-${process.pid}`;
let proxy: TestProxy;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  [proxy, browser] = await Promise.all([
    startProxy({ mcpServers: [everything('alpha', MARK, { quarantined: false })] }),
    launchBrowser(),
  ]);
  ({ page } = await openPage(browser, `${proxy.url}/ui/`));
  await waitForState(page, 'alpha', 'ready');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
});

describe('the Activity page', () => {
  it('lists calls, filters them by status, opens one in the drawer and charts calls per server', async () => {
    expect(
      (await proxy.api('/api/v1/tools/call', { json: { name: 'alpha:echo', arguments: { message: 'hi' } } })).status,
    ).toBe(200);
    expect((await proxy.api('/api/v1/tools/call', { json: { name: 'alpha:nope', arguments: {} } })).status).toBe(404);
    await proxy.running.services.activity.log?.flush();

    await page.click('a[href="#/activity"]');
    await page.waitForSelector('tr[data-activity]');
    expect(await page.locator('tr[data-status="ok"]').count()).toBeGreaterThanOrEqual(1);
    await page.waitForSelector('[data-chart="alpha"] svg rect');

    await page.selectOption('#activity-status', 'rejected');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('tr[data-activity]')];
      return rows.length === 1 && rows[0]?.getAttribute('data-status') === 'rejected';
    });
    await page.selectOption('#activity-status', '');
    await page.waitForSelector('tr[data-status="ok"]');

    await page.click('tr[data-status="ok"] button');
    const drawer = page.getByRole('dialog');
    await drawer.waitFor();
    expect(await drawer.textContent()).toContain('{"message":"hi"}');
    expect(await checkView(page, 'activity')).toEqual([]);
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });
});
