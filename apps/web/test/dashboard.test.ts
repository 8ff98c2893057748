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
    expect(await page.locator('.rows [role="row"]').count()).toBe(3);
    expect(await page.textContent('[data-server="beta"] .groups')).toBe('dev, team');
    expect(Number(await page.textContent('[data-server="alpha"] .num .count'))).toBeGreaterThan(5);
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
    // Every text the badge and the retry cell take, recorded in the page as the DOM changes.
    await page.evaluate((sel) => {
      const seen: string[] = [];
      const retries: string[] = [];
      Object.assign(window, { seen, retries });
      const observer = new MutationObserver(() => {
        const text = document.querySelector(sel)?.textContent ?? '';
        if (seen.at(-1) !== text) seen.push(text);
        const retry = document.querySelector('[data-server="beta"] .retry')?.textContent ?? '';
        if (retry && retries.at(-1) !== retry) retries.push(retry);
      });
      observer.observe(document.querySelector('.rows') as Node, {
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
    expect(await page.textContent('[data-server="beta"] .error-text')).toBe('');
    // While in error the row counted down to its retry (initial_delay 1 s here).
    const retries = await page.evaluate(() => (window as unknown as { retries: string[] }).retries);
    expect(retries.some((r) => /^(in \d+ s|now)$/.test(r))).toBe(true);
  });

  it('sorts by a column and filters by the box', async () => {
    await page.click('[role="columnheader"] button.sort:has-text("Name")');
    expect(await page.locator('.rows [role="rowheader"]').allTextContents()).toEqual(['rug', 'beta', 'alpha']);
    expect(await page.getAttribute('[role="columnheader"][aria-sort="descending"]', 'aria-sort')).toBe('descending');
    await page.click('[role="columnheader"] button.sort:has-text("Name")');
    expect(await page.locator('.rows [role="rowheader"]').allTextContents()).toEqual(['alpha', 'beta', 'rug']);
    await page.fill('#server-filter', 'team');
    await page.waitForFunction(() => document.querySelectorAll('.rows [role="row"]').length === 1);
    expect(await page.locator('.rows [role="rowheader"]').allTextContents()).toEqual(['beta']);
    await page.fill('#server-filter', '');
    await page.waitForFunction(() => document.querySelectorAll('.rows [role="row"]').length === 3);
  });

  it('restarts a group in bulk and says how it went', async () => {
    await page.selectOption('#bulk-scope', 'team');
    await page.click('button:has-text("Restart all")');
    await page.getByRole('status').filter({ hasText: 'restart group team: 1 of 1 done' }).waitFor();
    await waitForState(page, 'beta', 'ready');
    await page.selectOption('#bulk-scope', '');
  });
});

