/** Every way the activity log refuses or fails. */
export type ActivityErrorCode =
  /** A filter, limit or stats option is malformed; `field` names it. */
  | 'ACTIVITY_INVALID_QUERY'
  /** A pagination cursor is not one this log issued; `field` is `cursor`. */
  | 'ACTIVITY_INVALID_CURSOR'
  /** An option of `createActivityLog` is out of range; `field` names it. */
  | 'ACTIVITY_INVALID_OPTIONS'
  /** The database could not be opened, or its schema is newer than this code knows. */
  | 'ACTIVITY_OPEN_FAILED'
  /** The log was used after `close()`. */
  | 'ACTIVITY_CLOSED';

/** The one error class of `@mcpproxy/activity`; callers switch on `code`, never on the message. */
export class ActivityError extends Error {
  /** The input field at fault (`server`, `cursor`, `limit`, …), when there is one. */
  readonly field: string | undefined;

  constructor(
    readonly code: ActivityErrorCode,
    message: string,
    options?: { field?: string | undefined; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ActivityError';
    this.field = options?.field;
  }
}
