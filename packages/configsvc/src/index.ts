export type { ConfigErrorOptions, JsonLocation } from './errors.js';
export { ConfigError } from './errors.js';
export { createConfigService } from './service.js';
export type { ConfigErrorCode, ConfigRecipe, ConfigService, ConfigServiceOptions } from './types.js';
