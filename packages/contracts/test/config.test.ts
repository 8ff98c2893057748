import { describe, expect, it } from 'vitest';
import {
  type Config,
  defaultConfig,
  formatPath,
  formatValidationIssues,
  isLoopbackHost,
  parseConfig,
  parseListen,
  toFileConfig,
} from '../src/index.js';

function ok(input: unknown): Config {
  const r = parseConfig(input);
  if (!r.ok) throw new Error(formatValidationIssues(r.issues));
  return r.value;
}

function issues(input: unknown) {
  const r = parseConfig(input);
  if (r.ok) throw new Error('expected the config to be invalid');
  return r.issues;
}

describe('parseConfig', () => {
  it('applies every documented default (docs/configuration.md) to an empty object', () => {
    const c = ok({});
    expect(c.listen).toBe('127.0.0.1:8080');
    expect(c.api_key).toBeUndefined();
    expect(c.quarantine_enabled).toBe(true);
    expect(c.tools_limit).toBe(15);
    expect(c.call_tool_timeout).toBe(120_000);
    expect(c.init_timeout).toBe(30_000);
    expect(c.health_check_interval).toBe(30_000);
    expect(c.tool_discovery_interval).toBe(300_000);
    expect(c.features).toEqual({
      enable_observability: true,
      enable_health_checks: true,
      enable_metrics: true,
      enable_tracing: false,
      enable_web_ui: true,
      enable_search: true,
    });
    expect(c.retry).toEqual({ initial_delay: 1000, max_delay: 60_000, max_retries: 10 });
    expect(c.circuit_breaker).toEqual({ failure_threshold: 5, reset_timeout: 30_000 });
    expect(c.events).toEqual({
      send_buffer: 256,
      max_buffered_bytes: 1_048_576,
      ping_interval: 54_000,
      pong_timeout: 60_000,
      max_message_size: 524_288,
      replay_buffer: 1024,
      batch_window: 0,
      permessage_deflate: false,
    });
    expect(c.mcpServers).toEqual([]);
  });

  it('parses durations given as strings or integer milliseconds', () => {
    const c = ok({
      call_tool_timeout: '500ms',
      init_timeout: '2m',
      health_check_interval: 1500,
      retry: { max_delay: '1h' },
    });
    expect(c.call_tool_timeout).toBe(500);
    expect(c.init_timeout).toBe(120_000);
    expect(c.health_check_interval).toBe(1500);
    expect(c.retry.max_delay).toBe(3_600_000);
    expect(c.retry.initial_delay).toBe(1000);
  });

  it('names the path and the rule of a bad duration', () => {
    expect(issues({ retry: { initial_delay: 'soon' } })).toEqual([
      expect.objectContaining({
        path: 'retry.initial_delay',
        rule: 'duration',
        message: expect.stringContaining('"soon"'),
      }),
    ]);
  });

  it('normalises the array form and fills per-server defaults', () => {
    const c = ok({ mcpServers: [{ name: 'everything', command: 'node', args: ['x.js'] }] });
    expect(c.mcpServers).toEqual([
      {
        name: 'everything',
        protocol: 'auto',
        command: 'node',
        args: ['x.js'],
        env: {},
        headers: {},
        enabled: true,
        quarantined: false,
        groups: [],
      },
    ]);
  });

  it('normalises the Claude-Desktop object form to an array named by key', () => {
    const c = ok({
      mcpServers: {
        github: { command: 'npx', args: ['-y', 'gh'], env: { TOKEN: 'x' } },
        remote: { url: 'https://example.com/mcp', headers: { Authorization: 'Bearer y' }, init_timeout: '10s' },
      },
    });
    expect(c.mcpServers.map((s) => [s.name, s.protocol, s.init_timeout])).toEqual([
      ['github', 'auto', undefined],
      ['remote', 'auto', 10_000],
    ]);
  });

  it('names mcpServers[2].name and the rule for a bad server name', () => {
    const found = issues({
      mcpServers: [
        { name: 'a', command: 'x' },
        { name: 'b', command: 'x' },
        { name: 'bad:name', command: 'x' },
      ],
    });
    expect(found).toEqual([expect.objectContaining({ path: 'mcpServers[2].name', rule: 'invalid_format' })]);
  });

  it('refuses "__" in a name, names over 64 characters and bad keys in the object form', () => {
    expect(issues({ mcpServers: [{ name: 'a__b', command: 'x' }] })[0]).toMatchObject({ path: 'mcpServers[0].name' });
    expect(issues({ mcpServers: [{ name: 'x'.repeat(65), command: 'x' }] })[0]).toMatchObject({
      path: 'mcpServers[0].name',
    });
    expect(issues({ mcpServers: { 'no spaces': { command: 'x' } } })[0]).toMatchObject({
      path: 'mcpServers["no spaces"]',
      rule: 'server_name',
    });
  });

  it('refuses duplicate server names, naming the second one', () => {
    expect(
      issues({
        mcpServers: [
          { name: 'a', command: 'x' },
          { name: 'a', command: 'y' },
        ],
      }),
    ).toEqual([expect.objectContaining({ path: 'mcpServers[1].name', rule: 'unique_name' })]);
  });

  it('requires a command for stdio, a url for http/sse, and one of them for auto', () => {
    expect(issues({ mcpServers: [{ name: 'a', protocol: 'stdio' }] })[0]).toMatchObject({
      path: 'mcpServers[0].command',
    });
    expect(issues({ mcpServers: [{ name: 'a', protocol: 'sse' }] })[0]).toMatchObject({ path: 'mcpServers[0].url' });
    expect(issues({ mcpServers: [{ name: 'a' }] })[0]).toMatchObject({ path: 'mcpServers[0].command' });
    expect(issues({ mcpServers: [{ name: 'a', url: 'ftp://x' }] })[0]).toMatchObject({ path: 'mcpServers[0].url' });
  });

  it('refuses enabled_tools together with disabled_tools', () => {
    expect(
      issues({ mcpServers: [{ name: 'a', command: 'x', enabled_tools: ['t'], disabled_tools: ['u'] }] })[0],
    ).toMatchObject({ path: 'mcpServers[0].disabled_tools' });
  });

  it('refuses a child feature that is on while enable_observability is off', () => {
    expect(issues({ features: { enable_observability: false } }).map((i) => i.path)).toEqual([
      'features.enable_health_checks',
      'features.enable_metrics',
    ]);
    expect(
      ok({ features: { enable_observability: false, enable_health_checks: false, enable_metrics: false } }).features
        .enable_tracing,
    ).toBe(false);
  });

  it('reports unknown keys by name so typos do not pass silently', () => {
    expect(issues({ quarantine_enable: false })).toEqual([
      expect.objectContaining({ path: '', rule: 'unrecognized_keys', message: 'unknown key(s): quarantine_enable' }),
    ]);
    expect(issues({ mcpServers: [{ name: 'a', command: 'x', cmd: 'y' }] })[0]).toMatchObject({ path: 'mcpServers[0]' });
  });

  it('bounds tools_limit to 1–100 and validates listen', () => {
    expect(issues({ tools_limit: 101 })[0]).toMatchObject({ path: 'tools_limit', rule: 'too_big' });
    expect(issues({ listen: 'localhost' })[0]).toMatchObject({ path: 'listen' });
    expect(ok({ listen: '' }).listen).toBe('');
    expect(ok({ listen: '[::1]:9000' }).listen).toBe('[::1]:9000');
  });

  it('refuses a non-object root with a clear root path', () => {
    expect(issues([])[0]).toMatchObject({ path: '', rule: 'invalid_type' });
  });
});

