/**
 * Every `/api/v1` route the REST client calls, keyed by the client method that calls it. A test reads the server's
 * OpenAPI document and checks that this table and the document list the same (method, path) pairs, so a route
 * added on either side without the other fails the build.
 */
export const REST_ROUTES = {
  status: { method: 'GET', path: '/status' },
  listServers: { method: 'GET', path: '/servers' },
  addServer: { method: 'POST', path: '/servers' },
  getServer: { method: 'GET', path: '/servers/{name}' },
  updateServer: { method: 'PATCH', path: '/servers/{name}' },
  removeServer: { method: 'DELETE', path: '/servers/{name}' },
  enableServer: { method: 'POST', path: '/servers/{name}/enable' },
  disableServer: { method: 'POST', path: '/servers/{name}/disable' },
  restartServer: { method: 'POST', path: '/servers/{name}/restart' },
  quarantineServer: { method: 'POST', path: '/servers/{name}/quarantine' },
  unquarantineServer: { method: 'POST', path: '/servers/{name}/unquarantine' },
  enableAll: { method: 'POST', path: '/servers/enable_all' },
  disableAll: { method: 'POST', path: '/servers/disable_all' },
  restartAll: { method: 'POST', path: '/servers/restart_all' },
  serverTools: { method: 'GET', path: '/servers/{name}/tools' },
  approveTools: { method: 'POST', path: '/servers/{name}/tools/approve' },
  serverHealth: { method: 'GET', path: '/servers/{name}/health' },
  diagnostics: { method: 'GET', path: '/diagnostics' },
  scanServer: { method: 'POST', path: '/servers/{name}/scan' },
  serverPrompts: { method: 'GET', path: '/servers/{name}/prompts' },
  approvePrompts: { method: 'POST', path: '/servers/{name}/prompts/approve' },
  securityFindings: { method: 'GET', path: '/security/findings' },
  searchTools: { method: 'GET', path: '/tools' },
  callTool: { method: 'POST', path: '/tools/call' },
  getConfig: { method: 'GET', path: '/config' },
  validateConfig: { method: 'POST', path: '/config/validate' },
  reloadConfig: { method: 'POST', path: '/config/reload' },
  eventsUrl: { method: 'GET', path: '/events' },
  listActivity: { method: 'GET', path: '/activity' },
  getActivity: { method: 'GET', path: '/activity/{id}' },
  activityStats: { method: 'GET', path: '/activity/stats' },
  exportActivity: { method: 'GET', path: '/activity/export' },
} as const satisfies Record<string, { method: HttpMethod; path: string }>;

/** HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Names of the REST client's route methods. */
export type RestRouteName = keyof typeof REST_ROUTES;

/** Fills `{name}`-style parameters of a route path, URL-encoding each value. */
export function fillPath(path: string, params: Readonly<Record<string, string>> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_match, key: string) => {
    const value = params[key];
    if (value === undefined) throw new TypeError(`missing path parameter "${key}" of ${path}`);
    return encodeURIComponent(value);
  });
}
