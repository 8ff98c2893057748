import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { everythingEntry, fixturePath } from '@mcpproxy/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
// The server is not a package dependency of the dashboard (it depends on us, and a dependency back would be a
// cycle); turbo builds it before these tests (apps/web/turbo.json), so its dist is there.
import { type RunningServer, serve } from '../../server/dist/index.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
/** The dashboard's build (turbo builds it before the tests). */
export const DIST = join(here, '..', 'dist');
/** Screenshots land here (gitignored). */
export const ARTIFACTS = join(here, '..', 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

/** Chromium args for a container (TOOLCHAIN.md). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium, installed by tooling/ci/system-deps.sh (which `pnpm test` runs first). */
export async function launchBrowser(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (error) {
    throw new Error(
      `cannot start ${CHROMIUM}: install it with \`sudo tooling/ci/system-deps.sh\` (apt-get install chromium)`,
      { cause: error },
    );
  }
}

/** A server-everything upstream over stdio, marked so the test can find (and kill) its process. */
export function everything(name: string, mark: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    protocol: 'stdio',
    command: process.execPath,
    args: [everythingEntry, 'stdio'],
    env: { WEB_E2E_MARK: `${mark}:${name}` },
    ...extra,
  };
}

/** The rug-pull fixture: its `echo` tool changes description from its second start on. */
export function rugpull(name: string, stateFile: string): Record<string, unknown> {
  return {
    name,
    protocol: 'stdio',
    command: process.execPath,
    args: [fixturePath('rugpull-server.mjs')],
    env: { RUG_STATE: stateFile, RUG_MODE: 'description' },
  };
}

/** Pids of the upstream processes started with `WEB_E2E_MARK=mark:name`. */
export function upstreamPids(mark: string, name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (env.includes(`WEB_E2E_MARK=${mark}:${name}`)) pids.push(Number(entry));
    } catch {
      // Gone between readdir and read.
    }
  }
  return pids;
}

/** A running mcpproxy on a temp data dir; `restart()` stops it and starts it again on the same port and data. */
export interface TestProxy {
  readonly url: string;
  readonly running: RunningServer;
  readonly dataDir: string;
  readonly configPath: string;
  writeConfig(config: Record<string, unknown>): void;
  /** `fetch` of the API with the key (if any) and a JSON body. */
  api(path: string, init?: { method?: string; json?: unknown }): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Starts mcpproxy (apps/server `serve()`) with `config` on 127.0.0.1, a free port unless `port` is given. */
export async function startProxy(
  config: Record<string, unknown>,
  { apiKey }: { apiKey?: string } = {},
): Promise<TestProxy> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpproxy-web-'));
  const configPath = join(dataDir, 'mcp_config.json');
  const write = (c: Record<string, unknown>) => writeFileSync(configPath, `${JSON.stringify(c, null, 2)}\n`);
  write({ listen: '127.0.0.1:0', ...config });
  let listen: string | undefined;
  let running: RunningServer | undefined;
  const start = async () => {
    running = await serve({ dataDir, configPath, listen, logLevel: 'silent', systemMetricsIntervalMs: 1000 });
    listen ??= `127.0.0.1:${running.address?.port}`;
  };
  await start();
  const proxy: TestProxy = {
    get url() {
      return running?.url as string;
    },
    get running() {
      return running as RunningServer;
    },
    dataDir,
    configPath,
    writeConfig: (c) => write({ listen: '127.0.0.1:0', ...c }),
    async api(path, init = {}) {
      const headers: Record<string, string> = {};
      if (apiKey) headers.authorization = `Bearer ${apiKey}`;
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`http://${listen}${path}`, {
        method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
        headers,
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await running?.close();
    },
    start,
    async close() {
      await running?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return proxy;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** A plain static host for the dashboard's build on its own origin (the hosted dashboard). */
export async function startStaticHost(): Promise<{ url: string; close(): Promise<void> }> {
  const root = resolve(DIST);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
    if (!file.startsWith(root + sep)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A page in its own context (own storage), light or dark. */
export async function openPage(
  browser: Browser,
  url: string,
  { colorScheme = 'light', width = 1280 }: { colorScheme?: 'light' | 'dark'; width?: number } = {},
): Promise<{ page: Page; context: BrowserContext }> {
  // bypassCSP: the server's CSP (rightly) forbids inline scripts, and axe-core is injected as one.
  const context = await browser.newContext({ colorScheme, viewport: { width, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  if (url) await page.goto(url);
  return { page, context };
}

/** The state badge text of a server's row. */
export const stateCell = (name: string) => `[data-server="${name}"] .state .badge`;

/** Waits until the row of `name` shows `state`. */
export async function waitForState(page: Page, name: string, state: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    ([sel, want]) => document.querySelector(sel as string)?.textContent === want,
    [stateCell(name), state],
    { timeout },
  );
}

/** Waits until the connection indicator says `status`. */
export async function waitForStatus(page: Page, status: 'live' | 'reconnecting' | 'polling', timeout = 20_000) {
  await page.waitForSelector(`.indicator[data-status="${status}"]`, { timeout });
}

/** Runs axe-core on the page and returns the serious and critical violations (id and the first targets). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const hasAxe = await page.evaluate(() => 'axe' in window);
  if (!hasAxe) await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } })
      .axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations as { id: string; impact: string; nodes: { target: string[] }[] }[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
}

/** Saves a full-page screenshot of the current view in light and dark, checking accessibility in both. */
export async function checkView(page: Page, name: string): Promise<string[]> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const problems: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${colorScheme}.png`), fullPage: true });
    for (const v of await seriousViolations(page)) problems.push(`${colorScheme}: ${v}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return problems;
}
