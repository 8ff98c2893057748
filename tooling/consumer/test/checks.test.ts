import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bareSpecifiers, packageOf, packagingProblems } from './support/manifest.js';
import { processesMentioning, runToEnd, spawnChild } from './support/process.js';
import { typeCheck } from './support/project.js';
import { quickStartBlocks } from './support/readme.js';
import { catalogVersions } from './support/workspace.js';

/** The checks the npm-consumer test relies on must catch what they name, or its green run would prove nothing. */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An unpacked "tarball" with these files (path → content). */
function tarball(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcpproxy-checks-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const GOOD = {
  name: '@mcpproxy/demo',
  version: '1.0.0',
  type: 'module',
  engines: { node: '>=20.11' },
  files: ['dist'],
  publishConfig: { access: 'public' },
  exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
  dependencies: { '@mcpproxy/contracts': '1.0.0', zod: '4.0.0' },
  devDependencies: { vitest: '4.0.0' },
};
const PACKED = new Map([['@mcpproxy/contracts', '1.0.0']]);

function manifest(patch: Record<string, unknown>): string {
  return JSON.stringify({ ...GOOD, ...patch }, null, 2);
}

describe('packagingProblems', () => {
  it('finds nothing wrong with a well-formed package', () => {
    const dir = tarball({
      'package.json': manifest({}),
      'README.md': '# demo',
      'dist/index.js': "import { z } from 'zod';\nimport { readFile } from 'node:fs/promises';\nimport 'fs';\n",
      'dist/index.d.ts': "export type { Config } from '@mcpproxy/contracts';\n",
    });
    expect(packagingProblems(dir, PACKED)).toEqual([]);
  });

  it('reports workspace: and catalog: ranges left in the manifest', () => {
    const dir = tarball({
      'package.json': manifest({ dependencies: { '@mcpproxy/contracts': 'workspace:*', zod: 'catalog:' } }),
      'dist/index.js': '',
      'dist/index.d.ts': '',
    });
    expect(packagingProblems(dir, PACKED)).toEqual(
      expect.arrayContaining([
        'package.json still holds a "workspace:" range',
        'package.json still holds a "catalog:" range',
        'dependencies.@mcpproxy/contracts is "workspace:*", not the packed version 1.0.0',
      ]),
    );
  });

  it('reports an import of a package that is only a devDependency, or not declared at all', () => {
    const dir = tarball({
      'package.json': manifest({}),
      'dist/index.js': "import { describe } from 'vitest';\nconst m = await import('left-pad');\n",
      'dist/index.d.ts': "import type { Hono } from 'hono';\n",
    });
    expect(packagingProblems(dir, PACKED)).toEqual([
      'dist/index.d.ts imports hono, which is not a dependency',
      'dist/index.js imports vitest, which is not a dependency (it is only a devDependency)',
      'dist/index.js imports left-pad, which is not a dependency',
    ]);
  });

  it('reports files outside dist, missing export targets, a bin without a shebang, and missing fields', () => {
    const dir = tarball({
      'package.json': manifest({
        files: ['dist', 'src'],
        engines: undefined,
        publishConfig: undefined,
        bin: { demo: './dist/cli.js' },
      }),
      'src/index.ts': '',
      'dist/index.js': '',
      'dist/cli.js': 'console.log(1)\n',
    });
    expect(packagingProblems(dir, PACKED)).toEqual([
      '"files" is ["dist","src"], not ["dist"]',
      '"engines.node" is missing (the packages need Node >= 20.11)',
      '"publishConfig.access" is not "public" (npm would publish the scoped package as restricted)',
      'the tarball ships src/index.ts',
      'export target ./dist/index.d.ts is not in the tarball',
      'bin demo → ./dist/cli.js has no node shebang',
    ]);
  });

  it('accepts a package of static assets that exports only its package.json, and reports one with no dist', () => {
    const assets = { ...GOOD, name: '@mcpproxy/web', exports: undefined, dependencies: undefined };
    const built = tarball({
      'package.json': JSON.stringify({ ...assets, exports: { './package.json': './package.json' } }),
      'dist/index.html': '<!doctype html>',
    });
    expect(packagingProblems(built, PACKED)).toEqual([]);
    const unbuilt = tarball({ 'package.json': JSON.stringify({ ...assets, exports: { '.': './dist/index.js' } }) });
    expect(packagingProblems(unbuilt, PACKED)).toEqual([
      'the tarball has no dist/ (was it built?)',
      'the "." export has no "types" and "import" conditions',
      'export target ./dist/index.js is not in the tarball',
    ]);
  });
});

describe('bareSpecifiers', () => {
  it('reads static, dynamic, re-exported and required specifiers, and skips comments and relative paths', () => {
    const code = [
      '/** @example import { x } from "@mcpproxy/upstream"; */',
      '// import { y } from "commented-out";',
      "import {\n  a,\n  b as c,\n} from '@scope/pkg/sub/path.js';",
      "export * from './local.js';",
      "export { d } from 'reexported';",
      'const e = await import("dynamic");',
      "const f = require.resolve('resolved/package.json');",
      // help texts of a CLI, as tsup emits them
      'const usage = [\n  \'mcpproxy config import "~/Library/claude.json"\',\n];',
      'new Command("import").description(\n  "copy servers from a client\'s config"\n);',
    ].join('\n');
    expect([...bareSpecifiers(code)].sort()).toEqual([
      '@scope/pkg/sub/path.js',
      'dynamic',
      'reexported',
      'resolved/package.json',
    ]);
    expect(packageOf('@scope/pkg/sub/path.js')).toBe('@scope/pkg');
    expect(packageOf('resolved/package.json')).toBe('resolved');
  });
});

describe('quickStartBlocks', () => {
  it('takes the fenced blocks of the Quick start section only, with their languages', () => {
    const dir = tarball({
      'README.md': [
        '# pkg',
        '```ts',
        'before();',
        '```',
        '## Quick start',
        'Text.',
        '```ts',
        'const a = 1;',
        '```',
        '````js',
        '// ## not a heading inside a fence',
        '````',
        '```sh',
        'mcpproxy serve',
        '```',
        '## API',
        '```ts',
        'after();',
        '```',
      ].join('\n'),
    });
    expect(quickStartBlocks(dir)).toEqual([
      { lang: 'ts', code: 'const a = 1;\n' },
      { lang: 'js', code: '// ## not a heading inside a fence\n' },
      { lang: 'sh', code: 'mcpproxy serve\n' },
    ]);
  });

  it('throws when the README has no Quick start section', () => {
    const dir = tarball({ 'README.md': '# pkg\n## Install\n' });
    expect(() => quickStartBlocks(dir)).toThrow(/no "## Quick start" section/);
  });
});

describe('typeCheck', () => {
  it('reports a type error in a quick start', () => {
    const dir = tarball({ 'package.json': '{"type":"module"}', 'bad.ts': "const n: number = 'one';\nexport {};\n" });
    expect(typeCheck([join(dir, 'bad.ts')], dir).join('\n')).toMatch(/bad\.ts:1:7 .*not assignable to type 'number'/);
  });
});

describe('typeCheck of declarations', () => {
  it('reports a broken @mcpproxy declaration and leaves third-party ones alone', () => {
    const pkg = (name: string, dts: string) => ({
      [`node_modules/${name}/package.json`]: JSON.stringify({
        name,
        type: 'module',
        exports: { '.': { types: './index.d.ts', import: './index.js' } },
      }),
      [`node_modules/${name}/index.d.ts`]: dts,
    });
    const dir = tarball({
      'package.json': '{"type":"module"}',
      ...pkg('@mcpproxy/broken', "import type { Missing } from 'not-installed';\nexport declare const x: Missing;\n"),
      ...pkg('third-party', 'export declare const y: NotAType;\n'),
      'main.ts':
        "import { x } from '@mcpproxy/broken';\nimport { y } from 'third-party';\nexport const both = [x, y];\n",
    });
    const problems = typeCheck([join(dir, 'main.ts')], dir).filter(
      (line) => !line.includes("type definition file for 'node'"),
    );
    expect(problems).toEqual([
      expect.stringMatching(/node_modules\/@mcpproxy\/broken\/index\.d\.ts:1:30 Cannot find module 'not-installed'/),
    ]);
  });
});

describe('catalogVersions', () => {
  it('reads the catalog of pnpm-workspace.yaml, scoped names included', () => {
    const catalog = catalogVersions();
    expect(catalog.get('@modelcontextprotocol/server-everything')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(catalog.get('ws')).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('spawnChild and runToEnd', () => {
  // A child that starts a grandchild in a process group of its own, as stdio upstreams are started, then hangs.
  const HANGING = [
    "const { spawn } = require('node:child_process');",
    "spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', process.argv[1]], { detached: true, stdio: 'ignore' });",
    "console.log('started');",
    'setInterval(() => {}, 1000);',
  ].join('\n');

  it('kill() ends the child and a grandchild that left its process group', async () => {
    const marker = `consumer-kill-${process.pid}-${Date.now()}`;
    const child = spawnChild(process.execPath, ['-e', HANGING, marker], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH },
    });
    try {
      await child.waitForOutput(/started/, 30_000);
      expect(processesMentioning(marker)).toHaveLength(2);
    } finally {
      await child.kill();
    }
    expect(processesMentioning(marker)).toEqual([]);
  });

  it('runToEnd rejects with the output of a program that does not exit, and leaves nothing running', async () => {
    const marker = `consumer-hang-${process.pid}-${Date.now()}`;
    const run = runToEnd(process.execPath, ['-e', HANGING, marker], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH },
      timeoutMs: 5_000,
    });
    await expect(run).rejects.toThrow(/did not exit within 5000 ms \(something was left open\)/);
    expect(processesMentioning(marker)).toEqual([]);
  });
});
