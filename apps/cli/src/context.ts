import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRestClient, type RestClient } from '@mcpproxy/client';
import { parseListen } from '@mcpproxy/contracts';
import { Command, Option } from 'commander';
import { CliError, explain } from './cli-error.js';
import { type Io, processIo } from './output.js';

/** Flags every management command takes. */
export interface TargetFlags {
  /** `--url`: the server (beats `MCPPROXY_URL` and the config file). */
  url?: string | undefined;
  /** `--api-key` (beats `MCPPROXY_API_KEY` and the config file). */
  apiKey?: string | undefined;
  /** `-c, --config`: the config file to read `listen` and `api_key` from. */
  config?: string | undefined;
  /** `-o, --output`. */
  output: 'table' | 'json';
}

/** Where the server is and how to authenticate, with where each came from (for error messages). */
export interface Target {
  url: string;
  apiKey: string | undefined;
  /** Where `url` came from: `--url`, `MCPPROXY_URL`, the config file's path, or `default`. */
  urlSource: string;
}

/** The default server when nothing says otherwise (`listen`'s default, docs/configuration.md). */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The config file: `-c`, else `$MCPPROXY_DATA/mcp_config.json`, else `~/.mcpproxy/mcp_config.json`. */
export function configPathOf(flags: { config?: string | undefined }, env: Io['env'], cwd = process.cwd()): string {
  if (flags.config) return resolve(cwd, flags.config);
  if (env.MCPPROXY_DATA) return join(resolve(cwd, env.MCPPROXY_DATA), 'mcp_config.json');
  return join(homedir(), '.mcpproxy', 'mcp_config.json');
}

