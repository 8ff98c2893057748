import { BroadcastError } from './errors.js';
import type { BroadcastSettings } from './types.js';

/** The config's `events` defaults (docs/configuration.md), durations in ms. */
export const DEFAULTS: BroadcastSettings = {
  send_buffer: 256,
  max_buffered_bytes: 1_048_576,
  ping_interval: 54_000,
  pong_timeout: 60_000,
  max_message_size: 524_288,
  batch_window: 0,
  permessage_deflate: false,
};

/** @throws {BroadcastError} `INVALID_OPTIONS` */
export function checkSettings(s: BroadcastSettings, sseKeepaliveMs: number, closeTimeoutMs: number): void {
  const bad = (name: string, rule: string) => new BroadcastError('INVALID_OPTIONS', `${name} must be ${rule}`);
  if (!Number.isInteger(s.send_buffer) || s.send_buffer < 1) throw bad('send_buffer', 'an integer ≥ 1');
  if (!Number.isInteger(s.max_buffered_bytes) || s.max_buffered_bytes < 1) {
    throw bad('max_buffered_bytes', 'an integer ≥ 1');
  }
  if (!Number.isInteger(s.max_message_size) || s.max_message_size < 1) throw bad('max_message_size', 'an integer ≥ 1');
  for (const [name, value] of [
    ['ping_interval', s.ping_interval],
    ['pong_timeout', s.pong_timeout],
    ['batch_window', s.batch_window],
    ['sseKeepaliveMs', sseKeepaliveMs],
    ['closeTimeoutMs', closeTimeoutMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) throw bad(name, 'a duration ≥ 0 ms');
  }
}
