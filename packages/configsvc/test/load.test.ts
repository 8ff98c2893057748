import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultConfig, parseConfig } from '@mcpproxy/contracts';
import { rejectionOf } from '@mcpproxy/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, createConfigService } from '../src/index.js';
import { readJson, server, tempDir } from './helpers.js';

let dir: string;
let file: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, file, cleanup } = await tempDir());
});
afterEach(() => cleanup());

const startError = (options: Parameters<typeof createConfigService>[0]) =>
  rejectionOf(createConfigService(options), ConfigError);

describe('loading', () => {
  it('creates a valid default config on first run', async () => {
    const svc = await createConfigService({ path: file, watch: false });
    try {
      const written = parseConfig(await readJson(file));
      if (!written.ok) throw new Error('the written file does not validate');
      expect(written.value).toEqual(defaultConfig());
      expect(svc.snapshot()).toEqual(defaultConfig());
      expect(svc.snapshot().listen).toBe('127.0.0.1:8080');
      expect(svc.snapshot().mcpServers).toEqual([]);
    } finally {
      await svc.close();
    }
  });

  it('creates a missing parent directory with mode 0700 and the file with mode 0600', async () => {
    const nested = join(dir, 'home', '.mcpproxy', 'mcp_config.json');
    const svc = await createConfigService({ path: nested, watch: false });
    await svc.close();
    expect((await stat(join(dir, 'home', '.mcpproxy'))).mode & 0o777).toBe(0o700);
    expect((await stat(nested)).mode & 0o777).toBe(0o600);
  });

  it('loads an existing file and keeps hand-written values', async () => {
    await writeFile(file, JSON.stringify({ tools_limit: 42, mcpServers: [{ name: 'github', command: 'gh' }] }));
    const svc = await createConfigService({ path: file, watch: false });
    await svc.close();
    expect(svc.snapshot().tools_limit).toBe(42);
    expect(svc.snapshot().mcpServers.map((s) => s.name)).toEqual(['github']);
  });

  it('accepts a file without mcpServers as an empty server list', async () => {
    await writeFile(file, JSON.stringify({ listen: '127.0.0.1:9999' }));
    const svc = await createConfigService({ path: file, watch: false });
    await svc.close();
    expect(svc.snapshot().mcpServers).toEqual([]);
    expect(svc.snapshot().listen).toBe('127.0.0.1:9999');
  });

  it('rejects an invalid file at start with the JSON path and the rule of each issue', async () => {
    const servers = [server('a'), server('b'), { name: 'bad:name', command: 'x' }];
    await writeFile(file, JSON.stringify({ tools_limit: 500, mcpServers: servers }));
    const error = await startError({ path: file, watch: false });
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'mcpServers[2].name', rule: 'invalid_format' }),
        expect.objectContaining({ path: 'tools_limit', rule: 'too_big' }),
      ]),
    );
    expect(error.message).toContain('mcpServers[2].name: ');
    expect(error.message).toContain('(invalid_format)');
    expect(error.message).toContain('tools_limit: ');
  });

  it('rejects malformed JSON at start with its line and column', async () => {
    await writeFile(file, '{\n  "listen": "127.0.0.1:8080",\n  "tools_limit": ,\n  "mcpServers": []\n}\n');
    const error = await startError({ path: file, watch: false });
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.location).toEqual({ line: 3, column: 18 });
    expect(error.message).toContain('line 3, column 18');
    expect(error.issues).toEqual([expect.objectContaining({ path: '', rule: 'json_syntax' })]);
  });

  it('never writes over a file it could not load', async () => {
    const broken = '{"mcpServers": [}';
    await writeFile(file, broken);
    await startError({ path: file, watch: false });
    expect(await readFile(file, 'utf8')).toBe(broken);
  });

  it('reports an unreadable config path as CONFIG_READ_FAILED with the cause', async () => {
    await mkdir(file); // a directory where the file should be: readable by nobody as a file, even root
    const error = await startError({ path: file, watch: false });
    expect(error.code).toBe('CONFIG_READ_FAILED');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EISDIR');
  });

  it('sweeps temp files of interrupted saves at start and leaves others alone', async () => {
    const dead = '.mcp_config.json.tmp-2147483646-0a1b2c3d4e5f';
    const live = `.mcp_config.json.tmp-${process.pid}-ffffffffffff`;
    const other = '.other.json.tmp-2147483646-0a1b2c3d4e5f';
    for (const name of [dead, live, other, 'notes.txt']) await writeFile(join(dir, name), '{"half":');
    const svc = await createConfigService({ path: file, watch: false });
    await svc.close();
    const names = await readdir(dir);
    expect(names).not.toContain(dead);
    expect(names).toEqual(expect.arrayContaining([live, other, 'notes.txt', 'mcp_config.json']));
  });

  it('saves through a symlinked config so the link survives', async () => {
    const realDir = join(dir, 'dotfiles');
    await mkdir(realDir);
    const real = join(realDir, 'mcp_config.json');
    await writeFile(real, JSON.stringify({ mcpServers: [] }));
    await symlink(real, file);
    const svc = await createConfigService({ path: file, watch: false });
    await svc.apply((draft) => {
      draft.tools_limit = 33;
    });
    await svc.close();
    expect((await lstat(file)).isSymbolicLink()).toBe(true);
    expect((await readJson(real)).tools_limit).toBe(33);
  });
});

