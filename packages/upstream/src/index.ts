export type { Connection } from './connection.js';
export type { ClientInfo, Connector, ConnectorOptions } from './connector.js';
export { createConnector } from './connector.js';
export type { HashedTool } from './hash.js';
export { toolHash } from './hash.js';
export { plainJsonRpcMessage } from './jsonrpc.js';
export { INHERITED_ENV_KEYS } from './stdio.js';
export type { OpenTransportOptions, UpstreamTransport } from './transport.js';
export { openTransport } from './transport.js';
