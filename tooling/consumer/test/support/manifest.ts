import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, normalize } from 'node:path';

/** The fields of a packed package.json the checks read. */
export interface PackedManifest {
  name: string;
  version: string;
  type?: string;
  files?: string[];
  main?: string;
  types?: string;
  exports?: Record<string, unknown>;
  bin?: string | Record<string, string>;
  engines?: Record<string, string>;
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'] as const;

/** What a tarball may hold besides `dist/`: the manifest, the README and a licence (npm adds those itself). */
const ALLOWED_OUTSIDE_DIST = /^(package\.json|README(\.md)?|LICEN[CS]E(\.\w+)?|CHANGELOG\.md)$/i;

const BUILTINS = new Set(builtinModules);

/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function isBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  return BUILTINS.has(specifier) || BUILTINS.has(packageOf(specifier));
}

/**
 * Bare module specifiers a built file loads: static and dynamic imports, re-exports, `require()` and
 * `require.resolve()`. Block comments and whole-line comments go first, so JSDoc examples do not count.
 */
export function bareSpecifiers(source: string): Set<string> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  // Static imports and re-exports start a line in built code (tsup and tsc emit them so); anchoring keeps words
  // like "import" inside strings (help texts) from counting.
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const found = new Set<string>();
  for (const pattern of patterns) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1];
      if (specifier && !specifier.startsWith('.') && !specifier.startsWith('/')) found.add(specifier);
    }
  }
  return found;
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? filesUnder(dir, relative) : [relative];
    })
    .sort();
}

/** Every string leaf of an `exports` map (conditions and subpaths alike). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(exportTargets);
  return [];
}

/**
 * Everything wrong with an unpacked tarball (`dir` holds its `package.json`) for an npm user, as sentences; an empty
 * list means it is fine. `packedVersions` maps each workspace package packed in the same run to its version, so its
 * dependents must ask for exactly that version (npm then takes the tarball instead of the registry).
 */
export function packagingProblems(dir: string, packedVersions: ReadonlyMap<string, string>): string[] {
  const manifestText = readFileSync(join(dir, 'package.json'), 'utf8');
  const manifest = JSON.parse(manifestText) as PackedManifest;
  const problems: string[] = [];
  const files = filesUnder(dir);
  const has = (target: string) => files.includes(normalize(target).replace(/^\.\//, ''));

  for (const protocol of ['workspace:', 'catalog:']) {
    if (manifestText.includes(`"${protocol}`)) problems.push(`package.json still holds a "${protocol}" range`);
  }
  for (const field of DEPENDENCY_FIELDS) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      const packed = packedVersions.get(dep);
      if (field !== 'devDependencies' && packed !== undefined && range !== packed) {
        problems.push(`${field}.${dep} is "${range}", not the packed version ${packed}`);
      }
    }
  }
  if (manifest.type !== 'module') problems.push('"type" is not "module" (dist is ESM)');
  if (JSON.stringify(manifest.files) !== '["dist"]')
    problems.push(`"files" is ${JSON.stringify(manifest.files)}, not ["dist"]`);
  if (!manifest.engines?.node) problems.push('"engines.node" is missing (the packages need Node >= 20.11)');
  // npm publishes a scoped package as restricted (paid, private) unless told otherwise.
  if (manifest.name.startsWith('@') && manifest.publishConfig?.access !== 'public') {
    problems.push('"publishConfig.access" is not "public" (npm would publish the scoped package as restricted)');
  }
  for (const file of files) {
    if (!file.startsWith('dist/') && !ALLOWED_OUTSIDE_DIST.test(file)) problems.push(`the tarball ships ${file}`);
  }

  const bins = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  if (!manifest.exports && Object.keys(bins).length === 0) problems.push('neither "exports" nor "bin"');
  if (!files.some((file) => file.startsWith('dist/'))) problems.push('the tarball has no dist/ (was it built?)');
  if (manifest.exports) {
    // A library's entry must give TypeScript its types and Node its ESM file. A package of static assets (the
    // dashboard) may export only "./package.json", for tools that locate its dist.
    const root = manifest.exports['.'] as Record<string, unknown> | undefined;
    if (root !== undefined && (typeof root !== 'object' || !root.types || !root.import)) {
      problems.push('the "." export has no "types" and "import" conditions');
    }
    for (const target of exportTargets(manifest.exports)) {
      if (target === './package.json') continue;
      if (!target.startsWith('./dist/')) problems.push(`export target ${target} is outside dist`);
      else if (!has(target)) problems.push(`export target ${target} is not in the tarball`);
    }
  }
  for (const [command, target] of Object.entries(bins)) {
    if (!has(target)) {
      problems.push(`bin ${command} → ${target} is not in the tarball`);
      continue;
    }
    const firstLine = readFileSync(join(dir, target), 'utf8').split('\n', 1)[0];
    if (firstLine !== '#!/usr/bin/env node') problems.push(`bin ${command} → ${target} has no node shebang`);
  }

  // Every package the built code loads must be a declared dependency: in a consumer's project nothing else is
  // guaranteed to be there (hoisting may hide the gap on one machine and not on the next).
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  for (const file of files.filter((f) => f.startsWith('dist/') && /\.(m?js|cjs|d\.ts|d\.mts)$/.test(f))) {
    for (const specifier of bareSpecifiers(readFileSync(join(dir, file), 'utf8'))) {
      if (isBuiltin(specifier) || declared.has(packageOf(specifier))) continue;
      const where = manifest.devDependencies?.[packageOf(specifier)] ? ' (it is only a devDependency)' : '';
      problems.push(`${file} imports ${specifier}, which is not a dependency${where}`);
    }
  }
  return problems;
}
