import { ClientError } from '@mcpproxy/client';
import { EXIT_CODES, type ExitCode } from '@mcpproxy/contracts';

export { EXIT_CODES, type ExitCode };

/** Why a management command failed on the CLI's side (before or besides any server answer). */
export type CliErrorCode = 'USAGE' | 'CONFIG_INVALID' | 'PERMISSION_DENIED' | 'FAILED' | 'NOT_A_TTY';

const EXIT_OF: Record<CliErrorCode, ExitCode> = {
  USAGE: EXIT_CODES.ERROR,
  CONFIG_INVALID: EXIT_CODES.CONFIG_INVALID,
  PERMISSION_DENIED: EXIT_CODES.PERMISSION_DENIED,
  FAILED: EXIT_CODES.ERROR,
  NOT_A_TTY: EXIT_CODES.ERROR,
};

/** A failure the CLI reports itself, with what to do next. */
export class CliError extends Error {
  /** What the user should do next, shown under the message. */
  readonly hint: string | undefined;

  constructor(
    readonly code: CliErrorCode,
    message: string,
    options: { hint?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.hint = options.hint;
  }

  /** The process exit code (docs/cli.md). */
  get exitCode(): ExitCode {
    return EXIT_OF[this.code];
  }
}

/** What to print and which exit code to use for any error a command throws. */
export interface Explained {
  message: string;
  hint: string | undefined;
  details: string[];
  exitCode: ExitCode;
}

const START_HINT = 'is the server running? start it with `mcpproxy serve`, or point at it with --url / MCPPROXY_URL';

/**
 * Maps an error to a message, a next step and an exit code: 0 ok, 1 error, 2 port in use, 3 data dir locked,
 * 4 config error, 5 permission denied (a refused key, a read-only or management-disabled server, a file the user
 * may not write).
 */
export function explain(error: unknown, url?: string): Explained {
  if (error instanceof CliError) {
    return { message: error.message, hint: error.hint, details: [], exitCode: error.exitCode };
  }
  if (error instanceof ClientError) {
    const details = (error.issues ?? []).map((i) => `${i.path || '(root)'}: ${i.message} [${i.rule}]`);
    const at = url ? ` at ${url}` : '';
    switch (error.code) {
      case 'UNREACHABLE':
        return { message: `cannot reach mcpproxy${at}`, hint: START_HINT, details, exitCode: EXIT_CODES.ERROR };
      case 'TIMEOUT':
        return {
          message: `mcpproxy${at} did not answer in time`,
          hint: 'check the server log; a tool call may take up to call_tool_timeout',
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      case 'UNAUTHORIZED':
        return {
          message: `the server refused the API key (${error.detail})`,
          hint: 'pass the key with --api-key or MCPPROXY_API_KEY (it is api_key in the server config)',
          details,
          exitCode: EXIT_CODES.PERMISSION_DENIED,
        };
      case 'READ_ONLY':
      case 'MANAGEMENT_DISABLED':
        return {
          message: error.detail,
          hint: `the server has ${error.code === 'READ_ONLY' ? 'read_only_mode' : 'disable_management'} on; turn it off in its config to make changes`,
          details,
          exitCode: EXIT_CODES.PERMISSION_DENIED,
        };
      case 'FORBIDDEN_ORIGIN':
      case 'HUMAN_ONLY':
        return { message: error.detail, hint: undefined, details, exitCode: EXIT_CODES.PERMISSION_DENIED };
      case 'NOT_FOUND':
        return {
          message: error.request ? `${error.detail} (${error.request})` : error.detail,
          hint: 'see the servers with `mcpproxy upstream list`',
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      case 'INVALID_CONFIG':
        return {
          message: error.detail,
          hint: 'fix the config (check it with `mcpproxy config validate`)',
          details,
          exitCode: EXIT_CODES.CONFIG_INVALID,
        };
      case 'TOOL_BLOCKED':
        return {
          message: error.detail,
          hint: 'review the tool with `mcpproxy upstream tools SERVER`, then `mcpproxy upstream approve SERVER TOOL`',
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      case 'CIRCUIT_OPEN':
      case 'UPSTREAM_UNAVAILABLE':
        return {
          message: error.detail,
          hint: 'see why with `mcpproxy doctor`; `mcpproxy upstream restart SERVER` retries now',
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      case 'CONFLICT':
        return {
          message: error.detail,
          hint: 'see the current state with `mcpproxy upstream list`',
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      case 'BAD_REQUEST':
      case 'PAYLOAD_TOO_LARGE':
        return {
          message: error.detail,
          hint: 'check the arguments against the command’s --help',
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      case 'UPSTREAM_TIMEOUT':
        return {
          message: error.detail,
          hint: 'the upstream did not answer within call_tool_timeout; check it with `mcpproxy doctor`',
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      case 'BAD_RESPONSE':
        return {
          message: `${error.message}`,
          hint: `is ${url ?? 'the URL'} an mcpproxy of the same version as this CLI? (\`mcpproxy status\`)`,
          details,
          exitCode: EXIT_CODES.ERROR,
        };
      default:
        return {
          message: error.detail,
          hint: `see the server's log${error.requestId ? ` for request ${error.requestId}` : ''}`,
          details,
          exitCode: EXIT_CODES.ERROR,
        };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    message,
    hint: 'this looks like a bug in mcpproxy; please report it with the command you ran',
    details: [],
    exitCode: EXIT_CODES.ERROR,
  };
}
