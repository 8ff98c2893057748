export type {
  CallHandler,
  FakeConnectionOptions,
  ManualConnect,
  ScriptedConnector,
  ScriptedConnectorOptions,
  ServerScript,
  Step,
  StepInput,
} from './connector.js';
export {
  createScriptedConnector,
  echoCall,
  echoTool,
  FakeConnection,
  manual,
  sumTool,
} from './connector.js';
export type { EventRecorder, ReadableEventStream, RecordEventsOptions, SubscribableBus } from './events.js';
export { nextEvent, recordEvents } from './events.js';
export type { EverythingHttp, EverythingHttpOptions } from './everything.js';
export { everythingEntry, freePort, startEverythingHttp } from './everything.js';
export type { FixtureName } from './fixtures.js';
export { fixturePath } from './fixtures.js';
export { serverSummary } from './summary.js';
export type { UntilOptions, WaitForOptions, WaitList } from './wait.js';
export { createWaitList, flush, rejectionOf, waitFor, withTimeout } from './wait.js';
