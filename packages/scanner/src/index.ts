export type {
  ScanCheck,
  ScanCoverageGap,
  ScanFinding,
  ScanSeverity,
  ScanThreat,
  ScanTier,
  ScanVerdict,
  ToolScanResult,
} from '@mcpproxy/contracts';
export { capabilityMismatchCheck } from './checks/capability-mismatch.js';
export { directiveCheck } from './checks/directive.js';
export { embeddedSecretCheck } from './checks/embedded-secret.js';
export { encodedPayloadCheck } from './checks/encoded-payload.js';
export { hiddenUnicodeCheck } from './checks/hidden-unicode.js';
export { shadowingCheck } from './checks/shadowing.js';
export type { ContextTool, ScanContext, ServerTools } from './context.js';
export { createScanContext } from './context.js';
export { DEFAULT_LIMITS, extractTool } from './extract.js';
export type { BlockOn, ScanServerOptions, ScanToolOptions, ServerScanResult } from './scan.js';
export { DEFAULT_CHECKS, scanServer, scanServers, scanTool } from './scan.js';
export { fold, renderSafe } from './text.js';
export type {
  Check,
  CheckInput,
  FieldKind,
  ParamView,
  RawFinding,
  ScanLimits,
  ScannableTool,
  TextField,
  ToolView,
} from './types.js';
