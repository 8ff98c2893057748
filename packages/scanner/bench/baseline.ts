// The scanner as it was at an earlier commit, loaded beside the current one so that `pnpm bench` can time both in
// the same process, turn by turn (a busy machine slows both alike), and check that they give the same results.
// `SCANNER_BASELINE=<git ref> pnpm bench`: the ref's packages/scanner/src is extracted with `git archive` into a
// temporary directory and imported through tsx, like the current source. The source only imports types from other
// packages, so nothing else is needed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Scanner from '../src/index.js';

/** What the bench calls on either version. */
export type ScannerApi = Pick<typeof Scanner, 'createScanContext' | 'scanServer' | 'scanTool'>;

export interface Baseline {
  /** The ref as given, and the commit it names. */
  readonly label: string;
  readonly api: ScannerApi;
  dispose(): void;
}

/** Loads the scanner source of `ref`; throws if git cannot produce it. */
export async function loadBaseline(ref: string): Promise<Baseline> {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const root = git('rev-parse', '--show-toplevel');
  const commit = git('rev-parse', '--short', `${ref}^{commit}`);
  const dir = mkdtempSync(join(tmpdir(), 'scanner-baseline-'));
  try {
    const tar = execFileSync('git', ['-C', root, 'archive', '--format=tar', commit, 'packages/scanner/src'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    const api = (await import(pathToFileURL(join(dir, 'packages/scanner/src/index.ts')).href)) as ScannerApi;
    return {
      label: ref === commit ? commit : `${ref} = ${commit}`,
      api,
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
