/** The management writes; reads, `searchTools` and `callTool` are never gated and so are not listed. */
export type OperationName =
  | 'addServer'
  | 'updateServer'
  | 'removeServer'
  | 'enableServer'
  | 'disableServer'
  | 'quarantineServer'
  | 'unquarantineServer'
  | 'enableAll'
  | 'disableAll'
  | 'restartServer'
  | 'restartAll'
  | 'approveTools';

/**
 * Which gate a write passes. `config`: `assertWritable('config')` then `assertWritable('management')`, so both
 * `read_only_mode` (`READ_ONLY`) and `disable_management` (`MANAGEMENT_DISABLED`) refuse it. `management`:
 * `assertWritable('management')` only, which also refuses in read-only mode (`READ_ONLY`).
 */
export type OperationGate = 'config' | 'management';

/** How one write is guarded. */
export interface OperationRule {
  /** The gate it passes before anything else happens. */
  readonly gate: OperationGate;
  /** Refused for `source: 'mcp'` callers (agents) with `HUMAN_ONLY`. */
  readonly humanOnly: boolean;
}

const config = (humanOnly = false): OperationRule => Object.freeze({ gate: 'config', humanOnly });
const management = (humanOnly = false): OperationRule => Object.freeze({ gate: 'management', humanOnly });

/**
 * The rule table every write goes through, in one place so the server can also hide what a gate forbids
 * (docs/mcp.md: management tools are not listed when a gate forbids them).
 */
export const OPERATION_RULES: Readonly<Record<OperationName, OperationRule>> = Object.freeze({
  addServer: config(),
  updateServer: config(),
  removeServer: config(),
  enableServer: config(),
  disableServer: config(),
  quarantineServer: config(),
  unquarantineServer: config(true),
  enableAll: config(),
  disableAll: config(),
  restartServer: management(),
  restartAll: management(),
  approveTools: management(true),
});
