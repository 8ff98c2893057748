export type { EventBus, EventBusOptions, Listener, StreamOptions, Unsubscribe } from './bus.js';
export { createEventBus } from './bus.js';
export type { EventStream } from './stream.js';
