import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The monorepo root: three levels above this file (tooling/consumer/test/support). */
export const WORKSPACE_ROOT = resolve(import.meta.dirname, '../../../..');

/** The folders whose packages are published: the libraries and the apps. `tooling/*` is private by design. */
const PUBLISHED_FOLDERS = ['packages', 'apps'];

/** A package of the workspace that npm users install. */
export interface PublicPackage {
  name: string;
  version: string;
  /** Absolute path of the package folder. */
  dir: string;
}

interface WorkspaceManifest {
  name: string;
  version: string;
  private?: boolean;
}

/** Every non-private package under packages/* and apps/*, sorted by name. */
export function publicPackages(): PublicPackage[] {
  const found: PublicPackage[] = [];
  for (const folder of PUBLISHED_FOLDERS) {
    const base = join(WORKSPACE_ROOT, folder);
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      const manifestPath = join(base, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as WorkspaceManifest;
      if (manifest.private) continue;
      found.push({ name: manifest.name, version: manifest.version, dir: join(base, entry.name) });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** The `catalog:` versions of pnpm-workspace.yaml, so the consumer project installs what the workspace tests with. */
export function catalogVersions(): Map<string, string> {
  const text = readFileSync(join(WORKSPACE_ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const block = text.split(/^catalog:\s*$/m)[1] ?? '';
  const versions = new Map<string, string>();
  for (const line of block.split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) break; // the next top-level key ends the catalog
    const match = /^\s+'?([^':\s]+)'?:\s*'?([^'\s#]+)'?/.exec(line);
    if (match?.[1] && match[2]) versions.set(match[1], match[2]);
  }
  return versions;
}

/** The catalog version of `name`; throws when the catalog has none (the test would otherwise install "latest"). */
export function catalogVersion(name: string): string {
  const version = catalogVersions().get(name);
  if (!version) throw new Error(`pnpm-workspace.yaml has no catalog entry for ${name}`);
  return version;
}

/**
 * `pnpm pack` of one package into `destination`; returns the tarball's path. pnpm rewrites `workspace:` and
 * `catalog:` ranges to real versions while packing, which is what publishing does too.
 */
export async function pack(pkg: PublicPackage, destination: string): Promise<string> {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], {
    cwd: pkg.dir,
    env: { ...process.env, FORCE_COLOR: '0' },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const parsed = JSON.parse(stdout) as { filename?: string } | Array<{ filename?: string }>;
  const filename = Array.isArray(parsed) ? parsed[0]?.filename : parsed.filename;
  if (!filename) throw new Error(`pnpm pack printed no filename for ${pkg.name}: ${stdout}`);
  return resolve(destination, filename);
}
