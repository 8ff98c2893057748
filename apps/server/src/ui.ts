import { existsSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import type { Context } from 'hono';
import type { AppEnv } from './app.js';
import { sendProblem } from './problems.js';

/** Content types of the files a Vite build writes. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite puts content-hashed files under `assets/`: their bytes never change under a name, so caches keep them. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `index.html` names the current assets: always revalidated, so a new build is picked up at once. */
const REVALIDATE = 'no-cache';

/**
 * The dashboard's page may load only its own files and talk only to this server; no framing (clickjacking on the
 * action buttons).
 */
const HTML_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Shown at `/ui/` when the package is installed without its build (a checkout that was never built). */
export const UI_PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mcpproxy</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>mcpproxy</h1>
<p>The dashboard's build is missing (<code>@mcpproxy/web</code> has no <code>dist/index.html</code>; in a checkout,
run <code>pnpm --filter @mcpproxy/web build</code>). The API is at <a href="../api/v1/servers">/api/v1/servers</a>
(<a href="../api/v1/openapi.json">OpenAPI</a>), live events at <code>/ws/events</code> and <code>/events</code>.</p>
</body></html>
`;

/**
 * Where the dashboard's static build is: the `dist/` folder of the installed `@mcpproxy/web` package, or `undefined`
 * when the package or its build is missing.
 */
export function findWebDist(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@mcpproxy/web/package.json');
    const dist = join(dirname(pkg), 'dist');
    return existsSync(join(dist, 'index.html')) ? dist : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The file under `root` a `/ui/…` request path names, or `undefined` when it leaves `root` (`..`, encoded or not),
 * holds a NUL or a backslash, or is not valid percent-encoding.
 */
export function resolveUiPath(root: string, requestPath: string): string | undefined {
  const rest = requestPath.replace(/^\/ui\/?/, '');
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return undefined;
  const base = resolve(root);
  const file = resolve(base, ...segments);
  return file === base || file.startsWith(base + sep) ? file : undefined;
}

/** Options of {@link createUiHandler}. */
export interface UiHandlerOptions {
  /** The dashboard's build folder; `undefined` serves the placeholder page. */
  dist: string | undefined;
}

/**
 * Serves the dashboard under `/ui/`: the build's files with their content type (hashed assets cached for a year,
 * `index.html` revalidated), `index.html` for any other path without an extension (deep links of the single-page
 * app), 404 for a missing file, and never anything outside the build folder.
 */
export function createUiHandler({ dist }: UiHandlerOptions) {
  const root = dist === undefined ? undefined : resolve(dist);
  const index = root === undefined ? undefined : join(root, 'index.html');
  if (index !== undefined && !(existsSync(index) && statSync(index).isFile())) {
    throw new TypeError(`the dashboard build ${root} has no index.html`);
  }

  const sendIndex = async (c: Context<AppEnv>) =>
    c.body(await readFile(index as string), 200, {
      'content-type': CONTENT_TYPES['.html'] as string,
      'cache-control': REVALIDATE,
      'x-content-type-options': 'nosniff',
      ...HTML_HEADERS,
    });

  return async (c: Context<AppEnv>): Promise<Response> => {
    if (root === undefined) return c.html(UI_PLACEHOLDER, 200, { 'cache-control': REVALIDATE });
    const file = resolveUiPath(root, c.req.path);
    if (file === undefined) return sendProblem(c, 'NOT_FOUND', 'no such file in the dashboard');
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) {
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      if (file === index) return sendIndex(c);
      const hashed = file.startsWith(join(root, 'assets') + sep);
      return c.body(await readFile(file), 200, {
        'content-type': type,
        'cache-control': hashed ? IMMUTABLE : REVALIDATE,
        'x-content-type-options': 'nosniff',
      });
    }
    // A path that names a file (it has an extension) is missing; anything else is a view of the app.
    if (extname(file) !== '' || info?.isDirectory() === false) {
      return sendProblem(c, 'NOT_FOUND', 'no such file in the dashboard');
    }
    return sendIndex(c);
  };
}
