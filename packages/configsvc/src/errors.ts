import type { ValidationIssue } from '@mcpproxy/contracts';
import type { ConfigErrorCode } from './types.js';

/** Where malformed JSON broke; line and column are 1-based. */
export interface JsonLocation {
  line: number;
  column: number;
}

export interface ConfigErrorOptions {
  /** The underlying error (an errno error for read/write failures). @default none */
  cause?: unknown;
  /** For `INVALID_CONFIG`: each broken rule with its JSON path. @default none */
  issues?: readonly ValidationIssue[] | undefined;
  /** For malformed JSON: where the parser stopped. @default none */
  location?: JsonLocation | undefined;
}

/**
 * The one error `@mcpproxy/configsvc` throws. Match on `code`, never on the message.
 *
 * | code | when |
 * |---|---|
 * | `INVALID_CONFIG` | the file, an override or an `apply()` result does not validate (see `issues`), or the JSON is malformed (see `location`) |
 * | `CONFLICT` | the file changed on disk since it was last read or written; nothing was written |
 * | `READ_ONLY` | `assertWritable()` while `read_only_mode` is on |
 * | `MANAGEMENT_DISABLED` | `assertWritable('management')` while `disable_management` is on |
 * | `CONFIG_WRITE_FAILED` | the atomic save failed (disk full, permissions, …); the old file is intact |
 * | `CONFIG_READ_FAILED` | the file or its directory cannot be read (`cause` holds the `EACCES`, …) |
 * | `CLOSED` | `apply()` or `reload()` after `close()` |
 */
export class ConfigError extends Error {
  readonly issues: readonly ValidationIssue[] | undefined;
  readonly location: JsonLocation | undefined;

  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    { cause, issues, location }: ConfigErrorOptions = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ConfigError';
    this.issues = issues;
    this.location = location;
  }
}
