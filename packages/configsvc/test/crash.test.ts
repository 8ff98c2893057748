import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, parseConfig } from '@mcpproxy/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigService } from '../src/index.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const KILLS = 200;
const LANES = 2; // two children at a time: one per core

// Two configs of quite different sizes, so a torn write could not pass for either.
const A = {
  tools_limit: 20,
  mcpServers: Array.from({ length: 40 }, (_, i) => ({
    name: `server-${i}`,
    command: 'node',
    args: ['--flag', `value-${i}`.repeat(8)],
    env: { TOKEN: `t${i}`.repeat(16) },
  })),
};
const B = { tools_limit: 30, listen: '127.0.0.1:9999', mcpServers: [{ name: 'only', url: 'https://example.com/mcp' }] };

let cleanups: Array<() => Promise<void>> = [];
const running = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL'); // only if a failure left one behind
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

beforeAll(() => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`pnpm build\` before the crash-safety test`);
});

/** The exact text the service writes for A and for B (in-process, from the same code the child runs built). */
async function expectedTexts(dir: string): Promise<[string, string]> {
  const path = join(dir, 'expected.json');
  const svc = await createConfigService({ path, watch: false });
  try {
    const texts: string[] = [];
    for (const next of [A, B]) {
      const parsed = parseConfig(next);
      if (!parsed.ok) throw new Error('fixture does not validate');
      await svc.apply(parsed.value as Config);
      texts.push(await readFile(path, 'utf8'));
    }
    return texts as [string, string];
  } finally {
    await svc.close();
  }
}

interface Kill {
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
  /** Saves the child reported before it died. */
  saves: number;
}

/** Starts the child, waits until it has completed `saves` saves, waits `delayMs` more, then SIGKILLs it. */
function runAndKill(args: string[], saves: number, delayMs: number): Promise<Kill> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    // A child that never reports its saves must not outlive the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let lines = 0;
    let stderr = '';
    let armed = false;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const ch of chunk) if (ch === '\n') lines++;
      if (!armed && lines >= saves) {
        armed = true;
        // The one place a delay is the point: it moves the kill to a random instant of a later save.
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      running.delete(child);
      resolve({ code, signal, stderr, saves: lines });
    });
  });
}

describe('crash safety', () => {
  it(`leaves the old or the new config, never a torn one, across ${KILLS} SIGKILLs at random moments of saving`, async () => {
    let seed = Date.now() % 2 ** 31;
    const startSeed = seed;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };

    const lane = async (): Promise<number> => {
      const { dir, file, cleanup } = await tempDir();
      cleanups.push(cleanup);
      const [textA, textB] = await expectedTexts(dir);
      const aPath = join(dir, 'a.json');
      const bPath = join(dir, 'b.json');
      await writeFile(aPath, JSON.stringify(A));
      await writeFile(bPath, JSON.stringify(B));
      await writeFile(file, textA);
      let killedMidSave = 0;
      for (let i = 0; i < KILLS / LANES; i++) {
        const kill = await runAndKill([file, aPath, bPath], 1 + random(3), random(4));
        expect(kill.signal, `child died on its own (seed ${startSeed}):\n${kill.stderr}`).toBe('SIGKILL');
        expect(kill.saves).toBeGreaterThanOrEqual(1);
        const text = await readFile(file, 'utf8');
        expect(text === textA || text === textB, `kill ${i}: torn file (seed ${startSeed}):\n${text}`).toBe(true);
        if ((await readdir(dir)).some((name) => name.startsWith('.mcp_config.json.tmp-'))) killedMidSave++;
      }
      // The next start sweeps what the last kill left behind and loads the survivor.
      const svc = await createConfigService({ path: file, watch: false });
      await svc.close();
      expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
      expect([20, 30]).toContain(svc.snapshot().tools_limit);
      return killedMidSave;
    };

    const midSave = (await Promise.all(Array.from({ length: LANES }, lane))).reduce((a, b) => a + b, 0);
    // Proof the kills hit the window that matters: some landed between creating the temp file and the rename.
    expect(midSave, `no kill landed mid-save (seed ${startSeed})`).toBeGreaterThan(0);
    // ~30 s on an idle 2-core machine (each child spends ~250 ms of CPU starting Node and loading zod); the bound is
    // generous because a loaded CI box can take three times that.
  }, 300_000);
});
