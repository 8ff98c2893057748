// A model-based fuzz target for a symlinked `mcp_config.json` (issue 16, defect 6): fuzzed layouts (linked at start
// or while running, chains of links, relative or absolute) and fuzzed sequences of hand edits of the target (in place
// or renamed over), API writes and relinks, through configsvc with its real file watch. Invariants: every hand edit
// of the current target is reloaded, every API write lands in the target with no CONFLICT, and the link stays a link.
import { lstat, mkdir, mkdtemp, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createConfigService } from '@mcpproxy/configsvc';
import { parseServerConfig, type ServerConfig } from '@mcpproxy/contracts';
import fc from 'fast-check';
import { type FuzzStats, type FuzzTarget, InvariantError, target } from './harness.js';

type Op = { kind: 'edit'; inPlace: boolean } | { kind: 'apply' } | { kind: 'relink'; relative: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.boolean().map((inPlace): Op => ({ kind: 'edit', inPlace })),
  fc.constant<Op>({ kind: 'apply' }),
  fc.boolean().map((rel): Op => ({ kind: 'relink', relative: rel })),
);

const layoutArb = fc.record({
  atStart: fc.boolean(),
  depth: fc.integer({ min: 1, max: 3 }),
  relative: fc.boolean(),
  ops: fc.array(opArb, { minLength: 1, maxLength: 4 }),
});

/** Bound of one wait for the watcher (debounce 20 ms; generous for a loaded machine). */
const WATCH_BOUND_MS = 8_000;

function server(name: string): ServerConfig {
  const parsed = parseServerConfig({ name, command: '/nonexistent/fuzz' });
  if (!parsed.ok) throw new Error(`bad server ${name}`);
  return parsed.value;
}

const fileOf = (names: readonly string[]) =>
  JSON.stringify({ mcpServers: names.map((name) => ({ name, command: '/nonexistent/fuzz' })) }, null, 2);

/** The symlink targets, run in scratch directories under `dir`. */
export function symlinkTargets({ dir, stats }: { dir: string; stats?: FuzzStats | undefined }): FuzzTarget<unknown>[] {
  const name = 'config: a symlinked config reloads edits of its target and saves through the link';
  const t = target(name, layoutArb, async ({ atStart, depth, relative: rel, ops }) => {
    const root = await mkdtemp(join(dir, 'link-'));
    const file = join(root, 'mcp_config.json');
    let targets = 0;
    let hops = 0;
    const what = `layout ${JSON.stringify({ atStart, depth, relative: rel, ops })}`;

    /** A config file in its own directory, as a dotfiles checkout holds it. */
    const newTarget = async (names: string[]) => {
      const d = join(root, `dotfiles-${targets++}`);
      await mkdir(d);
      const path = join(d, 'mcp_config.json');
      await writeFile(path, fileOf(names));
      return path;
    };
    /** Points `file` at `to` through `depth` links, each made in one step (a new link renamed over), like `ln -sfn`. */
    const link = async (to: string, relativeLinks: boolean) => {
      let next = to;
      for (let i = 1; i <= depth; i++) {
        const at = i === depth ? file : join(root, `hop-${hops++}`);
        const temp = `${at}.new-link`;
        await symlink(relativeLinks ? relative(root, next) : next, temp);
        await rename(temp, at);
        next = at;
      }
    };

    let current = ['start'];
    let real = await newTarget(current);
    if (atStart) await link(real, rel);
    else await writeFile(file, fileOf(['plain']));
    const svc = await createConfigService({ path: file, debounceMs: 20 });
    const names = () => svc.snapshot().mcpServers.map((s) => s.name);
    /** Waits (bounded) until the service's snapshot lists `want`, re-checking on each change it publishes. */
    const sees = (want: readonly string[], why: string) =>
      new Promise<void>((resolve, reject) => {
        const holds = () => JSON.stringify(names()) === JSON.stringify(want);
        if (holds()) return resolve();
        const timer = setTimeout(() => {
          off();
          reject(
            new InvariantError(
              `${why}: the config shows ${JSON.stringify(names())}, not ${JSON.stringify(want)}`,
              what,
            ),
          );
        }, WATCH_BOUND_MS);
        const off = svc.subscribe(() => {
          if (!holds()) return;
          clearTimeout(timer);
          off();
          resolve();
        });
      });
    const stillLink = async (why: string) => {
      if (!(await lstat(file)).isSymbolicLink())
        throw new InvariantError(`${why}: the link became a regular file`, what);
    };
    try {
      if (!atStart) {
        await sees(['plain'], 'loaded the plain file');
        await link(real, rel);
      }
      await sees(current, 'linked');
      for (const [i, op] of ops.entries()) {
        stats?.outcome(name, op.kind);
        if (op.kind === 'edit') {
          current = [...current, `edit-${i}`];
          if (op.inPlace) await writeFile(real, fileOf(current));
          else {
            await writeFile(`${real}.swp`, fileOf(current));
            await rename(`${real}.swp`, real);
          }
          await sees(current, `hand edit ${i} of the target`);
        } else if (op.kind === 'apply') {
          current = [...current, `api-${i}`];
          await svc
            .apply((draft) => {
              draft.mcpServers.push(server(`api-${i}`));
            })
            .catch((error: Error & { code?: string }) => {
              throw new InvariantError(`API write ${i} failed with ${error.code}: ${error.message}`, what);
            });
          await stillLink(`API write ${i}`);
          const saved = (JSON.parse(await readFile(real, 'utf8')) as { mcpServers: { name: string }[] }).mcpServers;
          if (!saved.some((s) => s.name === `api-${i}`))
            throw new InvariantError(`API write ${i} missed the target`, what);
        } else {
          current = [`relinked-${i}`];
          real = await newTarget(current);
          await link(real, op.relative);
          await sees(current, `relink ${i}`);
        }
        await stillLink(`after op ${i}`);
      }
    } finally {
      await svc.close();
    }
  });
  return [t] as FuzzTarget<unknown>[];
}
