// The dev sets (issue 15): more agent-phrased queries over the frozen set's tools, written for tuning, so that the
// frozen set is measured, never designed against.
// - dev-queries.json: tuned on, per query (`bench/quality.ts -v` prints its misses).
// - dev2-queries.json: a second dev set (63 queries), written in the third pass after reading the tool definitions
//   (their enums included) and the first dev set's misses; tuned on like the first.
// - blind-queries.json: written in one go before any change was measured on it; only its aggregates are read, so
//   it tells whether a change made on the dev set carries over to queries nobody designed against.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GradedQuery } from './frozen.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function loadDevQueries(): GradedQuery[] {
  return JSON.parse(readFileSync(join(fixtures, 'dev-queries.json'), 'utf8')) as GradedQuery[];
}

export function loadDev2Queries(): GradedQuery[] {
  return JSON.parse(readFileSync(join(fixtures, 'dev2-queries.json'), 'utf8')) as GradedQuery[];
}

export function loadBlindQueries(): GradedQuery[] {
  return JSON.parse(readFileSync(join(fixtures, 'blind-queries.json'), 'utf8')) as GradedQuery[];
}
