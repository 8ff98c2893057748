export type { Reducer, Reducers } from './reducers.js';
export { initialState, reduce, reducers } from './reducers.js';
export { makeSummary } from './summary.js';
export type { StateListener, StateSnapshot, StateView, StateViewOptions, ViewState } from './types.js';
export { createStateView } from './view.js';
