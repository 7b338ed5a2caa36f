/**
 * Seeded randomness that gives the same numbers on every machine and Node version: the seed
 * is a 32-bit FNV-1a hash of a readable key, the generator xoroshiro128+ (pure-rand).
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { fnv1a32 } from './pgx-split.ts';

export interface Random {
  /** An integer in [0, n). */
  below(n: number): number;
}

export function seededRandom(key: string): Random {
  const rng = xoroshiro128plus(fnv1a32(key));
  return { below: (n) => uniformInt(rng, 0, n - 1) };
}