describe('toFileConfig', () => {
  it('round-trips: parsing the file form gives the same config back', () => {
    const c = ok({
      listen: '127.0.0.1:9000',
      api_key: 'secret-key',
      retry: { initial_delay: '250ms', max_retries: 3 },
      mcpServers: [
        { name: 'a', command: 'node', args: ['x'], groups: ['dev'], init_timeout: '5s', quarantined: true },
        { name: 'b', url: 'http://127.0.0.1:1/mcp', protocol: 'streamable-http', headers: { A: 'b' } },
      ],
    });
    expect(ok(toFileConfig(c))).toEqual(c);
    expect(ok(toFileConfig(c, { serversAsObject: true }))).toEqual(c);
  });

  it('writes only what differs from the defaults, with durations as strings', () => {
    const c = ok({ init_timeout: 45_000, mcpServers: [{ name: 'a', command: 'x' }] });
    expect(toFileConfig(c)).toEqual({
      listen: '127.0.0.1:8080',
      init_timeout: '45s',
      mcpServers: [{ name: 'a', command: 'x' }],
    });
    expect(toFileConfig(defaultConfig())).toEqual({ listen: '127.0.0.1:8080', mcpServers: [] });
  });
});

describe('helpers', () => {
  it('formats paths the way a person reads JSON', () => {
    expect(formatPath(['mcpServers', 2, 'name'])).toBe('mcpServers[2].name');
    expect(formatPath(['mcpServers', 'my server', 'env'])).toBe('mcpServers["my server"].env');
    expect(formatPath([])).toBe('');
  });

  it('splits listen addresses and knows loopback hosts', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen(':8080')).toEqual({ host: '', port: 8080 });
    expect(parseListen('host:70000')).toBeUndefined();
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('')).toBe(false);
  });
});
