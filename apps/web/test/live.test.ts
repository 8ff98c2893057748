import type { Browser, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkView,
  launchBrowser,
  openPage,
  startProxy,
  startStaticHost,
  type TestProxy,
  waitForState,
  waitForStatus,
} from './harness.js';

/**
 * The live connection under faults: a server restarted under the page, a socket that cannot open (polling), and the
 * hosted build on another origin. The servers here are disabled entries: rows without processes, so the tests are
 * about delivery, not about upstreams.
 */
const row = (name: string, enabled = false) => ({ name, protocol: 'stdio', command: process.execPath, enabled });
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Counts the page's requests to `GET /api/v1/servers` (the polling fallback's only request). */
function countServerPolls(requests: Request[]): number {
  return requests.filter((r) => new URL(r.url()).pathname === '/api/v1/servers').length;
}

describe('the connection indicator and the table under faults', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy({ mcpServers: [row('one'), row('two')] });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('shows reconnecting while the server restarts, then live with the table as the server now has it; never polls', async () => {
    const { page, context } = await openPage(browser, `${proxy.url}/ui/`);
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    try {
      await waitForStatus(page, 'live');
      await waitForState(page, 'two', 'disabled');
      await proxy.stop();
      await waitForStatus(page, 'reconnecting');
      // While it is down the config changes: the table after the restart must show the new set, not the old one.
      proxy.writeConfig({ listen: new URL(proxy.url).host, mcpServers: [row('one'), row('three')] });
      await proxy.start();
      await waitForStatus(page, 'live', 30_000);
      await waitForState(page, 'three', 'disabled');
      expect(await page.locator('.rows [role="rowheader"]').allTextContents()).toEqual(['one', 'three']);
      expect(countServerPolls(requests)).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('falls back to polling when the socket cannot open, and still shows changes', async () => {
    const { page, context } = await openPage(browser, '');
    const requests: Request[] = [];
    page.on('request', (r) => requests.push(r));
    try {
      // Every WebSocket to /ws/events is refused; the page's clock is driven by the test, not waited out.
      await context.routeWebSocket(/\/ws\/events/, (ws) => ws.close({ code: 1011, reason: 'blocked by the test' }));
      await page.clock.install();
      await page.goto(`${proxy.url}/ui/`);
      await waitForStatus(page, 'reconnecting');
      expect(countServerPolls(requests)).toBe(0);
      // Past the reconnect delays (1, 2, 4, 8, 16 and 32 s, ±20 %) the page polls.
      for (let i = 0; i < 12 && !(await page.$('.indicator[data-status="polling"]')); i++) {
        await page.clock.runFor(40_000);
      }
      await waitForStatus(page, 'polling');
      await waitForState(page, 'one', 'disabled');
      expect((await proxy.api('/api/v1/servers/one/enable', { method: 'POST' })).status).toBe(200);
      const polls = countServerPolls(requests);
      await page.clock.runFor(31_000);
      await page.waitForFunction(
        () => document.querySelector('[data-server="one"] .state .badge')?.textContent !== 'disabled',
      );
      expect(countServerPolls(requests)).toBeGreaterThan(polls);
      await proxy.api('/api/v1/servers/one/disable', { method: 'POST' });
    } finally {
      await context.close();
    }
  });
});

describe('the hosted dashboard on another origin', () => {
  it('asks for the server and key, is refused without the key, connects with it and remembers it', async () => {
    const host = await startStaticHost();
    const proxy = await startProxy(
      { api_key: 'sekret-key-123', allowed_origins: [host.url], mcpServers: [row('remote')] },
      { apiKey: 'sekret-key-123' },
    );
    const { page, context } = await openPage(browser, `${host.url}/`);
    try {
      await page.waitForSelector('h1:has-text("Connect to mcpproxy")');
      expect(await checkView(page, 'connect')).toEqual([]);
      await page.fill('#connect-url', proxy.url);
      await page.click('button:has-text("Connect")');
      await page.waitForSelector('#connect-key-error');
      expect(await page.textContent('#connect-key-error')).toBe('This server needs an API key.');
      await page.fill('#connect-key', 'wrong');
      await page.click('button:has-text("Connect")');
      await page.waitForSelector('#connect-key-error:has-text("refused this API key")');
      await page.fill('#connect-key', 'sekret-key-123');
      await page.click('button:has-text("Connect")');
      await waitForStatus(page, 'live');
      await waitForState(page, 'remote', 'disabled');
      // Kept in this browser: a reload connects at once.
      await page.reload();
      await waitForStatus(page, 'live');
      await waitForState(page, 'remote', 'disabled');
      // The live socket runs from this origin with the key too: a change arrives without a reload.
      await page.click('button[aria-label="Enable remote"]');
      await page.waitForFunction(
        () => document.querySelector('[data-server="remote"] .state .badge')?.textContent !== 'disabled',
      );
    } finally {
      await context.close();
      await proxy.close();
      await host.close();
    }
  });
});
