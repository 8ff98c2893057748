import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED_OUTPUT } from './expectations.js';
import { installGlobally, workspaceClosure } from './support/global.js';
import { waitForServerState } from './support/live.js';
import { packagingProblems } from './support/manifest.js';
import { type Child, processesLeftMentioning, runToEnd, spawnChild } from './support/process.js';
import { fakeHome, installConsumerProject, toRunnableJs, typeCheck } from './support/project.js';
import { quickStartBlocks, quickStartPrograms } from './support/readme.js';
import { catalogVersion, pack, publicPackages, WORKSPACE_ROOT } from './support/workspace.js';

/**
 * The packages as npm users get them: every public package is packed with `pnpm pack`, the tarballs are installed
 * with plain npm into an empty project in a temp folder outside the workspace, and each README's quick start runs
 * there as written. Packing and installing happen once in `beforeAll`; each test then reads or runs in that project.
 */

const PACKAGES = publicPackages();
const CLI = '@mcpproxy/cli';
/** The bound of one program: a real upstream starts in ~1 s, but CI shares 2 cores among many processes. */
const PROGRAM_TIMEOUT_MS = 90_000;
/** A test's bound: past the program's, so a hung program is killed (with its children) by the test, not vitest. */
const TEST_TIMEOUT_MS = PROGRAM_TIMEOUT_MS + 30_000;
/** A quick start that reads this talks to a running server (the README says to start one): it runs against the demo. */
const SERVER_URL_ENV = 'MCPPROXY_URL';

/** One program of a README quick start. */
interface Program {
  pkg: string;
  /** 1-based position among the package's quick-start programs. */
  n: number;
  code: string;
  /** Whether it needs a running mcpproxy at `MCPPROXY_URL`. */
  needsServer: boolean;
  /** The README's code as a .ts file in the project (type-checked), and with types erased as .mjs (run). */
  tsFile: string;
  jsFile: string;
}

let work: string;
let project: string;
let home: string;
const unpacked = new Map<string, string>();
/** package name → its tarball, packed once in `beforeAll` and shared by the project and the global install. */
const tarballs = new Map<string, string>();

/** The README's quick-start programs; none when the README or its section is missing ("has a README quick start" says so). */
function programsOf(dir: string): ReturnType<typeof quickStartPrograms> {
  try {
    return quickStartPrograms(dir);
  } catch {
    return [];
  }
}

const PROGRAMS: Program[] = PACKAGES.flatMap((pkg) =>
  // The CLI's quick start is a shell command, run by its own tests below.
  pkg.name === CLI
    ? []
    : programsOf(pkg.dir).map((block, index) => {
        const base = `quickstart-${pkg.name.replace(/^@mcpproxy\//, '')}-${index + 1}`;
        return {
          pkg: pkg.name,
          n: index + 1,
          code: block.code,
          needsServer: block.code.includes(`process.env.${SERVER_URL_ENV}`),
          tsFile: `${base}.ts`,
          jsFile: `${base}.mjs`,
        };
      }),
);

/** The environment of every program run in the project: a throwaway HOME and TMPDIR, nothing from the workspace. */
function consumerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, TMPDIR: join(work, 'tmp'), LANG: 'C.UTF-8', NO_COLOR: '1', ...extra };
}

