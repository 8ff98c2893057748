import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoConfig, everythingEntry, resolveDataDir } from '../src/serve-command.js';

describe('serve command helpers', () => {
  it('resolves the data dir: --data-dir, then MCPPROXY_DATA, then ./.mcpproxy-demo with --demo, then ~/.mcpproxy', () => {
    expect(resolveDataDir({ dataDir: 'd', demo: true }, { MCPPROXY_DATA: '/env' }, '/cwd')).toBe('/cwd/d');
    expect(resolveDataDir({ demo: true }, { MCPPROXY_DATA: '/env' }, '/cwd')).toBe('/env');
    expect(resolveDataDir({ demo: true }, {}, '/cwd')).toBe('/cwd/.mcpproxy-demo');
    expect(resolveDataDir({}, {}, '/cwd')).toBe(join(homedir(), '.mcpproxy'));
  });

  it('builds the demo config around the installed server-everything, started with this Node binary', () => {
    const entry = everythingEntry();
    expect(entry).toMatch(/server-everything[/\\]dist[/\\]index\.js$/);
    expect(demoConfig(entry as string)).toEqual({
      listen: '127.0.0.1:8080',
      mcpServers: [
        {
          name: 'everything',
          protocol: 'stdio',
          command: process.execPath,
          args: [entry, 'stdio'],
          quarantined: false,
        },
      ],
    });
  });
});
