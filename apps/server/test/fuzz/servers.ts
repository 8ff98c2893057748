// The real servers the fuzz targets run against: `serve()` on 127.0.0.1:0 with a real upstream
// (server-everything over stdio) where a target needs one, and quarantined throwaway entries to mutate.
import { everything, type StartOptions, startServer, type TestServer } from '../helpers.js';

/** The API key every fuzz server requires (so auth is fuzzed too, and the key must never leak into a body). */
export const FUZZ_KEY = 'fuzz-secret-key-5f1c';

/** The real upstream; write targets never name it, so the calls through it keep working. */
export const REAL = 'everything';

/** Entries the fuzz may change or delete: quarantined, with a command that cannot run. */
export const DUMMIES = ['dummy-a', 'dummy.b', 'dummy_c'] as const;

/** Largest WebSocket frame the fuzz servers accept (small, so oversized frames are cheap to send). */
export const WS_MAX_MESSAGE = 4096;

/** Starts a fuzz server: the real upstream (when `real`), the dummies, a key and short upstream deadlines. */
export function startFuzzServer({
  real = true,
  extra = {},
  ...options
}: { real?: boolean; extra?: Record<string, unknown> } & StartOptions = {}): Promise<TestServer> {
  return startServer({
    apiKey: FUZZ_KEY,
    env: process.env,
    watchConfig: false,
    systemMetricsIntervalMs: 0,
    ...options,
    config: {
      api_key: FUZZ_KEY,
      call_tool_timeout: '5s',
      retry: { initial_delay: '100ms', max_delay: '1s', max_retries: 1000 },
      events: { max_message_size: WS_MAX_MESSAGE },
      mcpServers: [
        ...(real ? [everything(REAL, { quarantined: false, groups: ['real'] })] : []),
        ...DUMMIES.map((name) => ({ name, command: `/nonexistent/${name}`, quarantined: true, groups: ['dummies'] })),
      ],
      ...extra,
    },
  });
}
