import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatValidationIssues } from '@mcpproxy/contracts';
import { EXIT_CODES, exitCodeOf, type RunningServer, ServeError, serve, serveStdio, VERSION } from '@mcpproxy/server';
import { Command } from 'commander';

/** Flags of `mcpproxy serve`. */
export interface ServeFlags {
  /** `-c, --config`: the config file. */
  config?: string | undefined;
  /** `-l, --listen`: `HOST:PORT` (beats the file and `MCPPROXY_LISTEN`). */
  listen?: string | undefined;
  /** `--data-dir`: lock, approvals, default config. */
  dataDir?: string | undefined;
  /** `--demo`: a data dir in `./.mcpproxy-demo` with server-everything as the one upstream. */
  demo?: boolean | undefined;
  /** `--stdio`: serve the `/mcp` tool set over stdin/stdout (HTTP off unless `--listen` is given). */
  stdio?: boolean | undefined;
}

/** Where the process's surroundings come from, so tests can run the command in-process. */
export interface ServeIo {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stderr: { write(text: string): unknown };
  /** Ends the process. */
  exit(code: number): void;
  /** Subscribes to SIGINT/SIGTERM; returns an unsubscribe. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /** MCP over stdio (`--stdio`): where JSON-RPC comes from and goes to. @default process.stdin / process.stdout */
  stdin?: NodeJS.ReadableStream | undefined;
  stdout?: NodeJS.WritableStream | undefined;
}

/** The data dir: `--data-dir`, else `MCPPROXY_DATA`, else `./.mcpproxy-demo` with `--demo`, else `~/.mcpproxy`. */
export function resolveDataDir(flags: ServeFlags, env: ServeIo['env'], cwd: string): string {
  if (flags.dataDir) return resolve(cwd, flags.dataDir);
  if (env.MCPPROXY_DATA) return resolve(cwd, env.MCPPROXY_DATA);
  if (flags.demo) return resolve(cwd, '.mcpproxy-demo');
  return join(homedir(), '.mcpproxy');
}

/**
 * The entry file of `@modelcontextprotocol/server-everything`, or `undefined` when it is not installed. It is a
 * runtime dependency of this package, so it is resolved from this module (not the working directory): that finds it
 * in a checkout, in a project that installed `@mcpproxy/cli` with npm, and in a global install alike.
 */
