import shared from '@mcpproxy/vitest-config';
import { mergeConfig } from 'vitest/config';

// One test file at a time: each browser file runs Chromium, a server and its upstreams, and two of those at once on
// a 2-core machine make the "within one second" checks measure the machine instead of the dashboard.
export default mergeConfig(shared, { test: { fileParallelism: false } });