/** Reads a text file: `undefined` when it does not exist; a `PERMISSION_DENIED` or `FAILED` error otherwise. */
export function readTextFile(
  path: string,
  hint = 'run as the user who owns it, or pass another file with -c',
): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CliError('PERMISSION_DENIED', `cannot read ${path}: permission denied`, { hint });
    }
    throw new CliError('FAILED', `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Reads a JSON config file: `undefined` when it does not exist; a `CONFIG_INVALID` error when it is not JSON. */
export function readJsonFile(path: string): Record<string, unknown> | undefined {
  const text = readTextFile(path);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new CliError('CONFIG_INVALID', `${path} is not valid JSON: ${(error as Error).message}`, {
      hint: 'fix the file (check it with `mcpproxy config validate`), or pass --url and --api-key',
    });
  }
}

/** `http://HOST:PORT` of a `listen` value; wildcard hosts become loopback. */
export function urlOfListen(listen: string): string {
  const parsed = parseListen(listen);
  if (!parsed) throw new TypeError(`invalid listen "${listen}"`);
  const { host, port } = parsed;
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * The server URL and key, each from the flag, else the environment (`MCPPROXY_URL`, `MCPPROXY_API_KEY`), else the
 * config file (`listen`, with `MCPPROXY_LISTEN` over it as the server itself reads it; `api_key`).
 */
export function resolveTarget(flags: TargetFlags, env: Io['env']): Target {
  const needFile = !(flags.url || env.MCPPROXY_URL) || !(flags.apiKey || env.MCPPROXY_API_KEY);
  const path = configPathOf(flags, env);
  const file = needFile ? readJsonFile(path) : undefined;
  if (flags.config && needFile && !file) {
    throw new CliError('CONFIG_INVALID', `no config file at ${path}`, { hint: 'check the path given with -c' });
  }

  let url: string;
  let urlSource: string;
  if (flags.url) [url, urlSource] = [flags.url, '--url'];
  else if (env.MCPPROXY_URL) [url, urlSource] = [env.MCPPROXY_URL, 'MCPPROXY_URL'];
  else {
    const listen = env.MCPPROXY_LISTEN ?? (typeof file?.listen === 'string' ? file.listen : undefined);
    if (listen === '') {
      throw new CliError('USAGE', `the server's listen is "" (${path}): it serves no HTTP API`, {
        hint: 'give it a listen address, or pass --url',
      });
    }
    try {
      [url, urlSource] = listen ? [urlOfListen(listen), path] : [DEFAULT_URL, 'default'];
    } catch {
      throw new CliError('CONFIG_INVALID', `invalid listen "${listen}" in ${path}`, {
        hint: 'use HOST:PORT, e.g. 127.0.0.1:8080, or pass --url',
      });
    }
  }
  if (!/^https?:\/\//i.test(url)) {
    throw new CliError('USAGE', `the server URL "${url}" (${urlSource}) is not http:// or https://`, {
      hint: 'e.g. --url http://127.0.0.1:8080',
    });
  }
  const apiKey =
    flags.apiKey ||
    env.MCPPROXY_API_KEY ||
    (typeof file?.api_key === 'string' && file.api_key ? file.api_key : undefined);
  return { url, apiKey, urlSource };
}

/** Adds `--url`, `--api-key`, `-c` and `-o` to a command. */
export function withTarget(command: Command): Command {
  return command
    .showHelpAfterError('(add --help to the command for its options and examples)')
    .option(
      '--url <url>',
      'server URL (default: $MCPPROXY_URL, else listen of the config file, else http://127.0.0.1:8080)',
    )
    .option('--api-key <key>', 'API key (default: $MCPPROXY_API_KEY, else api_key of the config file)')
    .option('-c, --config <path>', 'config file to read listen and api_key from (default: <data dir>/mcp_config.json)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'));
}

/** What a command's action gets. */
export interface Context {
  io: Io;
  flags: TargetFlags;
  /** Whether `-o` was given (rather than defaulted). */
  outputGiven: boolean;
  /** Resolves the target and makes the REST client (lazily: `config validate` needs neither). */
  api(): RestClient;
  target(): Target;
  /** Writes a table or JSON, as `-o` says. */
  print(table: () => string, json: unknown): void;
}

/** Makes a {@link Context} for the flags. */
export function createContext(flags: TargetFlags, io: Io = processIo(), outputGiven = false): Context {
  let target: Target | undefined;
  let api: RestClient | undefined;
  const ctx: Context = {
    io,
    flags,
    outputGiven,
    target: () => {
      target ??= resolveTarget(flags, io.env);
      return target;
    },
    api: () => {
      const t = ctx.target();
      // `clientName: 'cli'` marks this process's calls and actions as the CLI's in the activity log.
      api ??= createRestClient({ url: t.url, apiKey: t.apiKey, clientName: 'cli' });
      return api;
    },
    print(table, json) {
      io.stdout.write(flags.output === 'json' ? `${JSON.stringify(json, null, 2)}\n` : table());
    },
  };
  return ctx;
}

/**
 * Wraps a command action: builds the context from the command's options (its own and its parents'), runs the
 * action, and turns any error into a message with the next step and the exit code of docs/cli.md.
 */
export function action<A extends unknown[]>(
  run: (ctx: Context, ...args: A) => Promise<number | undefined> | number | undefined,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const flags = command.optsWithGlobals() as TargetFlags;
    const ctx = createContext(flags, processIo(), command.getOptionValueSource('output') === 'cli');
    let code: number | undefined;
    try {
      code = await run(ctx, ...(args.slice(0, -2) as A));
    } catch (error) {
      let url: string | undefined;
      try {
        url = ctx.target().url;
      } catch {
        url = undefined;
      }
      const explained = explain(error, url);
      ctx.io.stderr.write(`mcpproxy: ${explained.message}\n`);
      for (const detail of explained.details) ctx.io.stderr.write(`  ${detail}\n`);
      if (explained.hint) ctx.io.stderr.write(`  → ${explained.hint}\n`);
      code = explained.exitCode;
    }
    process.exitCode = code ?? 0;
  };
}

/** Appends an "Examples:" block to a command's help. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

export { Command };
