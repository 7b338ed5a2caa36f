import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { prf } from './prf.ts';
import type { Counts } from './types.ts';

/** One resampling unit (a test document) scored under both formats. */
export interface PairedUnit {
  a: Counts;
  b: Counts;
}

export interface BootstrapOptions {
  iterations?: number;
  seed?: number;
  /** Confidence level of the percentile interval. */
  level?: number;
}

export interface BootstrapResult {
  units: number;
  iterations: number;
  seed: number;
  level: number;
  f1A: number;
  f1B: number;
  /** Observed micro F1(A) − F1(B). */
  delta: number;
  /** Percentile interval of the resampled deltas. */
  ci: [number, number];
  /**
   * One-sided p-value for "A beats B": (1 + #resamples with delta ≤ 0) / (1 + iterations), the
   * add-one form so that a finite number of resamples never claims p = 0.
   */
  pValue: number;
}

/**
 * Paired bootstrap over documents: each resample draws documents with replacement and scores
 * both formats on the same draw, so document difficulty cancels out. Micro F1 is recomputed
 * from summed counts in each resample, as the reported score is.
 */
export function pairedBootstrap(units: readonly PairedUnit[], options: BootstrapOptions = {}): BootstrapResult {
  const iterations = options.iterations ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  if (units.length === 0) throw new Error('paired bootstrap needs at least one document scored under both formats');
  if (!(iterations >= 1) || !Number.isInteger(iterations)) throw new Error(`iterations must be a positive integer, got ${iterations}`);
  if (!(level > 0 && level < 1)) throw new Error(`level must be between 0 and 1, got ${level}`);

  const f1 = (tp: number, fp: number, fn: number) => prf({ tp, fp, fn }).f1;
  const sum = (pick: (u: PairedUnit) => Counts) => {
    let tp = 0, fp = 0, fn = 0;
    for (const u of units) {
      const c = pick(u);
      tp += c.tp; fp += c.fp; fn += c.fn;
    }
    return f1(tp, fp, fn);
  };
  const f1A = sum((u) => u.a);
  const f1B = sum((u) => u.b);

  const rng = xoroshiro128plus(seed);
  const n = units.length;
  const deltas = new Float64Array(iterations);
  let notBetter = 0;
  for (let it = 0; it < iterations; it++) {
    let atp = 0, afp = 0, afn = 0, btp = 0, bfp = 0, bfn = 0;
    for (let k = 0; k < n; k++) {
      const u = units[uniformInt(rng, 0, n - 1)];
      atp += u.a.tp; afp += u.a.fp; afn += u.a.fn;
      btp += u.b.tp; bfp += u.b.fp; bfn += u.b.fn;
    }
    const d = f1(atp, afp, afn) - f1(btp, bfp, bfn);
    deltas[it] = d;
    if (d <= 0) notBetter++;
  }
  deltas.sort();
  const tail = (1 - level) / 2;
  return {
    units: n,
    iterations,
    seed,
    level,
    f1A,
    f1B,
    delta: f1A - f1B,
    ci: [quantile(deltas, tail), quantile(deltas, 1 - tail)],
    pValue: (1 + notBetter) / (1 + iterations),
  };
}

/** Linear interpolation between order statistics (the common "type 7" definition). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
