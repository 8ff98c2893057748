import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { networkInterfaces, hostname as osHostname } from 'node:os';
import { isLoopbackHost } from '@mcpproxy/contracts';

/** Where the server is bound. `port` is the real port (after binding `:0`). */
export interface BoundAddress {
  host: string;
  port: number;
}

export interface SecurityOptions {
  /** The bound address; read on every check, so it can be set once the listener is up. */
  address: () => BoundAddress;
  /** The API key now in force (config or override); `undefined` = none. Read per request, so it follows reloads. */
  apiKey: () => string | undefined;
  /** `allowed_origins` now in force. Read per request. @default none */
  allowedOrigins?: (() => readonly string[]) | undefined;
  /**
   * Extra `Host` values accepted besides the bound address (e.g. a reverse proxy's name), compared
   * case-insensitively, with port. @default none
   */
  extraHosts?: readonly string[] | undefined;
}

/** The checks every route and the WebSocket upgrade go through. */
export interface Security {
  /** Whether a `Host` header value names this server. A missing header is refused. */
  hostAllowed(host: string | null | undefined): boolean;
  /** Whether an `Origin` header is allowed: absent (CLI, curl), the server's own origin, or in `allowed_origins`. */
  originAllowed(origin: string | null | undefined): boolean;
  /**
   * Whether `origin` is one of `allowed_origins` (not the server's own): such origins get CORS headers.
   */
  isCorsOrigin(origin: string | null | undefined): boolean;
  /**
   * Whether a request carries the API key: `Authorization: Bearer KEY`, `X-API-Key: KEY` or `?apikey=KEY`,
   * compared in constant time. With no key configured: true on loopback, false otherwise (a non-loopback listener
   * never serves without a key, even if a reload removed it).
   */
  keyAllowed(headers: HeaderSource, url: string): boolean;
  /** Whether an API key is required at all now. */
  keyRequired(): boolean;
  /** `checkOrigin` hook for ws-broadcast: Host and Origin of an upgrade request or an SSE `Request`. */
  checkLiveOrigin(req: IncomingMessage | Request): boolean;
  /** `authorize` hook for ws-broadcast: the API key of an upgrade request or an SSE `Request`. */
  authorizeLive(req: IncomingMessage | Request): boolean;
}

/** Anything headers can be read from: a web `Headers`, or Node's incoming headers. */
export type HeaderSource = { get(name: string): string | null } | IncomingMessage['headers'];

function isWebRequest(req: IncomingMessage | Request): req is Request {
  return typeof (req.headers as Headers).get === 'function';
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const v = (headers as IncomingMessage['headers'])[name];
  return Array.isArray(v) ? v[0] : v;
}

const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time string equality (both sides hashed first, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function normaliseOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    if (u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return undefined;
    return u.origin.toLowerCase();
  } catch {
    return undefined;
  }
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/** The `Host` values a server bound at `address` answers to (lowercase, with port). */
export function allowedHostsFor(address: BoundAddress, extra: readonly string[] = []): Set<string> {
  const { host, port } = address;
  const names = new Set<string>([host.toLowerCase()]);
  if (isLoopbackHost(host) || WILDCARD_HOSTS.has(host)) {
    for (const h of ['localhost', '127.0.0.1', '::1']) names.add(h);
  }
  if (WILDCARD_HOSTS.has(host)) {
    // Bound to every interface: the machine's own names and addresses (an API key is then mandatory).
    const me = osHostname().toLowerCase();
    names.add(me);
    names.add(`${me}.local`);
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) names.add(a.address.toLowerCase());
    }
    names.delete('');
    names.delete('0.0.0.0');
    names.delete('::');
  }
  const out = new Set<string>();
  for (const n of names) {
    out.add(hostPort(n, port));
    if (port === 80) out.add(n.includes(':') ? `[${n}]` : n);
  }
  for (const h of extra) out.add(h.toLowerCase());
  return out;
}

/**
 * Creates the Host / Origin / API-key checks. Host validation defeats DNS rebinding (a foreign name resolving to
 * 127.0.0.1); Origin validation stops other web pages from driving the API from a browser; the key stops the rest.
 */
export function createSecurity({
  address,
  apiKey,
  allowedOrigins = () => [],
  extraHosts = [],
}: SecurityOptions): Security {
  let hostsFor: { key: string; hosts: Set<string>; origins: Set<string> } | undefined;
  const own = () => {
    const a = address();
    const key = `${a.host}|${a.port}`;
    if (hostsFor?.key !== key) {
      const hosts = allowedHostsFor(a, extraHosts);
      const origins = new Set<string>();
      for (const h of hosts) origins.add(`http://${h}`);
      hostsFor = { key, hosts, origins };
    }
    return hostsFor;
  };

  let originsFrom: readonly string[] | undefined;
  let extraOrigins = new Set<string>();
  const corsOrigins = (): Set<string> => {
    const list = allowedOrigins();
    if (list !== originsFrom) {
      originsFrom = list;
      extraOrigins = new Set(list.flatMap((o) => normaliseOrigin(o) ?? []));
    }
    return extraOrigins;
  };

  const hostAllowed = (host: string | null | undefined): boolean =>
    typeof host === 'string' && host.length > 0 && host.length <= 300 && own().hosts.has(host.toLowerCase());

  const isCorsOrigin = (origin: string | null | undefined): boolean => {
    if (!origin) return false;
    const o = normaliseOrigin(origin);
    return o !== undefined && corsOrigins().has(o);
  };

  const originAllowed = (origin: string | null | undefined): boolean => {
    if (origin === undefined || origin === null) return true;
    const o = normaliseOrigin(origin);
    if (o === undefined) return false;
    return own().origins.has(o) || corsOrigins().has(o);
  };

  const keyRequired = (): boolean => apiKey() !== undefined || !isLoopbackHost(address().host);

  const keyAllowed = (headers: HeaderSource, url: string): boolean => {
    const key = apiKey();
    if (key === undefined) return isLoopbackHost(address().host);
    const auth = header(headers, 'authorization');
    if (auth) {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      if (m?.[1] && safeEqual(m[1], key)) return true;
    }
    const x = header(headers, 'x-api-key');
    if (x && safeEqual(x, key)) return true;
    const q = url.indexOf('?');
    if (q >= 0) {
      const fromQuery = new URLSearchParams(url.slice(q + 1)).get('apikey');
      if (fromQuery && safeEqual(fromQuery, key)) return true;
    }
    return false;
  };

  const requestParts = (req: IncomingMessage | Request): { headers: HeaderSource; url: string } =>
    isWebRequest(req) ? { headers: req.headers, url: req.url } : { headers: req.headers, url: req.url ?? '/' };

  return {
    hostAllowed,
    originAllowed,
    isCorsOrigin,
    keyAllowed,
    keyRequired,
    checkLiveOrigin(req) {
      const { headers } = requestParts(req);
      return hostAllowed(header(headers, 'host')) && originAllowed(header(headers, 'origin'));
    },
    authorizeLive(req) {
      const { headers, url } = requestParts(req);
      return keyAllowed(headers, url);
    },
  };
}

/** A URL with the value of `apikey` masked, for logs. */
export function maskApiKeyInUrl(url: string): string {
  // Every request's access log masks its path, which almost never holds an `=`: no regex run for those.
  return url.includes('=') ? url.replace(/([?&]apikey=)[^&#]*/gi, '$1***') : url;
}
