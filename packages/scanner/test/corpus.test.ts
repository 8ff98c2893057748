// Regression gate of issue 13 (not a timing): recall and false-positive rates on the whole labelled corpus.
import { describe, expect, it } from 'vitest';
import { loadCorpus, runCorpus, score } from '../bench/corpus.js';

const tuning = loadCorpus('tuning');
const holdout = loadCorpus('holdout');
const all = [...tuning, ...holdout];

describe('labelled corpus (issue 13)', () => {
  it('holds at least 150 definitions: 50+ malicious, 50+ benign, 50+ hard negatives, every check covered', () => {
    const by = (c: string) => all.filter((e) => e.class === c).length;
    expect(all.length).toBeGreaterThanOrEqual(150);
    expect(by('malicious')).toBeGreaterThanOrEqual(50);
    expect(by('benign')).toBeGreaterThanOrEqual(50);
    expect(by('hard_negative')).toBeGreaterThanOrEqual(50);
    const checks = new Set(all.flatMap((e) => e.expect.checks));
    expect([...checks].sort()).toEqual([
      'capability_mismatch',
      'directive',
      'embedded_secret',
      'encoded_payload',
      'hidden_unicode',
      'shadowing',
    ]);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });

  it('keeps a holdout of about 30% with every class in it', () => {
    expect(holdout.length / all.length).toBeGreaterThan(0.25);
    expect(holdout.length / all.length).toBeLessThan(0.35);
    expect(new Set(holdout.map((e) => e.class)).size).toBe(3);
  });

  it('catches at least 90% of malicious tools and blocks at most 5% of the rest (tool-poisoning regression gate)', () => {
    const figures = score(runCorpus(all));
    expect(figures.recall, figures.misses.join(', ')).toBeGreaterThanOrEqual(0.9);
    expect(figures.hardNegativeFpr, figures.falsePositives.join(', ')).toBeLessThanOrEqual(0.05);
    expect(figures.benignFpr, figures.falsePositives.join(', ')).toBeLessThanOrEqual(0.05);
  });
});
