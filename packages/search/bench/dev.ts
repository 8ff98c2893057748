// The dev set (issue 15): more agent-phrased queries over the frozen set's tools, written for tuning, so that the
// frozen set is measured, never designed against.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GradedQuery } from './frozen.js';

export function loadDevQueries(): GradedQuery[] {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'dev-queries.json');
  return JSON.parse(readFileSync(file, 'utf8')) as GradedQuery[];
}