export function everythingEntry(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const entry = join(
      dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
      'dist',
      'index.js',
    );
    return existsSync(entry) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The demo config: loopback on port 8080 and one upstream, `@modelcontextprotocol/server-everything` over stdio,
 * started with this Node binary (no npx, no network) and not quarantined.
 */
export function demoConfig(entry: string): Record<string, unknown> {
  return {
    listen: '127.0.0.1:8080',
    mcpServers: [
      {
        name: 'everything',
        protocol: 'stdio',
        command: process.execPath,
        args: [entry, 'stdio'],
        quarantined: false,
      },
    ],
  };
}

/** Writes the demo config at `path` unless a config is already there. Returns whether it wrote one. */
export async function writeDemoConfig(path: string): Promise<boolean> {
  if (existsSync(path)) return false;
  const entry = everythingEntry();
  if (!entry) {
    throw new ServeError(
      'START_FAILED',
      '--demo needs @modelcontextprotocol/server-everything, a dependency of @mcpproxy/cli, and cannot find it ' +
        `from ${fileURLToPath(import.meta.url)}; reinstall the CLI (npm install -g @mcpproxy/cli, or pnpm install ` +
        'in a checkout), or run without --demo',
    );
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(demoConfig(entry), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return true;
}

/** The lines printed once the server runs: where the API, live events, dashboard and MCP endpoint are. */
export function banner(running: RunningServer): string {
  const config = running.services.config.snapshot();
  const lines = [`mcpproxy ${VERSION} is running (pid ${process.pid})`];
  if (running.address) {
    const { host, port } = running.address;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const authority = `${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
    lines.push(`  API        http://${authority}/api/v1`);
    lines.push(`  Live       ws://${authority}/ws/events`);
    if (config.features.enable_web_ui) lines.push(`  Dashboard  http://${authority}/ui/`);
    lines.push(`  MCP        http://${authority}/mcp`);
    if (config.api_key) lines.push('  API key    required (Authorization: Bearer, X-API-Key or ?apikey=)');
  } else {
    lines.push('  HTTP       off (listen is "")');
  }
  lines.push(`  Config     ${running.configPath}`);
  lines.push(`  Data dir   ${running.dataDir}`);
  lines.push(`  Servers    ${config.mcpServers.length} configured`);
  lines.push('Press Ctrl+C to stop.');
  return `${lines.join('\n')}\n`;
}

/** How long a graceful shutdown may take before the process exits anyway. */
export const FORCE_EXIT_MS = 5_000;

/**
 * Runs `mcpproxy serve`: starts the server, prints the banner, and on SIGINT/SIGTERM closes it and exits 0
 * (exit 1 if the shutdown is still running after 5 s, or on a second signal). Start-up failures exit with their
 * code: 2 port in use, 3 data dir locked, 4 config invalid, 5 permission denied, 1 otherwise.
 */
export async function runServe(flags: ServeFlags, io: ServeIo): Promise<RunningServer | undefined> {
  let running: RunningServer;
  try {
    const dataDir = resolveDataDir(flags, io.env, io.cwd);
    const configPath = flags.config ? resolve(io.cwd, flags.config) : undefined;
    if (flags.demo) {
      const path = configPath ?? join(dataDir, 'mcp_config.json');
      if (await writeDemoConfig(path)) io.stderr.write(`mcpproxy: wrote the demo config ${path}\n`);
    }
    // With --stdio the desktop client talks over stdin/stdout; HTTP stays off unless asked for.
    const listen = flags.stdio ? (flags.listen ?? '') : flags.listen;
    running = await serve({ dataDir, configPath, listen, env: io.env });
  } catch (error) {
    io.stderr.write(`mcpproxy: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof ServeError && error.issues && error.issues.length > 0) {
      io.stderr.write(`${formatValidationIssues(error.issues)}\n`);
    }
    io.exit(exitCodeOf(error));
    return undefined;
  }

  io.stderr.write(banner(running));

  let stopping = false;
  let off = () => {};
  const shutdown = (why: string) => {
    stopping = true;
    io.stderr.write(`mcpproxy: ${why}, shutting down\n`);
    const force = setTimeout(() => {
      io.stderr.write('mcpproxy: shutdown took too long, exiting\n');
      io.exit(EXIT_CODES.ERROR);
    }, FORCE_EXIT_MS);
    force.unref();
    void running.close().then(() => {
      clearTimeout(force);
      off();
      io.exit(EXIT_CODES.OK);
    });
  };
  off = io.onSignal((signal) => {
    if (stopping) {
      io.stderr.write(`mcpproxy: ${signal} again, exiting now\n`);
      io.exit(EXIT_CODES.ERROR);
      return;
    }
    shutdown(signal);
  });

  if (flags.stdio) {
    // stdout carries nothing but JSON-RPC; the banner and logs are on stderr. The client closing stdin ends the run.
    const { management, bus, config, logger } = running.services;
    const stdio = await serveStdio({
      management,
      bus,
      config,
      logger,
      stdin: io.stdin ?? process.stdin,
      stdout: io.stdout ?? process.stdout,
      version: VERSION,
    });
    void stdio.closed.then(() => {
      if (!stopping) shutdown('stdin closed');
    });
  }
  return running;
}

/** The process's own surroundings. */
export function processIo(): ServeIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stderr: process.stderr,
    exit: (code) => process.exit(code),
    onSignal(handler) {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

/** The `serve` command (also the default command). */
export function serveCommand(io: () => ServeIo = processIo): Command {
  return new Command('serve')
    .description('run the proxy: REST API, live events, dashboard and MCP endpoints')
    .option('-c, --config <path>', 'config file (default: <data dir>/mcp_config.json)')
    .option('-l, --listen <host:port>', 'listen address, e.g. 127.0.0.1:8080 ("" = no HTTP)')
    .option('--data-dir <dir>', 'data dir (default: $MCPPROXY_DATA or ~/.mcpproxy)')
    .option('--demo', 'run the demo: ./.mcpproxy-demo with @modelcontextprotocol/server-everything as upstream')
    .option(
      '--stdio',
      'serve the /mcp tool set over stdin/stdout for desktop MCP clients (logs on stderr; HTTP off unless --listen)',
    )
    .action(async (flags: ServeFlags) => {
      await runServe(flags, io());
    });
}
