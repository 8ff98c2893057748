import pkg from '../package.json' with { type: 'json' };

/** The version of mcpproxy, from the server package's package.json. */
export const VERSION: string = pkg.version;