/** Runs one quick start in the project and checks what it printed against {@link EXPECTED_OUTPUT}. */
async function runProgram(program: Program, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const result = await runToEnd(process.execPath, [program.jsFile], {
    cwd: project,
    env: consumerEnv(env),
    timeoutMs: PROGRAM_TIMEOUT_MS,
  });
  const report = `${program.pkg} quick start #${program.n}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  expect(result.code, report).toBe(0);
  if (!program.needsServer) {
    // Nothing it started outlives it (stdio upstreams run in process groups of their own, so exiting is not proof).
    expect(await processesLeftMentioning(project, 10_000), report).toEqual([]);
  }
  const expected = EXPECTED_OUTPUT[program.pkg];
  if (!expected) {
    expect(result.stdout.trim(), report).not.toBe('');
    return;
  }
  const blocks = PROGRAMS.filter((p) => p.pkg === program.pkg).length;
  expect(blocks, `${program.pkg}: README quick-start programs vs EXPECTED_OUTPUT entries`).toBe(expected.length);
  for (const pattern of expected[program.n - 1] ?? []) expect(result.stdout, report).toMatch(pattern);
}

beforeAll(async () => {
  // realpath: tmpdir() may be a symlink, and the processes report resolved paths.
  work = realpathSync(mkdtempSync(join(tmpdir(), 'mcpproxy-consumer-')));
  project = join(work, 'project');
  home = fakeHome(work);
  for (const dir of ['tarballs', 'unpacked', 'tmp', 'project']) mkdirSync(join(work, dir), { recursive: true });

  for (const pkg of PACKAGES) {
    const tarball = await pack(pkg, join(work, 'tarballs'));
    tarballs.set(pkg.name, tarball);
    const dir = join(work, 'unpacked', pkg.name.replace('/', '+'));
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
    unpacked.set(pkg.name, dir);
  }

  await installConsumerProject(project, {
    tarballs,
    // What the quick starts use beside our packages, installed from npm as a user would: the upstream they connect
    // to, and the WebSocket client; plus the types a TypeScript user adds.
    dependencies: {
      '@modelcontextprotocol/server-everything': catalogVersion('@modelcontextprotocol/server-everything'),
      ws: catalogVersion('ws'),
    },
    devDependencies: { '@types/node': catalogVersion('@types/node'), '@types/ws': catalogVersion('@types/ws') },
    timeoutMs: 300_000,
  });

  for (const program of PROGRAMS) {
    program.tsFile = join(project, program.tsFile);
    program.jsFile = join(project, program.jsFile);
    writeFileSync(program.tsFile, program.code);
    writeFileSync(program.jsFile, toRunnableJs(program.code, program.tsFile));
  }
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed packages', () => {
  it('packs every public package, the CLI among them, into the project', () => {
    expect(PACKAGES.map((p) => p.name)).toEqual(
      expect.arrayContaining([CLI, '@mcpproxy/server', '@mcpproxy/contracts']),
    );
    for (const pkg of PACKAGES) {
      // Installed from the tarball into the project, not linked back into the checkout.
      const installed = realpathSync(join(project, 'node_modules', pkg.name));
      expect(installed.startsWith(`${project}/`)).toBe(true);
      expect(installed.startsWith(WORKSPACE_ROOT)).toBe(false);
    }
  });

  it.each(PACKAGES.map((p) => [p.name]))(
    '%s has no workspace:/catalog: range, ships only dist, and declares every package its dist imports',
    (name) => {
      const versions = new Map(PACKAGES.map((p) => [p.name, p.version]));
      expect(packagingProblems(unpacked.get(name) as string, versions)).toEqual([]);
    },
  );

  it('depends on every public package, so that turbo builds each one before this test packs it', () => {
    const own = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const missing = PACKAGES.filter((p) => own.devDependencies[p.name] !== 'workspace:*').map((p) => p.name);
    expect(missing, 'add them to tooling/consumer devDependencies as "workspace:*", then pnpm install').toEqual([]);
  });

  it.each(PACKAGES.map((p) => [p.name]))('%s has a README quick start', (name) => {
    const pkg = PACKAGES.find((p) => p.name === name);
    expect(quickStartBlocks(pkg?.dir as string).length).toBeGreaterThan(0);
  });
});

describe('README quick starts in the npm project', () => {
  it(
    'type-check against the installed declarations, as a strict TypeScript user compiles them',
    () => {
      const problems = typeCheck(
        PROGRAMS.map((p) => p.tsFile),
        project,
      ).map((line) => line.replace(`${project}/`, ''));
      expect(problems).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  const standalone = PROGRAMS.filter((p) => !p.needsServer);
  it.each(standalone.map((p) => [p.pkg, p.n]))(
    '%s quick start #%i runs and prints what it promises',
    async (pkg, n) => {
      await runProgram(standalone.find((p) => p.pkg === pkg && p.n === n) as Program);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('npx mcpproxy serve --demo from the npm install', () => {
  let demo: Child | undefined;
  let url = '';

  /** The command of the CLI README's quick start (`mcpproxy serve --demo`), as words. */
  function readmeCommand(): string[] {
    const cli = PACKAGES.find((p) => p.name === CLI);
    const line = quickStartBlocks(cli?.dir as string)
      .filter((block) => block.lang === 'sh' || block.lang === 'bash')
      .flatMap((block) => block.code.split('\n'))
      .find((text) => text.trim().startsWith('mcpproxy '));
    if (!line) throw new Error(`${CLI}'s README quick start has no "mcpproxy …" command`);
    return line.trim().split(/\s+/);
  }

  beforeAll(async () => {
    const command = readmeCommand();
    expect(command).toEqual(['mcpproxy', 'serve', '--demo']);
    // Port 0 instead of the demo's 8080, which another program on the machine may hold. `--no`: npx must find the
    // installed binary, never download one.
    demo = spawnChild('npx', ['--no', ...command, '--listen', '127.0.0.1:0'], { cwd: project, env: consumerEnv() });
    const [, found] = await demo.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/, 60_000);
    url = found as string;
  }, 120_000);

  afterAll(async () => {
    await demo?.kill();
  });

  it(
    'answers /readyz and lists the demo server ready',
    async () => {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      await waitForServerState(url, 'everything', 'ready', 60_000);
      const listing = (await (await fetch(`${url}/api/v1/servers`)).json()) as {
        servers: Array<{ name: string; state: string }>;
      };
      expect(listing.servers.map((s) => [s.name, s.state])).toEqual([['everything', 'ready']]);
      // The upstream is the server-everything npm installed, found from the CLI's own module.
      const written = JSON.parse(readFileSync(join(project, '.mcpproxy-demo/mcp_config.json'), 'utf8')) as {
        mcpServers: Array<{ command: string; args: string[] }>;
      };
      expect(written.mcpServers[0]?.args).toEqual([
        join(project, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'),
        'stdio',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'serves the dashboard build that npm installed (@mcpproxy/web) at /ui/',
    async () => {
      const installed = readFileSync(join(project, 'node_modules/@mcpproxy/web/dist/index.html'), 'utf8');
      const page = await fetch(`${url}/ui/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toBe(installed);
      // The page's own script loads too: the build's assets shipped in the tarball.
      const script = /<script[^>]*\bsrc="\.?\/?([^"]+\.js)"/.exec(installed)?.[1];
      expect(script, installed).toBeDefined();
      const asset = await fetch(`${url}/ui/${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
    },
    TEST_TIMEOUT_MS,
  );

  const clients = PROGRAMS.filter((p) => p.needsServer);
  if (clients.length > 0) {
    it.each(clients.map((p) => [p.pkg, p.n]))(
      '%s quick start #%i runs against it',
      async (pkg, n) => {
        await waitForServerState(url, 'everything', 'ready', 60_000);
        await runProgram(clients.find((p) => p.pkg === pkg && p.n === n) as Program, { [SERVER_URL_ENV]: url });
      },
      TEST_TIMEOUT_MS * 2,
    );
  }

  it(
    'stops on Ctrl+C with exit code 0 and leaves no process behind, its upstream included',
    async () => {
      const child = demo as Child;
      child.interrupt(); // what the terminal does: SIGINT to the foreground process group (npx and mcpproxy)
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([
        child.exited,
        new Promise((resolve) => {
          timer = setTimeout(resolve, 30_000, 'still running after 30 s');
        }),
      ]);
      clearTimeout(timer);
      // npm re-raises the SIGINT on itself once its child is done, as it does for any program; mcpproxy's own
      // shutdown is read from its log: one graceful stop, neither forced nor cut short by a second signal.
      expect(
        [
          { code: 0, signal: null },
          { code: null, signal: 'SIGINT' },
        ],
        child.stderr(),
      ).toContainEqual(exit);
      expect(child.stderr()).toMatch(/mcpproxy: SIGINT, shutting down[\s\S]*"msg":"mcpproxy stopped"/);
      expect(child.stderr()).not.toMatch(/exiting now|took too long/);
      expect(await processesLeftMentioning(project, 10_000)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 1 and says how to reinstall when server-everything is missing',
    async () => {
      const installed = join(project, 'node_modules/@modelcontextprotocol/server-everything');
      const aside = `${installed}.aside`;
      renameSync(installed, aside);
      try {
        const fresh = join(work, 'fresh-demo');
        const result = await runToEnd('npx', ['--no', 'mcpproxy', 'serve', '--demo', '--data-dir', fresh], {
          cwd: project,
          env: consumerEnv(),
          timeoutMs: PROGRAM_TIMEOUT_MS,
        });
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/--demo needs @modelcontextprotocol\/server-everything.*reinstall the CLI/);
        expect(existsSync(join(fresh, 'mcp_config.json'))).toBe(false);
      } finally {
        renameSync(aside, installed);
      }
    },
    TEST_TIMEOUT_MS,
  );
});

describe('npm i -g of the packed CLI on a clean prefix', () => {
  let prefix = '';
  let cwd = '';
  let server: Child | undefined;
  let url = '';

  /** The environment of a user whose PATH starts with the prefix's bin (the global `mcpproxy`). */
  const globalEnv = (): NodeJS.ProcessEnv => consumerEnv({ PATH: `${join(prefix, 'bin')}:${process.env.PATH}` });

  /** Runs the globally installed `mcpproxy` (found on PATH, as a shell does) to its end. */
  const mcpproxy = (...args: string[]) =>
    runToEnd('mcpproxy', args, { cwd, env: globalEnv(), timeoutMs: PROGRAM_TIMEOUT_MS });

  /** `mcpproxy ARGS --url URL -o json` against the global server: exit 0 and its JSON. */
  async function json<T>(...args: string[]): Promise<T> {
    const result = await mcpproxy(...args, '--url', url, '-o', 'json');
    expect(result.code, `mcpproxy ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout) as T;
  }

  beforeAll(async () => {
    prefix = join(work, 'global-prefix');
    cwd = join(work, 'global-cwd');
    mkdirSync(prefix);
    mkdirSync(cwd);
    const needed = workspaceClosure(CLI, unpacked);
    await installGlobally(
      prefix,
      needed.map((name) => tarballs.get(name) as string),
      300_000,
    );
    server = spawnChild('mcpproxy', ['serve', '--demo', '--listen', '127.0.0.1:0'], { cwd, env: globalEnv() });
    const [, found] = await server.waitForOutput(/API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/, 60_000);
    url = found as string;
    await waitForServerState(url, 'everything', 'ready', 60_000);
  }, 600_000);

  afterAll(async () => {
    await server?.kill();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it("puts a mcpproxy from the tarballs, not the workspace, on the prefix's bin", () => {
    const bin = realpathSync(join(prefix, 'bin', 'mcpproxy'));
    expect(bin).toBe(join(prefix, 'lib', 'node_modules', '@mcpproxy', 'cli', 'dist', 'main.js'));
    // Its @mcpproxy dependencies came from our tarballs too (npm could not have found them on the registry).
    const server = JSON.parse(readFileSync(join(prefix, 'lib/node_modules/@mcpproxy/server/package.json'), 'utf8')) as {
      version: string;
    };
    expect(server.version).toBe(PACKAGES.find((p) => p.name === '@mcpproxy/server')?.version);
  });

  it(
    'runs the management commands against its own demo server',
    async () => {
      const status = await json<{ app: { version: string }; servers: { total: number; ready: number } }>('status');
      expect(status.app.version).toBe(PACKAGES.find((p) => p.name === CLI)?.version);
      expect(status.servers).toMatchObject({ total: 1, ready: 1 });

      const upstreams = await json<{ servers: Array<{ name: string; state: string }> }>('upstream', 'list');
      expect(upstreams.servers.map((s) => [s.name, s.state])).toEqual([['everything', 'ready']]);

      const search = await json<{ tools: Array<{ name: string }> }>('tools', 'search', 'add two numbers');
      expect(search.tools[0]?.name).toBe('everything:get-sum');

      const echo = await json<{ content: Array<{ type: string; text: string }> }>(
        'call',
        'everything:echo',
        '--args',
        '{"message":"hi"}',
      );
      expect(echo.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);

      const scan = await json<{ scanner: boolean; results: Array<{ server: string }>; counts: object }>(
        'security',
        'scan',
      );
      expect(scan.scanner).toBe(true);
      expect(scan.results.length).toBeGreaterThan(0);
      expect(new Set(scan.results.map((r) => r.server))).toEqual(new Set(['everything']));
      expect(Object.keys(scan.counts).sort()).toEqual(['block', 'clean', 'review']);

      const activity = await json<{ records: Array<Record<string, unknown>> }>('activity', 'list');
      expect(activity.records).toContainEqual(
        expect.objectContaining({
          kind: 'tool_call',
          server: 'everything',
          tool: 'echo',
          surface: 'cli',
          status: 'ok',
        }),
      );

      const doctor = await mcpproxy('doctor', '--url', url);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/no problems found/);

      const config = join(cwd, 'valid.json');
      writeFileSync(config, JSON.stringify({ listen: '127.0.0.1:0', mcpServers: [] }));
      const valid = await mcpproxy('config', 'validate', config);
      expect(valid.code, valid.stdout + valid.stderr).toBe(0);
      writeFileSync(config, JSON.stringify({ listen: 42 }));
      const invalid = await mcpproxy('config', 'validate', config);
      expect(invalid.code, invalid.stdout + invalid.stderr).toBe(4);

      const help = await mcpproxy('--help');
      expect(help.code).toBe(0);
      for (const command of [
        'serve',
        'upstream',
        'tools',
        'call',
        'status',
        'doctor',
        'config',
        'security',
        'activity',
      ]) {
        expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
      }
    },
    TEST_TIMEOUT_MS * 2,
  );

  it(
    'exits 1 with what to do next when the --url is unreachable',
    async () => {
      // Port 9 (discard) on loopback: nothing listens there in a test machine, so the connection is refused.
      const result = await mcpproxy('status', '--url', 'http://127.0.0.1:9');
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/cannot reach mcpproxy at http:\/\/127\.0\.0\.1:9[\s\S]*mcpproxy serve/);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stops its server on Ctrl+C and leaves no process from the prefix behind',
    async () => {
      const child = server as Child;
      child.interrupt();
      const exit = await Promise.race([
        child.exited,
        new Promise((resolve) => setTimeout(resolve, 30_000, 'still running after 30 s').unref()),
      ]);
      expect(exit, child.stderr()).toEqual({ code: 0, signal: null });
      expect(await processesLeftMentioning(prefix, 10_000)).toEqual([]);
      expect(await processesLeftMentioning(cwd, 10_000)).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
