import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { runToEnd } from './process.js';

/**
 * The npm flags of every install: no audit or funding noise, the local cache first (the registry is slow), and a
 * registry request that stalls is retried after 60 s instead of holding the install for npm's default 5 minutes.
 */
export const NPM_FLAGS = [
  '--no-audit',
  '--no-fund',
  '--prefer-offline',
  '--loglevel=error',
  '--fetch-timeout=60000',
  '--fetch-retries=5',
];

/** The user's npm environment: the real HOME keeps npm's cache warm; nothing from the workspace (no npm_config_* from pnpm). */
export function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key)));
}

/**
 * Writes an empty consumer project in `dir` (outside the workspace) whose dependencies are the given tarballs and
 * registry packages, and installs it with plain npm, as a user of the published packages would.
 */
export async function installConsumerProject(
  dir: string,
  {
    tarballs,
    dependencies,
    devDependencies,
    timeoutMs,
  }: {
    /** package name → tarball path */
    tarballs: ReadonlyMap<string, string>;
    /** registry packages the quick starts use beside ours (name → version) */
    dependencies: Record<string, string>;
    /** what a TypeScript user adds (name → version) */
    devDependencies: Record<string, string>;
    timeoutMs: number;
  },
): Promise<void> {
  const manifest = {
    name: 'mcpproxy-consumer',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies: {
      ...Object.fromEntries([...tarballs].map(([name, tarball]) => [name, `file:${tarball}`])),
      ...dependencies,
    },
    devDependencies,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const result = await runToEnd('npm', ['install', ...NPM_FLAGS], { cwd: dir, env: npmEnv(), timeoutMs });
  if (result.code !== 0) throw new Error(`npm install failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
}

/**
 * The compiler options of a strict TypeScript user on Node 20: NodeNext resolution reads each package's `exports`
 * and `types` exactly as Node does. Declarations are checked too (no `skipLibCheck`), so a broken `.d.ts` of ours
 * (an import of an undeclared package, a type that does not resolve) fails; {@link typeCheck} keeps only the
 * diagnostics of the given files and of `@mcpproxy/*` declarations, since third-party ones are not ours to fix.
 */
const CHECK_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  skipLibCheck: false,
};

/**
 * Type-checks `files` (absolute paths of .ts files inside the consumer project) against the installed packages'
 * declarations; returns the diagnostics as text lines (empty when it compiles).
 */
export function typeCheck(files: readonly string[], projectDir: string): string[] {
  const program = ts.createProgram({
    rootNames: [...files],
    options: { ...CHECK_OPTIONS, typeRoots: [join(projectDir, 'node_modules/@types')] },
  });
  // Asked file by file: checking every third-party declaration in full would triple the time.
  const ours = program
    .getSourceFiles()
    .filter((file) => !file.fileName.includes('/node_modules/') || file.fileName.includes('/node_modules/@mcpproxy/'));
  return [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...ours.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ].map((diagnostic) => {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file || diagnostic.start === undefined) return text;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${diagnostic.file.fileName}:${line + 1}:${character + 1} ${text}`;
  });
}

/**
 * Turns a quick-start program into JavaScript Node 20 runs: types erased; `await using` lowered, since Node 20
 * has `Symbol.asyncDispose` but not the syntax.
 */
export function toRunnableJs(code: string, fileName: string): string {
  const { outputText, diagnostics } = ts.transpileModule(code, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  });
  if (diagnostics && diagnostics.length > 0) {
    throw new Error(
      `${fileName}: ${diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n')}`,
    );
  }
  return outputText;
}

/** Makes `<dir>/home`, the HOME of every program the test runs, so none of them writes into the real one. */
export function fakeHome(dir: string): string {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  return home;
}