describe('layering: defaults < file < env < flags', () => {
  it('applies env and flag overrides to the snapshot, flags last', async () => {
    await writeFile(file, JSON.stringify({ listen: '127.0.0.1:7000', api_key: 'file-key', mcpServers: [] }));
    const svc = await createConfigService({
      path: file,
      watch: false,
      env: { MCPPROXY_LISTEN: '127.0.0.1:7100', MCPPROXY_API_KEY: 'env-key' },
      overrides: { listen: '127.0.0.1:7200' },
    });
    await svc.close();
    expect(svc.snapshot().listen).toBe('127.0.0.1:7200');
    expect(svc.snapshot().api_key).toBe('env-key');
  });

  it('never writes env or flag overrides to the file', async () => {
    await writeFile(file, JSON.stringify({ listen: '127.0.0.1:7000', mcpServers: [] }));
    const svc = await createConfigService({
      path: file,
      watch: false,
      env: { MCPPROXY_API_KEY: 'env-secret' },
      overrides: { listen: '0.0.0.0:7200' },
    });
    await svc.apply((draft) => {
      draft.mcpServers.push(server('added'));
    });
    await svc.close();
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('env-secret');
    expect((await readJson(file)).listen).toBe('127.0.0.1:7000');
    expect(svc.snapshot().api_key).toBe('env-secret');
    expect(svc.snapshot().mcpServers.map((s) => s.name)).toEqual(['added']);
  });

  it('treats an empty env variable as unset', async () => {
    const svc = await createConfigService({
      path: file,
      watch: false,
      env: { MCPPROXY_API_KEY: '', MCPPROXY_LISTEN: '' },
    });
    await svc.close();
    expect(svc.snapshot().api_key).toBeUndefined();
    expect(svc.snapshot().listen).toBe('127.0.0.1:8080');
  });

  it('rejects an invalid env override naming the variable', async () => {
    const error = await startError({ path: file, watch: false, env: { MCPPROXY_LISTEN: 'not an address' } });
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'listen' })]);
    expect(error.message).toContain('MCPPROXY_LISTEN');
  });

  it('returns a deep-frozen snapshot, the same object until the config changes', async () => {
    await writeFile(file, JSON.stringify({ mcpServers: [server('a')] }));
    const svc = await createConfigService({ path: file, watch: false, env: { MCPPROXY_API_KEY: 'k' } });
    await svc.close();
    const snap = svc.snapshot();
    expect(svc.snapshot()).toBe(snap);
    expect(Object.isFrozen(snap)).toBe(true);
    expect(Object.isFrozen(snap.features)).toBe(true);
    expect(Object.isFrozen(snap.mcpServers)).toBe(true);
    expect(Object.isFrozen(snap.mcpServers[0]?.args)).toBe(true);
    expect(() => {
      (snap as { tools_limit: number }).tools_limit = 1;
    }).toThrow(TypeError);
  });
});
