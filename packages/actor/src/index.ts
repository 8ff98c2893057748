export { createServerActor } from './actor.js';
export type { ApprovalsStore } from './approvals.js';
export { createMemoryApprovals } from './approvals.js';
export type { ApprovalReason, ToolAssessment, ToolAssessor, ToolVerdict } from './catalog.js';
export type { ReconcileReport } from './changes.js';
export { configChanges } from './changes.js';
export type { ActorErrorCode } from './errors.js';
export { ACTOR_API_CODES, ActorError } from './errors.js';
export { toolHash } from './hash.js';
export { backoffDelay } from './retry.js';
export type { ActorConfig, ActorSettings } from './settings.js';
export { actorSettings, connectionChanged, DEFAULT_ACTOR_SETTINGS } from './settings.js';
export type { ConfigSource, Supervisor, SupervisorCloseOptions, SupervisorOptions } from './supervisor.js';
export { createSupervisor } from './supervisor.js';
export type {
  ActorCommand,
  ActorFailureCode,
  ActorHealth,
  CallOutcome,
  CallPermit,
  ServerActor,
  ServerActorOptions,
  ToolCallOptions,
} from './types.js';
