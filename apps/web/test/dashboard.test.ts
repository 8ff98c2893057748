import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkView,
  everything,
  launchBrowser,
  openPage,
  rugpull,
  startProxy,
  stateCell,
  type TestProxy,
  upstreamPids,
  waitForState,
  waitForStatus,
} from './harness.js';

/**
 * The dashboard served by a real mcpproxy with real upstreams (server-everything over stdio, and the rug-pull
 * fixture), driven by Debian's Chromium. The tests share one server and run in order.
 */
const MARK = `web-${process.pid}`;
let proxy: TestProxy;
let browser: Browser;
let page: Page;
let config: Record<string, unknown>;

beforeAll(async () => {
  const rugState = join(process.env.TMPDIR ?? '/tmp', `rug-${MARK}-${Date.now()}`);
  config = {
    retry: { initial_delay: '1s', max_delay: '2s', max_retries: 20 },
    mcpServers: [
      everything('alpha', MARK, { groups: ['dev'] }),
      everything('beta', MARK, { groups: ['dev', 'team'] }),
      rugpull('rug', rugState),
    ],
  };
  [proxy, browser] = await Promise.all([startProxy(config), launchBrowser()]);
  ({ page } = await openPage(browser, `${proxy.url}/`));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
});

describe('the servers table', () => {
  it('loads at / and shows every configured server with its live state', async () => {
    expect(page.url()).toBe(`${proxy.url}/ui/`);
    await waitForStatus(page, 'live');
    for (const name of ['alpha', 'beta', 'rug']) await waitForState(page, name, 'ready');
    expect(await page.locator('tbody tr').count()).toBe(3);
    expect(await page.textContent('tr[data-server="beta"] td:nth-child(2)')).toBe('dev, team');
    expect(Number(await page.textContent('tr[data-server="alpha"] td.num'))).toBeGreaterThan(5);
  });

  it('disables a server from its row within a second, without a reload, and a second page sees it too', async () => {
    const { page: second, context } = await openPage(browser, `${proxy.url}/ui/`);
    try {
      await waitForState(second, 'alpha', 'ready');
      await page.evaluate(() => {
        (window as unknown as { marker: number }).marker = 1;
      });
      await page.click('button[aria-label="Disable alpha"]');
      await Promise.all([
        waitForState(page, 'alpha', 'disabled', 1000),
        waitForState(second, 'alpha', 'disabled', 1000),
      ]);
      // Same document: the change came live, not through a reload.
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
      await page.getByRole('status').filter({ hasText: 'disable alpha: done' }).waitFor();
      await page.click('button[aria-label="Enable alpha"]');
      await waitForState(second, 'alpha', 'ready');
    } finally {
      await context.close();
    }
  });

  it('shows an upstream killed on the server side go to error and come back to ready on its own', async () => {
    await waitForState(page, 'beta', 'ready');
    // Every text the badge takes, recorded in the page as the DOM changes.
    await page.evaluate((sel) => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const observer = new MutationObserver(() => {
        const text = document.querySelector(sel)?.textContent ?? '';
        if (seen.at(-1) !== text) seen.push(text);
      });
      observer.observe(document.querySelector('tbody') as Node, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    }, stateCell('beta'));
    const pids = upstreamPids(MARK, 'beta');
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await page.waitForFunction(
      () => {
        const seen = (window as unknown as { seen: string[] }).seen;
        const error = seen.indexOf('error');
        return error >= 0 && seen.indexOf('ready', error) > error;
      },
      undefined,
      { timeout: 30_000 },
    );
    await waitForState(page, 'beta', 'ready');
    expect(await page.textContent('tr[data-server="beta"] td.error-text')).toBe('');
  });

  it('sorts by a column and filters by the box', async () => {
    await page.click('th button.sort:has-text("Name")');
    expect(await page.locator('tbody tr th').allTextContents()).toEqual(['rug', 'beta', 'alpha']);
    await page.click('th button.sort:has-text("Name")');
    expect(await page.locator('tbody tr th').allTextContents()).toEqual(['alpha', 'beta', 'rug']);
    await page.fill('input[type="search"]', 'team');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
    expect(await page.locator('tbody tr th').allTextContents()).toEqual(['beta']);
    await page.fill('input[type="search"]', '');
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 3);
  });

  it('restarts a group in bulk and says how it went', async () => {
    await page.selectOption('select', 'team');
    await page.click('button:has-text("Restart all")');
    await page.getByRole('status').filter({ hasText: 'restart group team: 1 of 1 done' }).waitFor();
    await waitForState(page, 'beta', 'ready');
    await page.selectOption('select', '');
  });
});
