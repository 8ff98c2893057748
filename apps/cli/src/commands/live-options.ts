import { createLiveClient, type LiveClient } from '@mcpproxy/client';
import WebSocket from 'ws';
import type { Target } from '../context.js';

/** The live client of the CLI: `ws` as the WebSocket (Node 20 has no global one), the system clock. */
export function openLive(target: Target, filters: { types?: string[]; servers?: string[] } = {}): LiveClient {
  return createLiveClient({
    url: target.url,
    apiKey: target.apiKey,
    WebSocket,
    types: filters.types,
    servers: filters.servers,
  });
}

/** Resolves on the first SIGINT or SIGTERM (then the handlers are removed). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      process.off('SIGHUP', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    process.on('SIGHUP', on);
  });
}

/** "in 4 s" for a retry time. */
export function retryIn(retryAt: number | null, now = Date.now()): string {
  if (retryAt === null) return '';
  return ` in ${Math.max(0, Math.round((retryAt - now) / 1000))} s`;
}
