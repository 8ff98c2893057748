import { z } from 'zod';

/** HTTP status of every API error code (docs/rest.md). */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN_ORIGIN: 403,
  READ_ONLY: 403,
  MANAGEMENT_DISABLED: 403,
  /** A person's operation (approve, unquarantine, …) tried by an agent over MCP. */
  HUMAN_ONLY: 403,
  /** A tool that is pending, changed or flagged by the scanner until a person approves it. */
  TOOL_BLOCKED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_CONFIG: 422,
  INTERNAL: 500,
  CIRCUIT_OPEN: 503,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
} as const;

/** The closed set of API error codes. */
export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];
export const ErrorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]);

/** RFC 9457 problem details with mcpproxy's `code`. */
export const ProblemSchema = z.object({
  type: z.string().default('about:blank'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: ErrorCodeSchema,
  request_id: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), rule: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;

/** The HTTP status for an error code. */
export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}
