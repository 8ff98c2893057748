export type { ToolField } from './fields.js';
export { TOOL_FIELDS } from './fields.js';
export { domainWords, relatedWords } from './lexicon.js';
export { analyze, STOP_WORDS, stem, tokenize } from './tokenize.js';
export type { SearchOptions, ToolHit, ToolIndex, ToolIndexOptions } from './tool-index.js';
export { createToolIndex, DEFAULT_BOOST, DEFAULT_LIMIT, MAX_LIMIT } from './tool-index.js';
export { valueKinds } from './values.js';
