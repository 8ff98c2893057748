import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, type LiveServer, mcpproxy, startServer } from './cli-run.js';
import { MAIN } from './helpers.js';

// `watch` needs a terminal: it runs in a detached tmux pane, and the test reads the screen with capture-pane.
// (tooling/ci/system-deps.sh installs tmux; without it this test fails saying so.)

const sessions: string[] = [];
const servers: LiveServer[] = [];
afterEach(async () => {
  for (const socket of sessions.splice(0)) {
    try {
      execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  for (const s of servers.splice(0)) await s.close();
});

function tmux(socket: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

/** Starts `mcpproxy watch` in a 110x30 pane; returns a screen reader. */
function watchInTmux(url: string, env: Record<string, string> = {}) {
  const socket = `mcpproxy-watch-${process.pid}-${sessions.length}`;
  sessions.push(socket);
  const vars = Object.entries({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env })
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  // After watch exits the shell prints its exit code and waits, so the restored screen can be read.
  const command = `env -i ${vars} TERM=xterm-256color '${process.execPath}' '${MAIN}' watch --url ${url}; echo "WATCH-EXITED $?"; sleep 600`;
  tmux(socket, 'new-session', '-d', '-s', 'w', '-x', '110', '-y', '30', command);
  return {
    screen: () => tmux(socket, 'capture-pane', '-p', '-t', 'w'),
    escapes: () => tmux(socket, 'capture-pane', '-p', '-e', '-t', 'w'),
    send: (...keys: string[]) => tmux(socket, 'send-keys', '-t', 'w', ...keys),
  };
}

const post = (url: string, path: string, body?: unknown) =>
  fetch(`${url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('mcpproxy watch', () => {
  it('draws the servers live, redraws after a change, and restores the terminal on Ctrl+C', async () => {
    const server = await startServer({ mcpServers: [{ name: 'alpha', command: 'true', quarantined: true }] });
    servers.push(server);
    const pane = watchInTmux(server.url);
    await eventually(
      () => /● live/.test(pane.screen()) && /alpha\s+quarantined/.test(pane.screen()),
      15_000,
      'first frame',
    );
    // Colour on a terminal: the quarantined state is yellow.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour escapes
    expect(pane.escapes()).toMatch(/\x1b\[33mquarantined/);

    expect((await post(server.url, '/servers', { name: 'beta', command: 'true' })).status).toBe(201);
    await eventually(() => /beta\s+quarantined/.test(pane.screen()), 15_000, 'beta on screen');
    expect(pane.screen()).toMatch(/2 servers/);

    pane.send('C-c');
    await eventually(() => /WATCH-EXITED 0/.test(pane.screen()), 10_000, 'watch to exit');
    const after = pane.screen();
    expect(after).not.toContain('Ctrl+C to quit'); // the alternate screen is gone
    expect(after).not.toContain('alpha');
  });

  it('shows the connection state while the server is down, and uses no colour with NO_COLOR', async () => {
    const server = await startServer({ mcpServers: [{ name: 'alpha', command: 'true', quarantined: true }] });
    servers.push(server);
    const pane = watchInTmux(server.url, { NO_COLOR: '1' });
    await eventually(() => /● live/.test(pane.screen()), 15_000, 'first frame');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: colour escapes
    expect(pane.escapes()).not.toMatch(/\x1b\[3\dm/);
    await server.running.close();
    await eventually(() => /● reconnecting/.test(pane.screen()), 15_000, 'reconnecting on screen');
    pane.send('C-c');
    await eventually(() => /WATCH-EXITED 0/.test(pane.screen()), 10_000, 'watch to exit');
  });

  it('refuses to run without a terminal, pointing at events', async () => {
    const out = await mcpproxy(['watch', '--url', 'http://127.0.0.1:1']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('mcpproxy events');
  });
});
