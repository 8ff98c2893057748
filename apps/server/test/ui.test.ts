import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import type { ManagementService } from '@mcpproxy/management';
import { createStateView } from '@mcpproxy/stateview';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, createSecurity, type HttpAppDeps } from '../src/index.js';
import { findWebDist, resolveUiPath } from '../src/ui.js';
import { tempDir } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A fake dashboard build beside a file that must never be served. */
function fakeBuild(): string {
  const dir = tempDir('mcpproxy-ui-');
  cleanups.push(dir.cleanup);
  const dist = join(dir.path, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(
    join(dist, 'index.html'),
    '<!doctype html><title>dash</title><script src="./assets/app-1a2b.js"></script>',
  );
  writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'console.log(1)');
  writeFileSync(join(dist, 'assets', 'app-1a2b.css'), 'body{}');
  writeFileSync(join(dist, 'favicon.svg'), '<svg/>');
  writeFileSync(join(dir.path, 'secret.txt'), 'TOP SECRET');
  return dist;
}

function appWith(extra: Partial<HttpAppDeps>, features: Partial<ReturnType<typeof defaultConfig>['features']> = {}) {
  const bus = createEventBus({ coalesceMs: 0 });
  const view = createStateView({ bus, servers: [] });
  cleanups.push(
    () => view.close(),
    () => bus.close(),
  );
  const base = defaultConfig();
  const config = { ...base, features: { ...base.features, ...features }, mcpServers: [] };
  const app = createHttpApp({
    management: {} as ManagementService,
    view,
    bus,
    broadcaster: { sse: async () => new Response('') },
    config: { snapshot: () => config, reload: async () => config },
    security: createSecurity({ address: () => ({ host: '127.0.0.1', port: 8080 }), apiKey: () => 'k' }),
    ...extra,
  });
  return (path: string, init?: RequestInit) => app.request(`http://127.0.0.1:8080${path}`, init);
}

describe('the dashboard at /ui/', () => {
  it('serves index.html and hashed assets with their content type and cache headers, without the API key', async () => {
    const request = appWith({ webDist: fakeBuild() });
    const index = await request('/ui/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await index.text()).toContain('<title>dash</title>');
    const js = await request('/ui/assets/app-1a2b.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    const css = await request('/ui/assets/app-1a2b.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const svg = await request('/ui/favicon.svg');
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers deep links of the app with index.html and a missing file with 404', async () => {
    const request = appWith({ webDist: fakeBuild() });
    for (const path of ['/ui/servers', '/ui/servers/github/tools', '/ui/assets']) {
      const res = await request(path);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toContain('<title>dash</title>');
    }
    const head = await request('/ui/servers', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
    const missing = await request('/ui/assets/gone-123.js');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code?: string }).code).toBe('NOT_FOUND');
  });

  it('never serves a file outside the build, however the path is encoded', async () => {
    const request = appWith({ webDist: fakeBuild() });
    const attempts = [
      '/ui/..%2fsecret.txt',
      '/ui/%2e%2e%2fsecret.txt',
      '/ui/%2e%2e/secret.txt',
      '/ui/assets/..%2f..%2fsecret.txt',
      '/ui/..%5csecret.txt',
      '/ui/%252e%252e%252fsecret.txt',
      '/ui/secret.txt%00.js',
      '/ui/%E0%A4%A',
    ];
    for (const path of attempts) {
      const res = await request(path);
      const text = await res.text();
      expect(text, path).not.toContain('TOP SECRET');
      expect([200, 401, 404], path).toContain(res.status);
    }
    const root = '/srv/dist';
    expect(resolveUiPath(root, '/ui/../secret.txt')).toBeUndefined();
    expect(resolveUiPath(root, '/ui/..%2Fsecret.txt')).toBeUndefined();
    expect(resolveUiPath(root, '/ui/a/%2e%2e/%2e%2e/secret.txt')).toBeUndefined();
    expect(resolveUiPath(root, '/ui/a%00b')).toBeUndefined();
    expect(resolveUiPath(root, '/ui/a\\..\\b')).toBeUndefined();
    expect(resolveUiPath(root, '/ui/%zz')).toBeUndefined();
    expect(resolveUiPath(root, '/ui/assets/x.js')).toBe('/srv/dist/assets/x.js');
    expect(resolveUiPath(root, '/ui/')).toBe('/srv/dist');
  });

  it('serves a placeholder page when the build is missing, and nothing when enable_web_ui is off', async () => {
    const placeholder = appWith({ webDist: null });
    const res = await placeholder('/ui/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('pnpm --filter @mcpproxy/web build');
    expect((await placeholder('/ui/servers')).status).toBe(200);

    const off = appWith({ webDist: fakeBuild() }, { enable_web_ui: false });
    for (const path of ['/', '/ui', '/ui/', '/ui/assets/app-1a2b.js', '/ui/servers']) {
      expect((await off(path, { redirect: 'manual' })).status, path).toBe(404);
    }
  });

  it('finds the real dashboard build through the @mcpproxy/web package and serves its assets', async () => {
    const dist = findWebDist();
    expect(dist, 'apps/web has no dist/index.html: build it (turbo builds it before the server)').toBeDefined();
    const request = appWith({});
    const index = await request('/ui/');
    const html = await index.text();
    expect(html).toContain('<div id="app">');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await request(`/ui/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });
});