describe('the other views', () => {
  it('shows a server detail with masked config, health, tools and stderr', async () => {
    await page.click('[data-server="alpha"] [role="rowheader"] a');
    await page.waitForSelector('h2:has-text("Server alpha")');
    await page.waitForSelector('section[aria-label="Config of alpha"]');
    const config = await page.textContent('section[aria-label="Config of alpha"]');
    expect(config).toContain('"WEB_E2E_MARK": "***"');
    expect(await page.locator('.tool-list li').count()).toBeGreaterThan(5);
    expect(await page.textContent('.tool-list')).toContain('echo');
    expect(await checkView(page, 'detail')).toEqual([]);
  });

  it('shows the server’s validation error on the field of a bad entry', async () => {
    await page.click('nav a:has-text("Add server")');
    await page.fill('#add-name', 'bad name!');
    await page.fill('#add-command', process.execPath);
    await page.click('button[type="submit"]:has-text("Add server")');
    await page.waitForSelector('#add-name-error');
    expect(await page.getAttribute('#add-name', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#add-name', 'aria-describedby')).toContain('add-name-error');
    expect(await page.textContent('#add-name-error')).toMatch(/letters|name|invalid/i);
    expect(await checkView(page, 'add')).toEqual([]);
    await page.fill('#add-name', 'gamma');
    await page.click('button[type="submit"]:has-text("Add server")');
    await page.getByRole('status').filter({ hasText: 'Added gamma (quarantined)' }).waitFor();
    expect(await page.locator('#add-name-error').count()).toBe(0);
  });

  it('reviews a changed tool with its diff and approves it', async () => {
    // The fixture changes `echo`'s description from its second start on: a rug pull.
    expect((await proxy.api('/api/v1/servers/rug/restart', { method: 'POST' })).status).toBe(200);
    await page.click('nav a:has-text("Quarantine")');
    await page.waitForSelector('li.review[data-tool="rug:echo"]');
    const review = page.locator('li.review[data-tool="rug:echo"]');
    expect(await review.locator('h4 .badge').first().textContent()).toBe('changed');
    // Before and after: the approved description removed, the new one added, the unchanged schema as context.
    expect(await review.locator('.diff-removed').allTextContents()).toEqual([
      '- description: Echoes the message back\n',
    ]);
    expect(await review.locator('.diff-added').textContent()).toContain('~/.ssh/id_rsa');
    expect(await review.locator('.diff-same').count()).toBeGreaterThan(3);
    // The quarantined server added above is listed for approval too.
    await page.waitForSelector('button[aria-label="Approve server gamma"]');
    expect(await checkView(page, 'quarantine')).toEqual([]);
    await page.click('button[aria-label="Approve echo of rug"]');
    await page.waitForSelector('text=No tool is waiting for review.');
    const tools = (await proxy.api('/api/v1/servers/rug/tools')).body as {
      tools: { name: string; approval: string }[];
    };
    expect(tools.tools.find((t) => t.name === 'echo')?.approval).toBe('approved');
  });

  it('finds a tool by search, shows its schema and calls it from a form built from the schema', async () => {
    await page.click('nav a:has-text("Tools")');
    await page.fill('input[type="search"]', 'add two numbers');
    await page.press('input[type="search"]', 'Enter');
    await page.waitForSelector('li[data-tool="alpha:get-sum"]');
    await page.click('button[aria-label="Call alpha:get-sum"]');
    await page.fill('#arg-a', '2');
    await page.fill('#arg-b', '40');
    await page.click('form[aria-label="Call alpha:get-sum"] button[type="submit"]');
    await page.waitForSelector('pre.result-text');
    expect(await page.textContent('pre.result-text')).toContain('42');
    expect(await checkView(page, 'tools')).toEqual([]);
  });

  it('logs events newest first with filters and pause, beside the live panel and its chart', async () => {
    await page.click('nav a:has-text("Events")');
    await page.waitForSelector('ol.log li');
    const seqs = (await page.locator('ol.log li code').allTextContents()).map((t) => Number(t.slice(1)));
    expect(seqs.length).toBeGreaterThan(3);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    await page.selectOption('#events-type', 'tool_called');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('ol.log li')].every((li) => li.getAttribute('data-type') === 'tool_called'),
    );
    await page.selectOption('#events-type', '');
    // Pause holds the log while events keep coming.
    await page.click('button:has-text("Pause")');
    const before = await page.locator('ol.log li').count();
    await proxy.api('/api/v1/servers/alpha/restart', { method: 'POST' });
    await page.waitForSelector('text=/newer events held/');
    expect(await page.locator('ol.log li').count()).toBe(before);
    await page.click('button:has-text("Resume")');
    await page.waitForFunction((n) => document.querySelectorAll('ol.log li').length > n, before);
    // system_metrics arrive every second in this test server: the panel shows the live connections.
    await page.waitForFunction(() => Number(document.querySelector('[data-stat="connections"]')?.textContent) >= 1);
    await page.waitForSelector('svg.chart polyline');
    expect(await checkView(page, 'events')).toEqual([]);
  });

  it('passes the accessibility check on the servers view, light and dark, and on a narrow window', async () => {
    await page.click('nav a:has-text("Servers")');
    await waitForState(page, 'alpha', 'ready');
    expect(await checkView(page, 'servers')).toEqual([]);
    await page.setViewportSize({ width: 400, height: 800 });
    expect(await checkView(page, 'servers-narrow')).toEqual([]);
    // Narrow: no horizontal scroll of the page itself.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('keyboard only, and gates', () => {
  /** Presses Tab until the focused element matches `selector` (bounded), then returns. */
  async function tabTo(selector: string, limit = 120): Promise<void> {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    }
    throw new Error(`Tab never reached ${selector}`);
  }

  it('reaches the main actions with Tab and runs them with Enter, with a visible focus ring', async () => {
    await page.goto(`${proxy.url}/ui/#/servers`);
    await waitForState(page, 'beta', 'ready');
    await tabTo('button[aria-label="Disable beta"]');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await waitForState(page, 'beta', 'disabled');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await tabTo('button[aria-label="Enable beta"]');
    await page.keyboard.press('Enter');
    await waitForState(page, 'beta', 'ready');
    // Navigation and a search, by keyboard.
    await tabTo('nav a[href="#/tools"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('h2:has-text("Tools")');
    await tabTo('input[type="search"]');
    await page.keyboard.type('echo');
    await page.keyboard.press('Enter');
    await page.waitForSelector('li[data-tool="alpha:echo"]');
    await tabTo('button[aria-label="Call alpha:echo"]');
    await page.keyboard.press('Enter');
    await tabTo('#arg-message');
    await page.keyboard.type('typed by keyboard');
    await page.keyboard.press('Enter');
    await page.waitForSelector('pre.result-text:has-text("typed by keyboard")');
  });

  it('shows the refusal when read_only_mode is on', async () => {
    proxy.writeConfig({ ...config, read_only_mode: true });
    expect((await proxy.api('/api/v1/config/reload', { method: 'POST' })).status).toBe(200);
    await page.goto(`${proxy.url}/ui/#/servers`);
    await waitForState(page, 'alpha', 'ready');
    await page.click('button[aria-label="Disable alpha"]');
    const alert = page.getByRole('alert').filter({ hasText: 'read-only mode' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('disable alpha: Refused: the server is in read-only mode');
    expect(await page.textContent(stateCell('alpha'))).toBe('ready');
    await page.click('button:has-text("Disable all")');
    await page.getByRole('alert').filter({ hasText: 'disable all servers' }).waitFor();
  });
});
