export type { ClientErrorCode, ClientIssue } from './errors.js';
export { ClientError } from './errors.js';
