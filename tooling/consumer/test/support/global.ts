import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd } from './process.js';
import { NPM_FLAGS, npmEnv } from './project.js';

/**
 * The `@mcpproxy/*` packages `root` needs, itself included: its dependencies read from the unpacked tarballs'
 * manifests, transitively. A global install gets these tarballs beside the CLI's, so npm never asks the registry
 * for an unpublished `@mcpproxy/*` version.
 */
export function workspaceClosure(root: string, unpacked: ReadonlyMap<string, string>): string[] {
  const found = new Set<string>();
  const queue = [root];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    const dir = unpacked.get(name);
    if (found.has(name) || !dir) continue;
    found.add(name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    queue.push(...Object.keys(manifest.dependencies ?? {}).filter((dep) => unpacked.has(dep)));
  }
  return [...found].sort();
}

/**
 * `npm i -g --prefix <prefix> <tarballs…>` as a user installs the CLI globally, into a prefix of its own (never the
 * machine's). Uses the real HOME for npm's cache (warm), and nothing from the workspace (no npm_config_* from pnpm).
 */
export async function installGlobally(prefix: string, tarballs: readonly string[], timeoutMs: number): Promise<void> {
  const args = ['install', '-g', '--prefix', prefix, ...NPM_FLAGS, ...tarballs];
  const result = await runToEnd('npm', args, { cwd: prefix, env: npmEnv(), timeoutMs });
  if (result.code !== 0) throw new Error(`npm i -g failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
}
