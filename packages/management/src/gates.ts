import type { Core } from './core.js';
import { ManagementError, toManagementError } from './errors.js';
import { OPERATION_RULES, type OperationName } from './rules.js';
import type { Caller } from './types.js';

/** What the human-only refusal calls each operation. */
const HUMAN_ONLY_WORDS: Partial<Record<OperationName, string>> = {
  unquarantineServer: 'unquarantining a server',
  approveTools: 'approving tools',
};

/** The checks every write passes, and the wrapper that runs a write. */
export interface Gates {
  /** Throws unless `caller` may run `operation` now: service open, human-only rule, then the operation's gate. */
  guard(operation: OperationName, caller: Caller): void;
  /** Runs one write: guard, the work, one log line; every failure becomes a ManagementError. */
  run<T>(operation: OperationName, caller: Caller, server: string | undefined, work: () => Promise<T>): Promise<T>;
}

/** The gates of one service, over its config service's `assertWritable`. */
export function createGates(core: Core): Gates {
  const { config, logger } = core;
  const passGate = (operation: OperationName) => {
    const { gate } = OPERATION_RULES[operation];
    if (gate === 'config') config.assertWritable('config');
    config.assertWritable('management');
  };

  const guard = (operation: OperationName, caller: Caller) => {
    if (core.closed) throw new ManagementError('INTERNAL', 'the management service is closed');
    if (OPERATION_RULES[operation].humanOnly && caller.source === 'mcp') {
      throw new ManagementError(
        'HUMAN_ONLY',
        `${HUMAN_ONLY_WORDS[operation] ?? operation} is human-only: use the REST API, the CLI or the dashboard`,
      );
    }
    passGate(operation);
  };

  return {
    guard,
    async run(operation, caller, server, work) {
      const fields = { operation, server, source: caller.source, request_id: caller.requestId };
      try {
        guard(operation, caller);
        const result = await work();
        logger.info('management: operation done', fields);
        return result;
      } catch (error) {
        const err = toManagementError(error);
        logger.info('management: operation refused or failed', { ...fields, code: err.code });
        throw err;
      }
    },
  };
}
