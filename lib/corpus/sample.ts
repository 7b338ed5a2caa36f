/**
 * The paper's sampling (§4.4): per dataset at most 10,000 train, 200 dev and 300 test
 * examples, three seeded draws. A draw is a uniform sample without replacement (partial
 * Fisher–Yates), returned in corpus order; a split no larger than its cap is taken whole.
 */
import type { SplitName } from './genia.ts';
import { seededRandom } from './random.ts';

export const SAMPLE_CAPS: Readonly<Record<SplitName, number>> = Object.freeze({ train: 10_000, dev: 200, test: 300 });
export const DRAWS = [1, 2, 3] as const;

export function checkDraw(draw: number): void {
  if (!Number.isInteger(draw) || draw < 1) throw new RangeError(`draw must be a positive integer (the paper uses 1, 2, 3), got ${draw}`);
}

/** The key that seeds one draw; readable so users can reproduce it. */
export function sampleKey(dataset: string, split: SplitName, draw: number): string {
  return `mfner-sample:${dataset}:${split}:${draw}`;
}

/** Indices of a uniform sample of `cap` out of `n`, ascending. */
export function sampleIndices(n: number, cap: number, key: string): number[] {
  if (cap >= n) return Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(key);
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < cap; i++) {
    const j = i + random.below(n - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, cap).sort((a, b) => a - b);
}

export function sampleSplit<T>(
  docs: readonly T[],
  dataset: string,
  split: SplitName,
  draw: number,
  cap: number = SAMPLE_CAPS[split],
): T[] {
  checkDraw(draw);
  return sampleIndices(docs.length, cap, sampleKey(dataset, split, draw)).map((i) => docs[i]);
}
